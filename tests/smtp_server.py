"""A real SMTP server on 127.0.0.1 (aiosmtpd) whose answers a test scripts.

`rcpt_plan[address]` and `data_plan` are queues of reply codes consumed one per
command (a code of 250 means accept); an empty queue accepts. With `credentials`
set, AUTH is offered (without TLS, loopback only) and other logins are rejected.
`stop()` and `start()` give an outage on the same port.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

_TEXT = {451: "4.3.0 try again later", 550: "5.1.1 no such user", 554: "5.7.1 rejected"}


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class ScriptedHandler:
    rcpt_plan: dict[str, list[int]] = field(default_factory=dict)
    data_plan: list[int] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        plan = self.rcpt_plan.get(address) or []
        code = plan.pop(0) if plan else 250
        if code != 250:
            return f"{code} {_TEXT.get(code, 'refused')}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        code = self.data_plan.pop(0) if self.data_plan else 250
        if code != 250:
            return f"{code} {_TEXT.get(code, 'refused')}"
        self.delivered.append(
            Delivered(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.handler = ScriptedHandler()
        self.port = free_port()
        self.credentials = credentials
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {}
        if self.credentials:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=5.0, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        self.handler.logins.append((data.login, data.password))
        user, password = self.credentials
        ok = data.login == user.encode() and data.password == password.encode()
        return AuthResult(success=ok, handled=False)

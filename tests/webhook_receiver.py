"""A webhook receiver on 127.0.0.1 that verifies every Standard Webhooks signature.

Each request is recorded (headers, body, whether its signature verified with the
`standardwebhooks` package). Answers come from a queue of `Reply` values, then the
default: fail N times then accept, hang past the sender's deadline, 410, 302, 429
with Retry-After, or any status. `on_accept` runs after a 2xx answer has been
written, which is where a crash test kills the sender.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (hang past a deadline)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str = ""
    at: float = 0.0  # time.monotonic() when the request arrived

    @property
    def id(self) -> str:
        return self.headers.get("webhook-id", "")


class WebhookReceiver:
    def __init__(self, secret: str | None = None, default: Reply | None = None) -> None:
        self.secret = secret
        self.default = default or Reply()
        self.replies: list[Reply] = []
        self.requests: list[Received] = []
        self.on_accept: Callable[[Received], None] | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def fail(self, times: int, status: int = 500, **extra: Any) -> None:
        self.replies.extend(Reply(status=status, **extra) for _ in range(times))

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.verified]

    def count_by_id(self) -> Counter[str]:
        return Counter(r.id for r in self.requests)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            if not received.verified:
                return Reply(status=400, body=received.error.encode())
            return self.replies.pop(0) if self.replies else self.default

    def _verify(self, body: bytes, headers: dict[str, str]) -> tuple[bool, str]:
        if self.secret is None:
            return True, ""
        try:
            Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, ValueError) as exc:
            return False, str(exc)
        return True, ""


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok, error = receiver._verify(body, headers)
            received = Received(self.path, headers, body, ok, error, time.monotonic())
            reply = receiver._answer(received)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self._write(reply)
            except OSError:
                return  # the sender gave up waiting
            if 200 <= reply.status < 300 and receiver.on_accept:
                receiver.on_accept(received)

        def _write(self, reply: Reply) -> None:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

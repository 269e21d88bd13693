"""Email and Slack/Mattermost bodies from an alert document (pure).

Feed text is hostile. Headers: control characters, line breaks of every kind and
RFC 2047 encoded-word sequences (`=?...?=`) are removed before the text reaches
`email`, because CPython 3.11.7's generator can turn an encoded newline into a real
header line (CVE-2024-6923) and `email.policy.default` there has no
`verify_generated_headers`; then the serialized message is parsed back and must
carry exactly the expected header set. Bodies: every piece of text HTML-escaped,
links only when http(s), shown as text next to the anchor. Slack text escapes
`&`, `<`, `>` and breaks `@channel`-style mentions.
"""

from __future__ import annotations

import email.policy
import html
import re
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime

from monitor.alerts.payload import Payload, json_number
from monitor.alerts.summary import Line, summarize
from monitor.errors import DeliveryError
from monitor.parse.text import one_line, safe_link, strip_controls

SUBJECT_LIMIT = 150
EMAIL_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Monitor-Kind",
    "X-Monitor-Attempt",
    "MIME-Version",
    "Content-Type",
)
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[^?]*\?[^?]*\?=")
_MENTION = re.compile(r"@(channel|here|everyone|all)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def header_text(text: str, limit: int = SUBJECT_LIMIT) -> str:
    """`text` safe for a header: one line, no controls, no encoded words, truncated."""
    flat = strip_controls(str(text), keep_newlines=False)
    flat = _ENCODED_WORD.sub(" ", flat).replace("=?", "= ?").replace("?=", "? =")
    return one_line(flat, limit)


def has_header_fix() -> bool:
    """True when this Python refuses to generate injected headers (gh-121650 fixed)."""
    return hasattr(email.policy.default, "verify_generated_headers")


def render_email(
    document: Payload,
    *,
    sender: str,
    to: tuple[str, ...] | list[str],
    message_id_domain: str,
    now: datetime,
) -> EmailMessage:
    """A multipart/alternative message (text, HTML) for one alert document."""
    summary = summarize(document)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = header_text(summary.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{document['id']}@{message_id_domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Monitor-Kind"] = header_text(str(document.get("kind", "")), 20)
    msg["X-Monitor-Attempt"] = str(int(json_number(document.get("attempt", 1))))
    msg.set_content(_text_body(summary.lines), cte="quoted-printable")
    msg.add_alternative(
        _html_body(summary.subject, summary.lines), subtype="html", cte="quoted-printable"
    )
    return msg


def email_bytes(msg: EmailMessage) -> bytes:
    """The wire form, refused unless it carries exactly the expected headers."""
    data = msg.as_bytes(policy=email.policy.SMTP)
    parsed = message_from_bytes(data, policy=email.policy.default)
    names = sorted(k.lower() for k in parsed)  # a message iterates over its header names
    if names != sorted(h.lower() for h in EMAIL_HEADERS):
        raise DeliveryError("refused to send an email whose headers were altered", permanent=True)
    return data


def _text_body(lines: list[Line]) -> str:
    out: list[str] = []
    for line in lines:
        text = strip_controls(line.text, keep_newlines=False)
        link = safe_link(line.link) if line.link else None
        if line.quote:
            text = f"    “{text}”"
        out.append(f"{text} <{link}>" if link and text else (link or text))
    return "\n".join(out) + "\n"


def _html_body(subject: str, lines: list[Line]) -> str:
    parts = [f"<h2>{_esc(one_line(subject, SUBJECT_LIMIT))}</h2>"]
    for line in lines:
        parts.append(_html_line(line))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        f'<body style="font-family: sans-serif">\n{body}\n</body></html>\n'
    )


def _html_line(line: Line) -> str:
    text = _esc(line.text)
    link = safe_link(line.link) if line.link else None
    if link:
        href = _esc(link)
        text = f'{text} <a href="{href}">{href}</a>' if text else f'<a href="{href}">{href}</a>'
    if line.heading:
        return f"<h3>{text}</h3>"
    if line.quote:
        return f"<blockquote>{text}</blockquote>"
    if line.warning:
        return f'<p style="color: #a00"><strong>{text}</strong></p>'
    return f"<p>{text}</p>" if text else ""


def _esc(text: str) -> str:
    return html.escape(strip_controls(text, keep_newlines=False), quote=True)


def render_slack(document: Payload) -> dict[str, str]:
    """A Slack/Mattermost incoming-webhook body: {"text": mrkdwn}."""
    summary = summarize(document)
    out = [f"*{_mrkdwn(one_line(summary.subject, SUBJECT_LIMIT))}*"]
    for line in summary.lines:
        text = _mrkdwn(strip_controls(line.text, keep_newlines=False))
        link = safe_link(line.link) if line.link else None
        if link:
            target = link.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
            text = f"<{target}|{text or target}>"
        out.append(f">{text}" if line.quote else text)
    return {"text": "\n".join(out)}


def _mrkdwn(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub(lambda m: "@" + _WORD_JOINER + m.group(1), escaped)

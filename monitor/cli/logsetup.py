"""Log records as text, logfmt or JSON lines, to stderr or a file that logrotate may move.

The monitor's own messages are already `event=name key=value …` pairs; logfmt puts the
time, level and logger in front of them, and JSON turns each pair into a field, so a log
shipper can index `event`, `feed`, `kind` … without parsing text.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import time
from pathlib import Path
from typing import Literal

LogFormat = Literal["text", "logfmt", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "logfmt", "json")
_PAIR = re.compile(r"""(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


def message_fields(message: str) -> dict[str, str]:
    """The `key=value` pairs of a message (quoted values unquoted); the rest is dropped."""
    fields: dict[str, str] = {}
    for key, raw in _PAIR.findall(message):
        value = raw
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            value = raw[1:-1].replace("\\" + raw[0], raw[0])
        fields.setdefault(key, value)
    return fields


def _utc(seconds: float | None) -> time.struct_time:
    return time.gmtime(seconds)


class LogfmtFormatter(logging.Formatter):
    """One logfmt line per record: ts, level, logger, then the message's own pairs."""

    converter = staticmethod(_utc)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one logfmt line."""
        head = f"ts={self.formatTime(record, _TIME)} level={record.levelname.lower()}"
        line = f"{head} logger={record.name} {record.getMessage()}"
        if record.exc_info:
            line += " exc=" + json.dumps(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record, the message's key=value pairs as fields."""

    converter = staticmethod(_utc)

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object."""
        message = record.getMessage()
        document: dict[str, str] = {
            "ts": self.formatTime(record, _TIME),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message,
        }
        for key, value in message_fields(message).items():
            document.setdefault(key, value)
        if record.exc_info:
            document["exc"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def formatter(kind: LogFormat) -> logging.Formatter:
    """The formatter for `--log-format`: text, logfmt or JSON, times in UTC."""
    if kind == "json":
        return JsonFormatter()
    if kind == "logfmt":
        return LogfmtFormatter()
    text = logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s", _TIME)
    text.converter = _utc
    return text


def configure_logging(
    verbose: int, quiet: int, kind: LogFormat = "text", file: Path | None = None
) -> None:
    """Root logging for a command: level from -v/-q, one handler in the chosen format."""
    level = logging.INFO - 10 * verbose + 10 * quiet
    handler: logging.Handler
    if file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.WatchedFileHandler(file, encoding="utf-8")
    handler.setFormatter(formatter(kind))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.DEBUG, min(logging.CRITICAL, level)))
    for noisy in ("apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

"""Where a secret lives (an environment variable or a file), never the secret itself.

The value is read at send time, so a config object can be printed, logged or dumped
by `monitor config check` without carrying a password. A missing or empty secret is
a retryable delivery error: the operator can set it and the queued alert still goes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import DeliveryError


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A reference to a secret: `env` (variable name) or `file` (path), and the config key."""

    key: str
    env: str = ""
    file: Path | None = None
    credential: str = ""  # a systemd credential: $CREDENTIALS_DIRECTORY/<name>

    def resolve(self) -> str:
        """The secret's value; DeliveryError (retryable) when it is not available."""
        if self.credential:
            folder = os.environ.get("CREDENTIALS_DIRECTORY", "")
            if not folder:
                raise DeliveryError(
                    f"{self.key}: CREDENTIALS_DIRECTORY is not set "
                    "(systemd sets it for a unit with LoadCredential=)"
                )
            return self._read_file(Path(folder) / self.credential)
        if self.env:
            value = os.environ.get(self.env, "")
            if not value:
                raise DeliveryError(
                    f"{self.key}: environment variable {self.env} is not set or empty"
                )
            return value
        if self.file is None:
            raise DeliveryError(f"{self.key}: no secret configured")
        return self._read_file(self.file)

    def _read_file(self, path: Path) -> str:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DeliveryError(f"{self.key}: cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise DeliveryError(f"{self.key}: {path} is not UTF-8 text") from None
        if not value:
            raise DeliveryError(f"{self.key}: {path} is empty")
        return value

    def describe(self) -> str:
        """Where the secret comes from, for config dumps: never its value."""
        if self.credential:
            return f"credential:{self.credential}"
        return f"env:{self.env}" if self.env else f"file:{self.file}"

    def __repr__(self) -> str:
        return f"SecretRef({self.describe()})"

    __str__ = __repr__

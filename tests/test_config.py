"""Loading and validating the TOML configuration."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.errors import ConfigError
from tests.conftest import REPO

RULES = REPO / "config" / "rules.toml"


def _write(tmp_path: Path, text: str) -> Path:
    shutil.copy(RULES, tmp_path / "rules.toml")
    path = tmp_path / "monitor.toml"
    path.write_text(text)
    return path


def test_config_default_file_loads() -> None:
    """The shipped config/monitor.toml is valid and names the three official feeds."""
    config = load_config(REPO / "config" / "monitor.toml")
    assert [f.name for f in config.feeds] == ["kremlin-en", "kremlin-ru", "whitehouse"]
    assert config.storage_path == (REPO / "config" / "monitor.db").resolve()
    assert not config.fetch.allow_private_networks


def test_config_relative_paths_follow_the_file(tmp_path: Path) -> None:
    """storage.path and signals.rules are relative to the config file's folder."""
    path = _write(tmp_path, '[storage]\npath = "data/m.db"\n')
    config = load_config(path)
    assert config.storage_path == tmp_path / "data" / "m.db"
    assert config.signals.rules_path == tmp_path / "rules.toml"


def test_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    """Several mistakes give one error listing each with file, key and a fix."""
    path = _write(
        tmp_path,
        """
[fetch]
timeout = -1
colour = "red"

[[feeds]]
name = "a"
url = "file:///etc/passwd"
interval = "soon"
lang = "de"
""",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = {p.key for p in info.value.problems}
    assert keys == {
        "fetch.timeout",
        "fetch.colour",
        "feeds[0].url",
        "feeds[0].interval",
        "feeds[0].lang",
    }
    assert all(p.file == str(path) and p.fix for p in info.value.problems)


def test_config_syntax_error_names_the_file(tmp_path: Path) -> None:
    """Invalid TOML is reported with the file and the parser's position."""
    path = _write(tmp_path, "[fetch\ntimeout = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_config_duplicate_feed_names_refused(tmp_path: Path) -> None:
    """Two feeds with one name are a problem (their state would be mixed)."""
    feed = '[[feeds]]\nname = "x"\nurl = "https://example.org/feed"\n'
    with pytest.raises(ConfigError, match="duplicate feed name"):
        load_config(_write(tmp_path, feed + feed))


def test_config_interval_and_types(tmp_path: Path) -> None:
    """Durations accept 45s/10m/2h; numbers where strings belong are refused."""
    path = _write(
        tmp_path,
        """
[[feeds]]
name = "x"
url = "https://example.org/feed"
interval = "2h"
""",
    )
    assert load_config(path).feeds[0].interval == 7200
    with pytest.raises(ConfigError, match="duration string"):
        load_config(_write(tmp_path, path.read_text().replace('"2h"', "600")))


def test_config_warns_about_readable_secret_file_paths(tmp_path: Path) -> None:
    """A config naming secret files that others can read gets a chmod 600 warning."""
    path = _write(
        tmp_path,
        """
[alerts.email]
host = "127.0.0.1"
port = 2525
security = "none"
from = "m@example.org"
to = ["a@example.org"]
username = "monitor"
password_file = "secret.txt"
""",
    )
    path.chmod(0o644)
    assert any("chmod 600" in w for w in load_config(path).warnings)
    path.chmod(0o600)
    assert load_config(path).warnings == ()


def test_config_packaged_defaults_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run elsewhere, the packaged defaults load and keep the database in the data folder."""
    from monitor.config.load import resolve_config_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path, packaged = resolve_config_path(None)
    assert packaged
    assert path.name == "monitor.toml"
    assert path.read_bytes() == (REPO / "config" / "monitor.toml").read_bytes()
    config = load_config(path, packaged=True)
    assert config.storage_path == tmp_path / "data" / "diplomatic-signal-monitor" / "monitor.db"
    assert config.signals.rules_path.is_file()


def test_config_outlook_holds_and_window(tmp_path: Path) -> None:
    """[outlook] holds are whole days; the window comes from [daemon] outlook_window."""
    path = _write(tmp_path, '[outlook]\nhigh_hold = "10d"\n[daemon]\noutlook_window = "45d"\n')
    outlook = load_config(path).outlook
    assert (outlook.high_days, outlook.elevated_days, outlook.watch_days) == (10, 21, 14)
    assert outlook.window_days == 45


def test_config_outlook_problems_reported_at_once(tmp_path: Path) -> None:
    """Bad holds and unknown [outlook] keys are all named, each with a fix."""
    path = _write(
        tmp_path,
        '[outlook]\nhigh_hold = "36h"\nwatch_hold = 14\nelevated_hold = "400d"\nthreshold = 3\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    for key in (
        "outlook.high_hold",
        "outlook.watch_hold",
        "outlook.elevated_hold",
        "outlook.threshold: unknown key",
    ):
        assert key in text, text
    assert text.count("fix:") >= 4

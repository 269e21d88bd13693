"""Every hostile or odd document goes through parse_feed in a memory-capped child process.

Only ParseError may come out of `parse_feed`; each file must finish within a time
budget; a file that crashes or hangs its worker is named, and the sweep carries on.
Run as `python -m tests.test_parse_corpora --worker` this module is the worker: it
reads paths on stdin and writes one JSON line per file on stdout.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, needs_shared

CORPORA = SHARED / "corpora"
SKIPPED_NAMES = frozenset({".htaccess", "LICENSE", "SOURCE.txt"})
ADDRESS_SPACE_LIMIT = 1536 * 1024 * 1024  # 1.5 GiB per worker
FILE_BUDGET_SECONDS = 5.0
WORKER_TIMEOUT_SECONDS = 120.0
_ACTIVE = re.compile(r"<script|javascript:", re.IGNORECASE)
_HEADER = re.compile(rb"^\s*Header:\s*([A-Za-z-]+):[ \t]*([^\r\n]*)", re.MULTILINE)

# The corpus files that declare entities or an internal DTD subset (found by reading them).
EXPECTED_REFUSED = frozenset(
    {
        "defusedxml/xmltestdata/cyclic.xml",
        "defusedxml/xmltestdata/dtd_element.xml",
        "defusedxml/xmltestdata/external.xml",
        "defusedxml/xmltestdata/external_file.xml",
        "defusedxml/xmltestdata/quadratic.xml",
        "defusedxml/xmltestdata/xmlbomb.xml",
        "defusedxml/xmltestdata/xmlbomb2.xml",
        "feedparser/wellformed/rdf/doctype_contains_entity_decl.xml",
        "feedparser/wellformed/rss/entity_in_doctype.xml",
        "w3c-feedvalidator/rss/should/system_entity.xml",
        "w3c-feedvalidator/rss/should/system_entity_http.xml",
    }
)


# Its content is the *escaped* text `<![CDATA[<script></script>]]&gt;`: an unterminated
# marked section that html.parser keeps as text, so the plain text reads "<![CDATA[<script>]]>".
# That is data, not markup (renderers escape it); no script element survives.
PLAIN_TEXT_LOOKALIKES = frozenset({"item_content_encoded_script_nested_cdata.xml"})


@dataclass(frozen=True)
class Outcome:
    path: str
    outcome: str  # parsed | not_a_feed | refused | escaped | crashed
    seconds: float
    warning: bool = False
    items: int = 0
    detail: str = ""
    active_markup: bool = False  # an item's text still holds `<script` or `javascript:`


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPORA.rglob("*") if p.is_file() and p.name not in SKIPPED_NAMES)


def sweep(paths: list[Path]) -> list[Outcome]:
    """Parse `paths` in worker processes, restarting after any file that kills one."""
    outcomes: list[Outcome] = []
    remaining = [str(p) for p in paths]
    while remaining:
        done = _run_worker(remaining)
        outcomes.extend(done)
        remaining = remaining[len(done) :]
        if remaining:  # the worker died or timed out on the next file
            culprit = remaining.pop(0)
            outcomes.append(Outcome(culprit, "crashed", 0.0, detail="worker died or timed out"))
    return outcomes


def _run_worker(paths: list[str]) -> list[Outcome]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tests.test_parse_corpora", "--worker"]
    try:
        proc = subprocess.run(
            command, input="\n".join(paths), capture_output=True, text=True,
            timeout=WORKER_TIMEOUT_SECONDS, cwd=REPO, env=env, check=False,
        )  # fmt: skip
        stdout = proc.stdout
    except subprocess.TimeoutExpired as expired:
        raw = expired.stdout or b""
        stdout = raw.decode() if isinstance(raw, bytes) else raw
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return [Outcome(**json.loads(line)) for line in lines]


# --- worker side -------------------------------------------------------------------------


def _headers_of(data: bytes) -> dict[str, str]:
    """HTTP headers stated in a feedparser corpus comment (`Header: Content-type: ...`)."""
    found = {}
    for name, value in _HEADER.findall(data[:4096]):
        found[name.decode("ascii").lower()] = value.decode("latin-1").strip()
    return found


def _parse_one(path: str) -> Outcome:
    from monitor.errors import ParseError
    from monitor.parse.feed import parse_feed

    data = Path(path).read_bytes()
    headers = _headers_of(data)
    started = time.perf_counter()
    try:
        feed = parse_feed(
            data,
            feed_lang="en",
            content_type=headers.get("content-type"),
            base_url=headers.get("content-location"),
        )
    except ParseError as exc:
        outcome = "refused" if exc.kind == "parse" else "not_a_feed"
        return Outcome(path, outcome, time.perf_counter() - started, detail=exc.message)
    except BaseException as exc:
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Outcome(path, "escaped", time.perf_counter() - started, detail=detail)
    seconds = time.perf_counter() - started
    active = any(_ACTIVE.search(i.title + i.summary + i.body) for i in feed.items)
    return Outcome(path, "parsed", seconds, feed.warning is not None, len(feed.items), "", active)


def worker_main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    for path in sys.stdin.read().splitlines():
        result = _parse_one(path)
        print(json.dumps(result.__dict__), flush=True)


# --- tests -------------------------------------------------------------------------------


def _relative(path: str) -> str:
    return Path(path).relative_to(CORPORA).as_posix()


def _report(outcomes: list[Outcome], elapsed: float) -> str:
    counts = Counter(o.outcome for o in outcomes)
    warned = sum(1 for o in outcomes if o.warning)
    slowest = max(outcomes, key=lambda o: o.seconds)
    return (
        f"corpus sweep: {len(outcomes)} files in {elapsed:.1f} s: {counts['parsed']} parsed"
        f" ({warned} with warning), {counts['not_a_feed']} not a feed, {counts['refused']}"
        f" refused, {counts['escaped']} escaped, {counts['crashed']} crashed; slowest"
        f" {slowest.seconds:.2f} s ({_relative(slowest.path)})"
    )


@pytest.mark.slow
@needs_shared
def test_parse_corpora_sweep_no_exception_escapes_within_budget() -> None:
    """Every corpus file ends as parsed, not a feed or refused, each within 5 s, memory-capped."""
    files = corpus_files()
    started = time.monotonic()
    outcomes = sweep(files)
    elapsed = time.monotonic() - started
    print("\n" + _report(outcomes, elapsed))
    bad = [o for o in outcomes if o.outcome in ("escaped", "crashed")]
    assert not bad, [(o.path, o.outcome, o.detail) for o in bad]
    assert len(outcomes) == len(files) > 5_000
    slow = [(o.path, round(o.seconds, 2)) for o in outcomes if o.seconds > FILE_BUDGET_SECONDS]
    assert not slow
    refused = {_relative(o.path) for o in outcomes if o.outcome == "refused"}
    assert refused == EXPECTED_REFUSED
    assert sum(o.outcome == "parsed" for o in outcomes) > 4_000
    sanitize = [o for o in outcomes if "/wellformed/sanitize/" in o.path]
    active = {Path(o.path).name for o in sanitize if o.active_markup}
    assert len(sanitize) > 700
    assert active <= PLAIN_TEXT_LOOKALIKES


@needs_shared
def test_parse_corpora_defusedxml_bombs_are_refused_before_parsing() -> None:
    """Billion laughs, quadratic, cyclic, external entities and DTDs never reach feedparser."""
    folder = CORPORA / "defusedxml" / "xmltestdata"
    outcomes = {Path(o.path).name: o for o in sweep(sorted(folder.iterdir()))}
    for name in ("xmlbomb.xml", "xmlbomb2.xml", "quadratic.xml", "cyclic.xml",
                 "external.xml", "external_file.xml", "dtd_element.xml"):  # fmt: skip
        assert outcomes[name].outcome == "refused", outcomes[name]
        assert outcomes[name].seconds < 0.5
    assert outcomes["dtd.xml"].outcome == "not_a_feed"  # an XHTML page with an external DTD


def _quadratic(references: int) -> bytes:
    entity = b"B" * 100_000
    return (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + entity + b'">]>'
        b'<rss version="2.0"><channel><title>' + b"&a;" * references + b"</title></channel></rss>"
    )


def test_parse_corpora_generated_hostile_inputs_in_capped_child(tmp_path: Path) -> None:
    """A 20,000-reference quadratic blowup, path bodies and an HTML page end cleanly, fast."""
    cases = {
        "quadratic-20000.xml": (_quadratic(20_000), "refused"),
        "dev-zero.txt": (b"/dev/zero", "not_a_feed"),
        "etc-hostname.txt": (b"/etc/hostname", "not_a_feed"),
        "login.html": (
            b"<!DOCTYPE html><html><head><title>Log in</title></head><body><form>"
            b"<input name=user><input type=password></form></body></html>",
            "not_a_feed",
        ),
    }
    for name, (body, _) in cases.items():
        (tmp_path / name).write_bytes(body)
    outcomes = sweep([tmp_path / name for name in cases])
    assert {Path(o.path).name: o.outcome for o in outcomes} == {
        name: expected for name, (_, expected) in cases.items()
    }
    assert all(o.seconds < 1.0 for o in outcomes), outcomes


def test_parse_corpora_worker_survives_and_names_a_crashing_file(tmp_path: Path) -> None:
    """A file the worker cannot even read is reported and the sweep continues after it."""
    good = tmp_path / "good.xml"
    good.write_bytes(b'<rss version="2.0"><channel><item><guid>1</guid></item></channel></rss>')
    missing = tmp_path / "missing.xml"  # reading it raises in the worker, outside parse_feed
    outcomes = sweep([good, missing, good])
    assert [o.outcome for o in outcomes] == ["parsed", "crashed", "parsed"]
    assert outcomes[1].path == str(missing)


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    worker_main()

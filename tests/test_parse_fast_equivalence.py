"""The fast reader refuses a document or yields exactly feedparser's items: every corpus file.

Every file of `../shared/corpora/`, the real feed fixtures and `../shared/feeds/` go through
`parse_feed` twice in a memory-capped child process, once with `reader="feedparser"` (the
reference) and once with `reader="fast"`, each as served (the corpus's `Header:` lines
give the content type and base URL) and again under an XML content type with a base URL,
so relative links are resolved too. Where the fast reader does not refuse, the two
results must be equal in everything `parse_feed` returns: each item's key and key kind,
URL, title, published date, summary and body after cleaning, language and content hash;
the feed title, the warning and the truncation flag; or the same ParseError kind (the
guard in front of both readers refused the document: "guarded").
The differences that remain are listed one by one, with the reason, in
`tests/fixtures/parse_fast_differences.json`; a new one (or one that went away) fails.
Run as `python -m tests.test_parse_fast_equivalence --worker`, this module is the worker.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, REPO, SHARED, needs_shared

EXPECTED = FIXTURES / "parse_fast_differences.json"
ADDRESS_SPACE_LIMIT = 1536 * 1024 * 1024
WORKER_TIMEOUT_SECONDS = 600.0
BASE_VARIANT = ("application/xml", "http://example.org/news/feeds/all.xml")
ITEM_FIELDS = (
    "key", "key_kind", "url", "title", "published", "summary", "body", "lang", "content_hash",
)  # fmt: skip


def documents() -> list[Path]:
    from tests.test_parse_corpora import corpus_files

    fixtures = sorted(FIXTURES.glob("*.xml")) + sorted((SHARED / "feeds").glob("*.xml"))
    return corpus_files() + fixtures


def label(path: Path) -> str:
    """A stable name for a document: relative to the corpora, else to the repository."""
    for root, prefix in ((SHARED / "corpora", ""), (SHARED, "shared/"), (REPO, "")):
        if path.is_relative_to(root):
            return prefix + path.relative_to(root).as_posix()
    return str(path)


# --- worker side -------------------------------------------------------------------------


def _outcome(result: Any) -> dict[str, Any]:
    """What parse_feed returned, as plain data that compares field by field."""
    from monitor.errors import ParseError

    if isinstance(result, ParseError):
        return {"error": str(result.kind)}
    items = [{name: getattr(item, name) for name in ITEM_FIELDS} for item in result.items]
    return {
        "title": result.title, "warning": result.warning, "truncated": result.truncated,
        "items": items,
    }  # fmt: skip


def _differing_fields(fast: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    if "error" in fast or "error" in reference:  # the guard refused (both), or one reader
        return [] if fast.get("error") == reference.get("error") else ["outcome"]
    fields = {key for key in ("title", "warning", "truncated") if fast[key] != reference[key]}
    if len(fast["items"]) != len(reference["items"]):
        fields.add("item count")
    for mine, theirs in zip(fast["items"], reference["items"], strict=False):
        fields.update(name for name in ITEM_FIELDS if mine[name] != theirs[name])
    return sorted(fields)


def _run(data: bytes, content_type: str | None, base_url: str | None, reader: str) -> Any:
    from monitor.errors import ParseError
    from monitor.parse.feed import parse_feed

    try:
        return parse_feed(
            data, feed_lang="en", content_type=content_type, base_url=base_url,
            reader=reader,  # type: ignore[arg-type]
        )  # fmt: skip
    except ParseError as exc:
        return exc


def compare(path: Path) -> list[dict[str, Any]]:
    """Both readers on one file, as served and with a base URL."""
    from monitor.parse.fast import Unsupported
    from tests.test_parse_corpora import _headers_of

    data = path.read_bytes()
    headers = _headers_of(data)
    variants = {
        "served": (headers.get("content-type"), headers.get("content-location")),
        "with base": BASE_VARIANT,
    }
    rows = []
    for variant, (content_type, base_url) in variants.items():
        reference = _outcome(_run(data, content_type, base_url, "feedparser"))
        try:
            fast = _outcome(_run(data, content_type, base_url, "fast"))
        except Unsupported as refusal:
            rows.append({"variant": variant, "outcome": "refused", "detail": str(refusal)})
            continue
        fields = _differing_fields(fast, reference)
        outcome = "different" if fields else "guarded" if "error" in fast else "equal"
        rows.append({"variant": variant, "outcome": outcome, "fields": fields})
    return rows


def worker_main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    for line in sys.stdin.read().splitlines():
        path = Path(line)
        for row in compare(path):
            print(json.dumps({"path": label(path), **row}), flush=True)


# --- tests -------------------------------------------------------------------------------


def sweep(paths: list[Path]) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_parse_fast_equivalence", "--worker"],
        input="\n".join(str(p) for p in paths), capture_output=True, text=True,
        timeout=WORKER_TIMEOUT_SECONDS, cwd=REPO, env=env, check=False,
    )  # fmt: skip
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, proc.stderr[-2000:]
    return rows


def expected_differences() -> dict[tuple[str, str], list[str]]:
    listed = json.loads(EXPECTED.read_text(encoding="utf-8"))["differences"]
    assert all(entry["reason"].strip() for entry in listed), "every difference needs a reason"
    return {(entry["path"], entry["variant"]): sorted(entry["fields"]) for entry in listed}


@pytest.mark.slow
@needs_shared
def test_parse_fast_equivalence_every_document_refused_or_equal() -> None:
    """Over the corpora and real feeds, the fast reader refuses or equals feedparser."""
    paths = documents()
    rows = sweep(paths)
    assert len(rows) == 2 * len(paths) > 11_000
    found = {(r["path"], r["variant"]): r["fields"] for r in rows if r["outcome"] == "different"}
    assert found == expected_differences()
    counts = Counter(r["outcome"] for r in rows)
    print(f"\nfast reader over {len(paths)} documents x 2: {dict(counts)}")
    # The fast reader must keep doing its job: most feeds feedparser reads are read fast.
    assert counts["equal"] > 5_000


@needs_shared
def test_parse_fast_equivalence_real_feeds_are_read_fast() -> None:
    """The real Kremlin and White-House-style feeds take the fast path and equal feedparser."""
    paths = sorted(FIXTURES.glob("*.xml")) + sorted((SHARED / "feeds").glob("*.xml"))
    rows = sweep(paths)
    assert len(rows) == 2 * len(paths) >= 6
    assert {r["outcome"] for r in rows} == {"equal"}, rows


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    worker_main()

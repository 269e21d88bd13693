"""Export formats round-trip; archived JSON Lines become ParsedItems like the parser's."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from monitor.parse.feed import content_hash
from monitor.pipeline.importer import guess_lang, item_from_json, read_items
from tests.review_fixtures import Row, Sig, build_db, invoke, realistic_rows


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    rows = realistic_rows()
    rows.append(
        Row(
            '=HYPERLINK("http://evil")',
            "x",
            first_seen="2025-08-09T00:00:00Z",
            signals=[Sig("leader_call", ("x",))],
        )
    )
    build_db(path, rows)
    return path


def export(db: Path, *args: str) -> str:
    result = invoke(db, ["export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_review_export_json_and_jsonl_agree(db: Path) -> None:
    """json is one array, jsonl one object per line, with the same rows oldest first."""
    as_json = json.loads(export(db, "--format", "json"))
    as_jsonl = [json.loads(line) for line in export(db, "--format", "jsonl").splitlines()]
    assert as_json == as_jsonl
    assert [r["id"] for r in as_json] == [1, 2, 3, 4, 5, 6, 7]
    first = as_json[0]
    assert first["signal_types"] == ["leader_call", "summit_planning"]
    assert first["signals"][1]["spans"]
    assert first["signals"][1]["rule"] == "summit_planning.test"


def test_review_export_csv_round_trips(db: Path) -> None:
    """CSV cells read back to the JSON export's values (evidence as a JSON cell)."""
    as_json = json.loads(export(db, "--format", "json"))
    rows = list(csv.DictReader(io.StringIO(export(db, "--format", "csv"))))
    assert len(rows) == len(as_json)
    for back, original in zip(rows[:6], as_json[:6], strict=True):
        assert int(back["id"]) == original["id"]
        assert back["title"] == original["title"]
        assert float(back["score"]) == original["score"]
        assert back["signal_types"].split() == original["signal_types"]
        assert json.loads(back["signals"]) == original["signals"]
        assert (back["url"] or None) == original["url"]


def test_review_export_csv_neutralises_formulas(db: Path) -> None:
    """A title a spreadsheet would run as a formula is exported with a leading apostrophe."""
    rows = list(csv.DictReader(io.StringIO(export(db, "--format", "csv"))))
    assert rows[-1]["title"] == '\'=HYPERLINK("http://evil")'


def test_review_export_filters_and_output_file(db: Path, tmp_path: Path) -> None:
    """--status and --since narrow the export; --output writes a file."""
    out = tmp_path / "flags.jsonl"
    invoke(db, ["export", "--status", "reviewed", "--output", str(out)])
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [5]
    recent = json.loads(export(db, "--format", "json", "--since", "3d"))
    assert [r["id"] for r in recent] == [6, 7]


def test_review_import_line_becomes_parsed_item() -> None:
    """id is the key, text the body, summary empty, hash like the parser's, date normalised."""
    item = item_from_json(
        {
            "id": "kremlin-1",
            "url": "http://en.kremlin.ru/x",
            "title": " T ",
            "text": "Body\x1b[2J text",
            "published": "2021-06-16",
        }
    )
    assert (item.key, item.key_kind, item.url) == ("kremlin-1", "guid", "http://en.kremlin.ru/x")
    assert (item.title, item.body, item.summary) == ("T", "Body text", "")
    assert item.published == "2021-06-16T00:00:00Z"
    assert item.content_hash == content_hash("T", "", "Body text")
    assert item.lang == "en"


def test_review_import_key_falls_back_to_url_then_hash() -> None:
    """Without id the normalised link is the key; without a link, a hash of title and date."""
    by_url = item_from_json(
        {
            "url": "HTTPS://WWW.WhiteHouse.gov/a#frag",
            "title": "t",
            "text": "",
            "published": "2021-06-16T10:00:00+02:00",
        }
    )
    assert (by_url.key, by_url.key_kind) == ("https://www.whitehouse.gov/a", "link")
    assert by_url.published == "2021-06-16T08:00:00Z"
    by_hash = item_from_json(
        {"url": "javascript:alert(1)", "title": "t", "text": "", "published": "2021-06-16"}
    )
    assert by_hash.key_kind == "hash"
    assert by_hash.url is None


def test_review_import_bad_lines_named_rest_kept() -> None:
    """Each bad line is reported with its number; good lines are still read."""
    lines = [
        json.dumps({"title": "ok", "text": "a", "published": "2021-01-01", "lang": "ru"}),
        "{not json",
        json.dumps({"title": "no date", "text": "a"}),
        "",
        json.dumps(["a list"]),
        json.dumps({"title": 5, "text": "a", "published": "2021-01-01"}),
        json.dumps({"title": "bad date", "text": "a", "published": "yesterday"}),
        json.dumps({"title": "Встреча", "text": "Переговоры в Женеве", "published": "2021-06-16"}),
    ]
    items, errors = read_items(lines)
    assert [i.title for i in items] == ["ok", "Встреча"]
    assert [i.lang for i in items] == ["ru", "ru"]
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 3", "line 5", "line 6", "line 7"]
    assert "published" in errors[1]
    assert "title" in errors[3]


def test_review_import_guess_lang() -> None:
    """Cyrillic text is Russian, Latin text English."""
    assert guess_lang("Путин провёл переговоры with Trump") == "ru"
    assert guess_lang("Putin and Trump") == "en"

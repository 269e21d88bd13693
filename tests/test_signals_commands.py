"""The score, eval and rules commands, run through click like the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import click
from click.testing import CliRunner

from monitor.cli.signals import COMMANDS
from monitor.signals import RuleSet, load_rules

TINY = Path(__file__).resolve().parent / "fixtures" / "signals" / "tiny_rules.toml"


class FakeApp:
    """Stands in for monitor.app.App: only `rules()` is used by these commands."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rules(self) -> RuleSet:
        return load_rules(self.path)


def make_cli(path: Path = TINY) -> click.Group:
    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        ctx.obj = FakeApp(path)

    for command in COMMANDS:
        cli.add_command(command)
    return cli


ITEMS = [
    {"id": "a", "title": "Call", "text": "President Biden spoke with President Putin."},
    {"id": "b", "title": "Weather", "text": "Sunny.", "lang": "en"},
]


def test_commands_score_json_one_line_per_item_in_order() -> None:
    """`score --json` writes one JSON object per item, in input order, with evidence."""
    data = "\n".join(json.dumps(i) for i in ITEMS) + "\n"
    result = CliRunner().invoke(make_cli(), ["score", "--json", "-"], input=data)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["flagged"] is True
    assert rows[1]["flagged"] is False
    signal = rows[0]["signals"][0]
    assert signal["type"] == "leader_call"
    assert signal["rule"] == "call"
    document = "Call\n\n" + ITEMS[0]["text"]
    assert [document[a:b] for a, b in signal["spans"]] == signal["terms"]


def test_commands_score_bad_line_named_rest_scored_exit_1() -> None:
    """A bad line is reported with its number on stderr; the others are still scored."""
    data = (
        json.dumps(ITEMS[0])
        + "\n{not json\n"
        + json.dumps({"id": 3, "text": 5})
        + "\n"
        + json.dumps(ITEMS[1])
        + "\n"
    )
    result = CliRunner().invoke(make_cli(), ["score", "--json"], input=data)
    assert result.exit_code == 1
    assert "line 2:" in result.stderr
    assert "line 3:" in result.stderr
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["a", "b"]


def test_commands_score_human_output_strips_controls() -> None:
    """Human output never passes control or bidi characters from the input."""
    item = {"id": "x\x1b[31m\u202eevil", "title": "", "text": "Biden spoke with Putin."}
    result = CliRunner().invoke(make_cli(), ["score"], input=json.dumps(item) + "\n")
    assert result.exit_code == 0
    assert "\x1b" not in result.output
    assert "\u202e" not in result.output
    assert "FLAG" in result.output


def test_commands_eval_prints_figures_and_errors(tmp_path: Path) -> None:
    """`eval` prints precision/recall/F1 overall, per language and type, then FP and FN."""
    rows = [
        dict(ITEMS[0], label=1, signal="leader_call", lang="en"),
        dict(ITEMS[1], label=1, signal="summit_planning"),
        {"id": "c", "title": "", "text": "Biden spoke with Putin.", "label": 0, "lang": "ru"},
    ]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(make_cli(), ["eval", str(path)])
    assert result.exit_code == 0, result.output
    assert "overall" in result.output
    assert "precision 0.500" in result.output
    assert "lang ru" in result.output
    assert "type summit_planning" in result.output
    assert "false positives (1)" in result.output
    assert "* c (ru" in result.output
    assert "false negatives (1)" in result.output
    assert "* b (" in result.output


def test_commands_rules_test_explains_hits_and_near_misses() -> None:
    """`rules test` shows the rule, terms, sentence, score vs threshold, and near-misses."""
    result = CliRunner().invoke(make_cli(), ["rules", "test", "Talks in Geneva with Russia."])
    assert result.exit_code == 0
    assert "not flagged" in result.output
    assert "venue" in result.output
    assert "no us side" in result.output
    result = CliRunner().invoke(
        make_cli(), ["rules", "test", "Biden spoke with Putin.", "--title", "Readout"]
    )
    assert "FLAGGED" in result.output
    assert "leader_call via rule call" in result.output


def test_commands_rules_check_summary_and_errors(tmp_path: Path) -> None:
    """`rules check` summarises good rules and lists every problem of bad ones (exit 1)."""
    result = CliRunner().invoke(make_cli(), ["rules", "check"])
    assert result.exit_code == 0
    assert "ok" in result.output
    assert "leader_call" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nid = "x"\ntype = "t"\nanchor = ["@a", "@b"]\n', encoding="utf-8")
    result = CliRunner().invoke(make_cli(bad), ["rules", "check"])
    assert result.exit_code == 1
    assert "@a" in result.stderr
    assert "@b" in result.stderr


def test_commands_eval_stream_figures_with_and_without_borderline(tmp_path: Path) -> None:
    """`eval --stream` prints precision and recall with and without borderline items,
    off-topic flags per 1,000 items, misses by signal type, one line per error."""
    call = "Biden spoke with Putin."
    rows = [
        {"id": "hit", "title": "Call", "text": call, "label": 1, "signal": "leader_call"},
        {
            "id": "miss",
            "title": "Weather",
            "text": "Sunny.",
            "label": 1,
            "signal": "summit_planning",
        },
        {"id": "noise", "title": "Other", "text": call, "label": 0},
        {"id": "edge", "title": "Edge", "text": call, "label": 0, "borderline": True},
        *({"id": f"n{i}", "title": "Routine", "text": "Rain.", "label": 0} for i in range(6)),
    ]
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(make_cli(), ["eval", "--stream", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "10 items (2 labelled 1, 1 borderline)" in out
    assert "with borderline items        precision 0.333  recall 0.500" in out
    assert "without borderline items     precision 0.500  recall 0.500" in out
    assert (
        "off-topic flags: 1 of 10 items (100.0 per 1,000); flags on borderline negatives: 1" in out
    )
    assert "summit_planning            1 of 1 missed" in out
    assert "* noise  -  score" in out
    assert "[call]  Other" in out


def test_commands_eval_bad_borderline_value_reported() -> None:
    """A "borderline" that is not true or false is named with its line and skipped."""
    line = json.dumps({"id": 1, "title": "", "text": "x", "label": 0, "borderline": "yes"})
    result = CliRunner().invoke(make_cli(), ["eval", "--stream", "-"], input=line + "\n")
    assert result.exit_code == 1
    assert 'line 1: "borderline" must be true or false' in result.stderr


def test_commands_rules_check_counts_actors_by_side() -> None:
    """`rules check` says how many canonical actors each side has, and the places."""
    rules = Path(__file__).resolve().parent / "fixtures" / "signals" / "sides_rules.toml"
    result = CliRunner().invoke(make_cli(rules), ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert (
        "actors by side (canonical names): both 1, ru 2, speaker 1, third 1, us 2; "
        "2 places" in result.output
    )

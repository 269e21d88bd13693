"""Commands of the signal matcher: score, eval, rules test, rules check.

Each gets the active rules from `ctx.obj.rules()`; none needs a database.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import IO, cast

import click

from monitor.cli.output import echo_json
from monitor.errors import ConfigError
from monitor.models import Match
from monitor.signals import RuleSet, match_document
from monitor.signals.evaluate import Labelled, evaluate_items, format_report, format_stream
from monitor.signals.explain import describe_signals, explain, one_line, safe

# One line of a JSON Lines file once checked to be an object.
JSONItem = dict[str, object]


def _rules(ctx: click.Context) -> RuleSet:
    rules: RuleSet = ctx.obj.rules()
    return rules


def read_items(stream: IO[str]) -> Iterator[tuple[int, JSONItem | str]]:
    """(line number, item) for each non-blank line, or (line number, error message)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item: object = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        problem = _item_problem(item)
        yield number, item if isinstance(item, dict) and not problem else problem


def _item_problem(item: object) -> str:
    if not isinstance(item, dict):
        return "must be a JSON object"
    for key in ("title", "text"):
        if not isinstance(item.get(key, ""), str):
            return f'"{key}" must be a string'
    if "title" not in item and "text" not in item:
        return 'needs "title" and/or "text"'
    if item.get("lang") is not None and not isinstance(item["lang"], str):
        return '"lang" must be a string such as "en" or "ru"'
    return ""


def _match(rules: RuleSet, item: JSONItem) -> Match:
    """Match a checked item: title and text are strings, lang a string or absent."""
    lang = item.get("lang")
    return match_document(
        rules,
        str(item.get("title", "")),
        str(item.get("text", "")),
        lang if isinstance(lang, str) else None,
    )


def match_json(item_id: object, match: Match) -> dict[str, object]:
    """A scored item as the JSON line `monitor score --json` prints."""
    return {
        "id": item_id,
        "flagged": match.flagged,
        "score": match.score,
        "rules_version": match.rules_version,
        "signals": [s.as_json() for s in match.signals],
    }


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per item.")
@click.pass_context
def score(ctx: click.Context, file: IO[str], as_json: bool) -> None:
    """Score JSON Lines items ({"id","title","text","lang"?}) from FILE or stdin."""
    rules = _rules(ctx)
    bad = scored = 0
    for number, item in read_items(file):
        if isinstance(item, str):
            bad += 1
            click.echo(f"line {number}: {item}; skipped", err=True)
            continue
        match = _match(rules, item)
        if as_json:
            echo_json(match_json(item.get("id"), match))
        else:
            kinds = ", ".join(dict.fromkeys(s.type for s in match.signals)) or "-"
            mark = "FLAG" if match.flagged else "    "
            click.echo(f"{mark} {match.score:6.2f}  {one_line(str(item.get('id')), 60)}  {kinds}")
        scored += 1
    if bad:
        click.echo(f"error: scored {scored} item(s), rejected {bad} line(s)", err=True)
        ctx.exit(1)


@click.command("eval")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--stream",
    is_flag=True,
    help="FILE is a labelled stream: figures with and without borderline items, "
    "off-topic flags per 1,000 items, misses by signal type; one line per "
    "error.",
)
@click.pass_context
def eval_command(ctx: click.Context, file: IO[str], stream: bool) -> None:
    """Precision, recall and F1 on labelled JSON Lines items ("label": 1 or 0; an item
    is borderline if "borderline" is true or "why" starts with BORDERLINE)."""
    rules = _rules(ctx)
    labelled, titles, bad = _labelled(rules, file)
    report = evaluate_items(labelled)
    positives = sum(item.label for item in labelled)
    borderline = sum(item.borderline for item in labelled)
    click.echo(
        f"{len(labelled)} items ({positives} labelled 1, {borderline} borderline), "
        f"rules version {rules.version}, threshold {rules.threshold:g}"
    )
    for line in format_stream(report) if stream else format_report(report):
        click.echo(line)
    for title, items in (
        ("false positives", report.false_positives),
        ("false negatives", report.false_negatives),
    ):
        click.echo(f"\n{title} ({len(items)}):")
        for found in items:
            note = " [borderline]" if found.borderline else ""
            if stream:
                rules_fired = ", ".join(s.rule for s in found.match.signals) or "-"
                click.echo(
                    f"* {one_line(found.id, 80)}  {found.signal or '-'}  "
                    f"score {found.match.score:g}{note}  [{rules_fired}]  "
                    f"{one_line(titles.get(found.id, ''), 110)}"
                )
                continue
            click.echo(f"* {safe(found.id)} ({found.lang}, score {found.match.score:g}){note}")
            for line in describe_signals(found.match):
                click.echo(f"  {line}")
    if bad:
        ctx.exit(1)


def _labelled(rules: RuleSet, file: IO[str]) -> tuple[list[Labelled], dict[str, str], int]:
    """The scored items of a labelled file, their titles by id, and how many lines were bad."""
    labelled: list[Labelled] = []
    titles: dict[str, str] = {}
    bad = 0
    for number, item in read_items(file):
        if isinstance(item, dict) and item.get("label") not in (0, 1):
            item = '"label" must be 1 or 0'
        if isinstance(item, dict) and not isinstance(item.get("borderline", False), bool):
            item = '"borderline" must be true or false'
        if isinstance(item, str):
            bad += 1
            click.echo(f"line {number}: {item}; skipped", err=True)
            continue
        borderline = item.get("borderline") is True or str(item.get("why", "")).startswith(
            "BORDERLINE"
        )
        item_id = str(item.get("id", number))
        titles[item_id] = str(item.get("title", ""))
        label = 1 if item["label"] == 1 else 0  # checked above: 1 or 0
        signal = cast("str | None", item.get("signal"))  # as given; only compared
        labelled.append(
            Labelled(
                item_id,
                str(item.get("lang") or "?"),
                label,
                signal,
                borderline,
                _match(rules, item),
            )
        )
    return labelled, titles, bad


@click.group("rules")
def rules_group() -> None:
    """Test and check the signal rules."""


@rules_group.command("test")
@click.argument("text")
@click.option("--title", default="", help="Item title (title hits weigh more).")
@click.option("--lang", default=None, help="Item language, e.g. en or ru.")
@click.pass_context
def rules_test(ctx: click.Context, text: str, title: str, lang: str | None) -> None:
    """Explain what fires on TEXT and why, and what nearly fired."""
    for line in explain(_rules(ctx), title, text, lang):
        click.echo(safe(line))


@rules_group.command("check")
@click.pass_context
def rules_check(ctx: click.Context) -> None:
    """Validate the rules file and summarise it; every problem is listed on failure."""
    try:
        rules = _rules(ctx)
    except ConfigError as exc:
        click.echo(safe(str(exc)), err=True)
        ctx.exit(1)
        return
    per_type = Counter(rule.type for rule in rules.rules)
    click.echo(
        f"rules version {rules.version}: {len(rules.rules)} rules, "
        f"{len(rules.terms)} terms in {len(rules.term_lists)} lists, "
        f"threshold {rules.threshold:g}"
    )
    for kind, count in sorted(per_type.items()):
        click.echo(f"  {kind:<24} {count} rule(s)")
    if rules.actors:
        names: dict[str, set[tuple[str, ...]]] = {}
        for actor in rules.actors.values():
            names.setdefault(actor.side, set()).add(actor.names)
        sides = ", ".join(f"{side} {len(found)}" for side, found in sorted(names.items()))
        click.echo(
            f"  actors by side (canonical names): {sides}; {len(set(rules.places.values()))} places"
        )
    click.echo("ok")


COMMANDS: tuple[click.Command, ...] = (score, eval_command, rules_group)

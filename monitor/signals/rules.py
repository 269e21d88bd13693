"""Load and validate a rules file (TOML) into a RuleSet, reporting every problem at once.

The file format is described key by key in config/rules.toml and the README.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import tomllib
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Final, Literal, TypeGuard

from monitor.errors import Problems
from monitor.signals.scan import ONE_BYTE_ENCODINGS, Scanner, build_scanner
from monitor.signals.screen import Plan, make_plans
from monitor.signals.terms import Term, TermError, TermList, Words, compile_term

_TOP_KEYS: Final = frozenset(
    {"threshold", "stem_suffix", "scoring", "terms", "actors", "places", "parties", "rules"}
)
_RULE_KEYS: Final = frozenset(
    {
        "id",
        "type",
        "weight",
        "description",
        "anchor",
        "near",
        "parties",
        "party_within",
        "sides",
        "sides_within",
        "speaker_with",
        "speaker_within",
        "counterpart_within",
        "exclude",
        "exclude_within",
        "third_party_title",
        "urged_by",
        "exclude_title",
        "scope",
        "lang",
    }
)
_NEAR_KEYS: Final = frozenset({"name", "terms", "within", "side"})
_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")
# Sides an actor can be on. "both": a compound naming the two ("Russia-US", "Putin and
# Trump"); "third": anyone else; "speaker": the voice of the text itself ("I", "we").
Side = Literal["ru", "us", "both", "third", "speaker"]
SIDES: Final[tuple[Side, ...]] = ("ru", "us", "both", "third", "speaker")
# What a rule asks of the actors in the anchor's sentence (see sides.py).
SideRule = Literal["both", "pair", "both-or-speaker", "one"]
SIDE_RULES: Final[tuple[SideRule, ...]] = ("both", "pair", "both-or-speaker", "one")
Scope = Literal["any", "title", "body"]  # where a rule's anchor may be
SCOPES: Final[tuple[Scope, ...]] = ("any", "title", "body")
Direction = Literal["either", "before", "after"]  # where a requirement is, from the anchor
DIRECTIONS: Final[tuple[Direction, ...]] = ("either", "before", "after")
Table = dict[str, object]  # a table of the rules file as TOML gives it, not yet checked
MAX_EXPANSION = 5000  # terms one entry with @lists inside may stand for
_EMBEDDED = re.compile(r"(@[a-z][a-z0-9_]*)")  # a list named inside a phrase or a word


@dataclass(frozen=True, slots=True)
class Scoring:
    """How the hits of the rules that fired add up to an item's score."""

    title_factor: float = 2.0  # a hit in the title weighs this much more
    lead_chars: int = 3000  # body hits this close to the start count fully
    deep_chars: int = 40000  # body hits this deep count only deep_factor
    deep_factor: float = 0.5
    repeat_bonus: float = 0.25  # each further occurrence adds this fraction of its weight
    max_rule_factor: float = 2.0  # cap on one rule's combined factor
    max_evidence: int = 5  # occurrences kept as evidence per rule


@dataclass(frozen=True, slots=True)
class Window:
    """How far a requirement may be from the anchor: a number of words, or the sentence."""

    words: int | None  # None means "the same sentence"

    def __str__(self) -> str:
        """The window as a near miss names it."""
        return "the same sentence" if self.words is None else f"{self.words} words"


@dataclass(frozen=True, slots=True)
class Requirement:
    """Terms a rule needs near its anchor (or, as a veto, must not find there)."""

    name: str
    terms: tuple[int, ...]
    within: Window
    side: Direction


@dataclass(frozen=True, slots=True)
class Actor:
    """Who an actor term names: its side and canonical names ("putin"; a compound
    naming both sides has two, "putin" and "trump")."""

    side: Side
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: its anchor, what it needs around it, and what vetoes it."""

    id: str
    type: str
    weight: float
    anchor: tuple[int, ...]
    requirements: tuple[Requirement, ...] = ()
    exclude: tuple[int, ...] = ()
    exclude_within: Window = Window(None)
    exclude_title: tuple[int, ...] = ()
    scope: Scope = "any"
    lang: str | None = None
    description: str = ""
    vetoes: tuple[Requirement, ...] = ()  # exclude entries with their own window
    sides: SideRule | Literal[""] = ""  # "": no actors needed
    counterpart_within: int = 4  # a third party this close to the anchor is its counterpart
    speaker_with: tuple[int, ...] = ()  # named actors the speaker may complete a pair with
    speaker_within: int = 6  # how near the anchor the speaker ("I", "we") must be
    sides_within: int | None = None  # words from the anchor the sides must be (None: sentence)
    # contacts that, reported with a third party in the title, make the body relayed
    third_party_title: tuple[int, ...] = ()
    urged_by: tuple[int, ...] = ()  # words with which a third party urges a contact on


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Compiled rules: terms, one automaton over their keys, rules, scoring, version."""

    version: str
    threshold: float
    rules: tuple[Rule, ...]
    terms: tuple[Term, ...]
    scoring: Scoring
    scan_terms: tuple[int, ...]  # every term a rule uses, and the actors and places
    regex_terms: tuple[int, ...]
    term_lists: dict[str, tuple[int, ...]] = field(default_factory=dict)
    max_key_offset: int = 0  # most characters a phrase starts before its automaton key
    # per term list of the rules: most characters a hit ends after its key start
    # (absent for a list with a regex, whose hits have no such bound)
    list_reach: dict[tuple[int, ...], int] = field(default_factory=dict)
    actors: dict[int, Actor] = field(default_factory=dict)  # term -> who it names
    actor_terms: tuple[int, ...] = ()  # Russian, US and "both" actors: scanned for
    # Third parties and the speaker matter only in a sentence that names Russia or the US,
    # and they are many ("Kazakh president") or frequent ("I", "we"): they are looked
    # for only in such sentences, by an automaton of their own.
    lazy_terms: tuple[int, ...] = ()  # third parties and the speaker
    lazy_regexes: tuple[int, ...] = ()  # the lazy terms that are regexes: searched in the span
    # terms whose automaton candidate is always a hit: one literal word, any case
    exact_terms: frozenset[int] = frozenset()
    places: dict[int, str] = field(default_factory=dict)  # term -> canonical place name
    place_terms: tuple[int, ...] = ()
    # what a rule's `sides` needs in the sentence at least, as term lists (see screen.py)
    side_needs: dict[str, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    plans: tuple[Plan, ...] = ()  # one per rule: what its anchors need around them
    # the one-byte encodings the scanner reads text in, in the order tried
    encodings: tuple[str, ...] = ONE_BYTE_ENCODINGS

    # The automata are built when a text is first matched, not when the rules are
    # loaded: a command or a cycle that matches nothing (every feed unchanged) only
    # needs the rules checked.
    @cached_property
    def scanner(self) -> Scanner:
        """The automata that find the candidates of every term in `scan_terms`."""
        return build_scanner(self.terms, self.scan_terms, self.encodings)

    @cached_property
    def lazy_scanner(self) -> Scanner | None:
        """The automata of `lazy_terms`: small ones, since few sentences need them."""
        if not self.lazy_terms:
            return None
        return build_scanner(self.terms, self.lazy_terms, self.encodings, deterministic=False)

    @staticmethod
    def term_set(terms: tuple[int, ...]) -> frozenset[int]:
        """`terms` as a set (kept with each list the rule set compiled)."""
        return terms.members if isinstance(terms, TermList) else frozenset(terms)

    @property
    def signal_types(self) -> tuple[str, ...]:
        """The rules' signal types, each once, in the order of the rules."""
        return tuple(dict.fromkeys(rule.type for rule in self.rules))


def load_rules(path: Path, threshold: float | None = None) -> RuleSet:
    """Read, validate and compile a rules file; ConfigError lists every problem found."""
    problems = Problems(str(path))
    try:
        content = path.read_bytes()
        raw: Table = tomllib.loads(content.decode("utf-8"))
    except OSError as exc:
        problems.add("(file)", f"cannot be read: {exc.strerror or exc}", "check the path")
        problems.raise_if_any()
        raise AssertionError("unreachable") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.add("(file)", f"is not valid TOML: {exc}", "fix the syntax at that line")
        problems.raise_if_any()
        raise AssertionError("unreachable") from None
    version = "sha256:" + hashlib.sha256(content).hexdigest()[:16]
    return build_rules(raw, problems, version, threshold)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A rules file checked and its terms compiled, before the automata are built."""

    threshold: float
    scoring: Scoring
    compiler: _TermCompiler
    actors: dict[int, Actor]
    places: dict[int, str]
    rules: list[Rule]


def build_rules(
    raw: Table, problems: Problems, version: str, threshold: float | None = None
) -> RuleSet:
    """Validate and compile a parsed rules file; ConfigError lists every problem found."""
    parsed = _parse(raw, problems, threshold)
    problems.raise_if_any()
    compiler, actors, places, rules = (parsed.compiler, parsed.actors, parsed.places, parsed.rules)
    terms = compiler.terms
    lazy = [t for t, actor in actors.items() if actor.side in ("third", "speaker")]
    scanned = tuple(t for t, actor in actors.items() if actor.side in ("ru", "us", "both"))
    used = _used_terms(rules) | set(scanned) | set(places)
    side_needs = _side_needs(actors, compiler)
    return RuleSet(
        version=version,
        threshold=parsed.threshold,
        rules=tuple(rules),
        terms=tuple(terms),
        scoring=parsed.scoring,
        scan_terms=tuple(sorted(used)),
        regex_terms=tuple(i for i in sorted(used) if not terms[i].key),
        term_lists=dict(compiler.named),
        max_key_offset=max((t.key_offset for t in terms), default=0),
        list_reach=_list_reach(rules, terms),
        actors=actors,
        actor_terms=compiler.intern(scanned),
        lazy_terms=tuple(lazy),
        lazy_regexes=tuple(t for t in lazy if not terms[t].key),
        exact_terms=frozenset(
            i
            for i, t in enumerate(terms)
            if len(t.words) == 1 and t.key and not t.stems[0] and t.cased is None
        ),
        places=places,
        place_terms=compiler.intern(tuple(places)),
        side_needs=side_needs,
        plans=make_plans(rules, terms, side_needs),
    )


def _parse(raw: Table, problems: Problems, threshold: float | None) -> _Parsed:
    """Check every table of the file and compile its terms, collecting every problem."""
    _unknown(raw, _TOP_KEYS, "", problems)
    file_threshold = _number(raw, "threshold", 1.0, "", problems)
    stem_suffix = int(_number(raw, "stem_suffix", 4, "", problems, integer=True))
    scoring = _scoring(_table(raw, "scoring", problems), problems)
    compiler = _TermCompiler(stem_suffix, problems)
    compiler.lists(_table(raw, "terms", problems))
    actors = _actors(_table(raw, "actors", problems), compiler, problems)
    places = _places(_table(raw, "places", problems), compiler, problems)
    parties = {
        name: compiler.refs(refs, f"parties.{name}")
        for name, refs in _table(raw, "parties", problems).items()
    }
    rules = _rules(raw.get("rules", []), compiler, parties, problems)
    if any(rule.sides for rule in rules) and not actors:
        problems.add("actors", "rules with `sides` need actors", "add [actors.ru] and [actors.us]")
    if threshold is not None and threshold <= 0:
        problems.add("signals.threshold", f"must be above 0, not {threshold}", "use e.g. 1.0")
    return _Parsed(
        file_threshold if threshold is None else float(threshold),
        scoring,
        compiler,
        actors,
        places,
        rules,
    )


def _side_needs(
    actors: dict[int, Actor], compiler: _TermCompiler
) -> dict[str, tuple[tuple[int, ...], ...]]:
    """Per value of `sides`, term lists of which the sentence must hold one term each."""

    def of(*sides: str) -> tuple[int, ...]:
        return compiler.intern(tuple(t for t, actor in actors.items() if actor.side in sides))

    return {
        "both": (of("ru", "both"), of("us", "both")),
        "pair": (of("ru", "both"), of("us", "both")),
        "both-or-speaker": (of("ru", "us", "both"),),
        "one": (of("ru", "us", "both"),),
    }


def _actors(table: Table, compiler: _TermCompiler, problems: Problems) -> dict[int, Actor]:
    """[actors.<side>] tables: canonical name -> terms. Each side becomes a term list
    `@actors_<side>`; each term remembers whom it names."""
    found: dict[int, Actor] = {}
    for side, entries in table.items():
        key = f"actors.{side}"
        if not _is_side(side):
            problems.add(key, "unknown side", f"use one of: {', '.join(SIDES)}")
            continue
        if not isinstance(entries, dict):
            problems.add(key, "must be a table of name = [terms]", f"write [{key}]")
            continue
        every: list[int] = []
        for name, refs in entries.items():
            terms = compiler.refs(refs, f"{key}.{name}")
            actor = Actor(side, tuple(n.strip() for n in name.lower().split("+")))
            for term in terms:
                other = found.setdefault(term, actor)
                if other.side != side:
                    problems.add(
                        f"{key}.{name}",
                        f"{compiler.terms[term].source!r} is also an actor of side {other.side!r}",
                        "keep it on one side",
                    )
            every.extend(terms)
        compiler.define(f"actors_{side}", every)
    return found


def _places(table: Table, compiler: _TermCompiler, problems: Problems) -> dict[int, str]:
    """[places.<group>] tables: canonical place name -> terms; lists `@places_<group>`
    and `@places`."""
    found: dict[int, str] = {}
    for group, entries in table.items():
        key = f"places.{group}"
        if not _NAME.match(group) or not isinstance(entries, dict):
            problems.add(
                key,
                "must be a table of name = [terms] with a-z, 0-9, _ and - in its name",
                f"write [places.{group.lower()}]",
            )
            continue
        every: list[int] = []
        for name, refs in entries.items():
            terms = compiler.refs(refs, f"{key}.{name}")
            for term in terms:
                found.setdefault(term, name.lower())
            every.extend(terms)
        compiler.define(f"places_{group}", every)
    compiler.define("places", list(found))
    return found


def _list_reach(rules: list[Rule], terms: list[Term]) -> dict[tuple[int, ...], int]:
    """Per term list of the rules: most characters a hit ends after its key start
    (absent for a list with a regex, whose hits have no such bound)."""
    lists = [r.exclude for r in rules] + [
        q.terms for r in rules for q in (*r.requirements, *r.vetoes)
    ]
    return {
        found: max(terms[t].reach for t in found)
        for found in lists
        if found and all(terms[t].key for t in found)
    }


class _TermCompiler:
    """Compiles each distinct term once and resolves `@list` references."""

    def __init__(self, stem_suffix: int, problems: Problems) -> None:
        self.stem_suffix = stem_suffix
        self.problems = problems
        self.terms: list[Term] = []
        self.index: dict[str, int] = {}
        self.named: dict[str, tuple[int, ...]] = {}
        self.shared: dict[tuple[int, ...], TermList] = {}
        self.words = Words()

    def lists(self, table: Table) -> None:
        """The named lists of [terms], usable as `@name` by those below and by rules."""
        for name, value in table.items():
            if not _NAME.match(name):
                self.problems.add(
                    f"terms.{name}", "list names use a-z, 0-9, _ and -", "rename the list"
                )
            self.named[name] = self.refs(value, f"terms.{name}")

    def define(self, name: str, terms: list[int]) -> None:
        """A list made by the compiler (actors, places), usable as `@name` by rules."""
        self.named[name] = self.intern(tuple(dict.fromkeys(terms)))

    def refs(self, value: object, key: str) -> tuple[int, ...]:
        """The terms a list of entries (or one entry) stands for, each once, in order."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.problems.add(
                key, "must be a non-empty list of terms", 'write e.g. ["@ru_side", "kremlin"]'
            )
            return ()
        found: list[int] = []
        for i, entry in enumerate(value):
            found.extend(self.ref(entry, f"{key}[{i}]"))
        return self.intern(tuple(dict.fromkeys(found)))

    def intern(self, terms: tuple[int, ...]) -> TermList:
        """Equal lists become one object: a document's candidates, hits and nearness
        caches are keyed by the list, so every rule using it shares them."""
        found = self.shared.get(terms)
        if found is None:
            found = self.shared[terms] = TermList(terms)
        return found

    def ref(self, entry: object, key: str) -> tuple[int, ...]:
        """The terms one entry stands for: a term, a `@list`, or a phrase with lists."""
        if not isinstance(entry, str):
            self.problems.add(key, f"must be a string, not {entry!r}", "quote the term")
            return ()
        if entry.startswith("@") and entry[1:] in self.named:
            return self.named[entry[1:]]
        if not entry.startswith("re:") and _EMBEDDED.search(entry):
            return tuple(i for phrase in self.expand(entry, key) for i in self.ref(phrase, key))
        if entry not in self.index:
            try:
                term = compile_term(entry, self.stem_suffix, self.words)
            except TermError as exc:
                self.problems.add(key, f"{entry!r}: {exc}", "fix or remove the term")
                return ()
            self.index[entry] = len(self.terms)
            self.terms.append(term)
        return (self.index[entry],)

    def expand(self, entry: str, key: str) -> list[str]:
        """The phrases `entry` stands for: each `@list` word replaced by every term of
        that list ("russian @roles" -> "russian side", "russian delegation", ...)."""
        options: list[list[str]] = []
        for part in _EMBEDDED.split(entry):
            if not part.startswith("@"):
                options.append([part])
            elif part[1:] not in self.named:
                where = entry if part == entry else f"{entry!r}: {part}"
                self.problems.add(
                    key,
                    f"{where}: no such term list",
                    "define it under [terms], above any list that uses it",
                )
                return []
            else:
                sources = [self.terms[i].source for i in self.named[part[1:]]]
                if any(s.startswith("re:") for s in sources):
                    self.problems.add(
                        key,
                        f"{entry!r}: {part} holds a regex term",
                        "use a list of phrases inside a phrase",
                    )
                    return []
                options.append(sources)
        if math.prod(map(len, options)) > MAX_EXPANSION:
            self.problems.add(
                key,
                f"{entry!r} stands for more than {MAX_EXPANSION} terms",
                "split it or use shorter lists",
            )
            return []
        return ["".join(parts) for parts in itertools.product(*options)]


def _rules(
    value: object, compiler: _TermCompiler, parties: dict[str, tuple[int, ...]], problems: Problems
) -> list[Rule]:
    """The [[rules]] tables, each rule id once."""
    if not isinstance(value, list) or not value:
        problems.add("rules", "there must be at least one [[rules]] table", "add a rule")
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, table in enumerate(value):
        rule = _rule(table, f"rules[{i}]", compiler, parties, problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.add(f"rules[{i}].id", f"duplicate rule id {rule.id!r}", "give it a new id")
        seen.add(rule.id)
        rules.append(rule)
    return rules


def _rule(
    value: object,
    key: str,
    compiler: _TermCompiler,
    parties: dict[str, tuple[int, ...]],
    problems: Problems,
) -> Rule | None:
    """One [[rules]] table as a rule (None if it is not a table)."""
    if not isinstance(value, dict):
        problems.add(key, "must be a table", "write it as [[rules]]")
        return None
    table: Table = value
    _unknown(table, _RULE_KEYS, key + ".", problems)
    rule_id = _string(table, "id", key, problems, required=True)
    key = f"{key} ({rule_id})" if rule_id else key
    return _compile_rule(table, rule_id, key, compiler, parties, problems)


def _compile_rule(
    table: Table,
    rule_id: str,
    key: str,
    compiler: _TermCompiler,
    parties: dict[str, tuple[int, ...]],
    problems: Problems,
) -> Rule:
    """The rule of a [[rules]] table, read in the order problems are reported and terms
    numbered (of two candidates at one place, the lower term comes first)."""
    kind = _string(table, "type", key, problems, required=True)
    requirements = _requirements(table, key, compiler, parties, problems)
    scope, sides = _scope(table, key, problems), _sides(table, key, problems)
    return Rule(
        id=rule_id,
        type=kind,
        weight=_number(table, "weight", 1.0, key + ".", problems),
        anchor=compiler.refs(table.get("anchor"), f"{key}.anchor"),
        requirements=requirements,
        exclude=_exclude_terms(table, key, compiler),
        vetoes=_vetoes(table, key, compiler, problems),
        exclude_within=_window(
            table.get("exclude_within", "sentence"), f"{key}.exclude_within", problems
        ),
        exclude_title=_optional_refs(table, "exclude_title", key, compiler),
        scope=scope,
        lang=_string(table, "lang", key, problems) or None,
        description=_string(table, "description", key, problems),
        sides=sides,
        counterpart_within=_whole(table, "counterpart_within", 4, key, problems),
        speaker_with=_optional_refs(table, "speaker_with", key, compiler),
        speaker_within=_whole(table, "speaker_within", 6, key, problems),
        sides_within=_window(
            table.get("sides_within", "sentence"), f"{key}.sides_within", problems
        ).words,
        third_party_title=_optional_refs(table, "third_party_title", key, compiler),
        urged_by=_optional_refs(table, "urged_by", key, compiler),
    )


def _optional_refs(table: Table, name: str, key: str, compiler: _TermCompiler) -> tuple[int, ...]:
    """The terms of a list the rule may leave out."""
    return compiler.refs(table[name], f"{key}.{name}") if name in table else ()


def _whole(table: Table, name: str, default: int, key: str, problems: Problems) -> int:
    """A whole number of the rule, `default` if absent or wrong (reported)."""
    return int(_number(table, name, default, key + ".", problems, integer=True))


def _requirements(
    table: Table,
    key: str,
    compiler: _TermCompiler,
    parties: dict[str, tuple[int, ...]],
    problems: Problems,
) -> tuple[Requirement, ...]:
    """A rule's `near` tables, then one requirement per party it names."""
    requirements = [
        _near(n, f"{key}.near[{j}]", compiler, problems)
        for j, n in enumerate(_list(table, "near", key, problems))
    ]
    party_within = _window(table.get("party_within", "sentence"), f"{key}.party_within", problems)
    for name in _list(table, "parties", key, problems):
        if not isinstance(name, str) or name not in parties:
            problems.add(f"{key}.parties", f"no party named {name!r}", "define it in [parties]")
        else:
            requirements.append(Requirement(f"{name} side", parties[name], party_within, "either"))
    return tuple(r for r in requirements if r is not None)


def _scope(table: Table, key: str, problems: Problems) -> Scope:
    """Where the rule's anchor may be (a wrong value is reported, and read as "any")."""
    scope = _string(table, "scope", key, problems) or "any"
    if not _is_scope(scope):
        problems.add(f"{key}.scope", f"must be any, title or body, not {scope!r}")
        return "any"
    return scope


def _sides(table: Table, key: str, problems: Problems) -> SideRule | Literal[""]:
    """What the rule asks of the actors ("" for nothing, or a wrong value, reported)."""
    sides = _string(table, "sides", key, problems)
    if sides and not _is_side_rule(sides):
        problems.add(
            f"{key}.sides",
            f"must be one of {', '.join(SIDE_RULES)}, not {sides!r}",
            'write sides = "both"',
        )
    if (sides == "both-or-speaker") != ("speaker_with" in table):
        problems.add(
            f"{key}.speaker_with",
            'goes with sides = "both-or-speaker", and only with it',
            "name the actors the speaker may complete a pair with",
        )
    return sides if _is_side_rule(sides) else ""


def _exclude_terms(table: Table, key: str, compiler: _TermCompiler) -> tuple[int, ...]:
    """The plain entries of `exclude` (vetoing within `exclude_within`)."""
    value = table.get("exclude")
    if value is None:
        return ()
    if not isinstance(value, list):
        return compiler.refs(value, f"{key}.exclude")
    plain = [entry for entry in value if not isinstance(entry, dict)]
    return compiler.refs(plain, f"{key}.exclude") if plain else ()


def _vetoes(
    table: Table, key: str, compiler: _TermCompiler, problems: Problems
) -> tuple[Requirement, ...]:
    """The table entries of `exclude`: { terms = [...], within = N }, each its own window."""
    value = table.get("exclude")
    if not isinstance(value, list):
        return ()
    found = [
        _near(entry, f"{key}.exclude[{i}]", compiler, problems)
        for i, entry in enumerate(value)
        if isinstance(entry, dict)
    ]
    return tuple(veto for veto in found if veto is not None)


def _near(
    value: object, key: str, compiler: _TermCompiler, problems: Problems
) -> Requirement | None:
    """One `near` (or `exclude`) table as a requirement (None if it is not a table)."""
    if not isinstance(value, dict):
        problems.add(key, "must be a table", 'write { terms = ["@us_side"], within = 8 }')
        return None
    table: Table = value
    _unknown(table, _NEAR_KEYS, key + ".", problems)
    side = table.get("side", "either")
    if not _is_direction(side):
        problems.add(f"{key}.side", f"must be either, before or after, not {side!r}")
    terms = compiler.refs(table.get("terms"), f"{key}.terms")
    listed = table.get("terms", [])
    name = (
        table.get("name")
        or ", ".join(str(t) for t in (listed if isinstance(listed, (list, str)) else ()))[:60]
    )
    within = _window(table.get("within", "sentence"), f"{key}.within", problems)
    return Requirement(str(name), terms, within, side if _is_direction(side) else "either")


def _window(value: object, key: str, problems: Problems) -> Window:
    """A window: "sentence" or a number of words (a wrong value is reported)."""
    if value == "sentence":
        return Window(None)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 200:
        return Window(value)
    problems.add(
        key,
        f'must be "sentence" or a number of words 0..200, not {value!r}',
        'write within = 8 or within = "sentence"',
    )
    return Window(None)


def _scoring(table: Table, problems: Problems) -> Scoring:
    """The [scoring] table, each value defaulted."""
    defaults = Scoring()
    _unknown(table, set(Scoring.__slots__), "scoring.", problems)
    values = {
        name: _number(
            table,
            name,
            getattr(defaults, name),
            "scoring.",
            problems,
            integer=isinstance(getattr(defaults, name), int),
        )
        for name in Scoring.__slots__
    }
    return Scoring(**values)  # type: ignore[arg-type]


def _used_terms(rules: list[Rule]) -> set[int]:
    """Terms some rule refers to: only these are searched for."""
    used: set[int] = set()
    for rule in rules:
        used.update(
            rule.anchor, rule.exclude, rule.exclude_title, rule.third_party_title, rule.urged_by
        )
        for requirement in (*rule.requirements, *rule.vetoes):
            used.update(requirement.terms)
    return used


def _is_side(value: str) -> TypeGuard[Side]:
    return value in SIDES


def _is_side_rule(value: str) -> TypeGuard[SideRule]:
    return value in SIDE_RULES


def _is_scope(value: str) -> TypeGuard[Scope]:
    return value in SCOPES


def _is_direction(value: object) -> TypeGuard[Direction]:
    return value in DIRECTIONS


def _table(raw: Table, name: str, problems: Problems) -> Table:
    """A sub-table, {} if absent (or not a table, reported)."""
    value = raw.get(name, {})
    if not isinstance(value, dict):
        problems.add(name, "must be a table", f"write it as [{name}]")
        return {}
    return value


def _list(table: Table, name: str, key: str, problems: Problems) -> list[object]:
    """A list value, [] if absent (or not a list, reported)."""
    value = table.get(name, [])
    if not isinstance(value, list):
        problems.add(f"{key}.{name}", "must be a list", f"write {name} = [ ... ]")
        return []
    return value


def _string(table: Table, name: str, key: str, problems: Problems, required: bool = False) -> str:
    """A string value ("" if absent); `required`: a name of a-z, 0-9, _ and -."""
    value = table.get(name, "")
    if not isinstance(value, str) or (required and not _NAME.match(value)):
        problems.add(
            f"{key}.{name}",
            f"must be a name (a-z, 0-9, _, -), not {value!r}"
            if required
            else f"must be a string, not {value!r}",
            f'set {name} = "..."',
        )
        return ""
    return value


def _number(
    table: Table, name: str, default: float, prefix: str, problems: Problems, integer: bool = False
) -> float:
    """A number of at least 0 (a weight above 0), `default` if absent or wrong (reported)."""
    value = table.get(name, default)
    if (isinstance(value, int) or (isinstance(value, float) and not integer)) and not (
        isinstance(value, bool) or value < 0 or (not integer and value == 0 and name == "weight")
    ):
        return float(value) if not integer else int(value)
    kind = "a whole number" if integer else "a positive number"
    problems.add(f"{prefix}{name}", f"must be {kind}, not {value!r}", f"set {name} = {default}")
    return default


def _unknown(table: Table, known: AbstractSet[str], prefix: str, problems: Problems) -> None:
    """Report each key of `table` that is not `known`."""
    for name in table:
        if name not in known:
            problems.add(
                f"{prefix}{name}", "unknown key", f"known keys: {', '.join(sorted(known))}"
            )

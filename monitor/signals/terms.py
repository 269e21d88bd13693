"""Compile one term of a rules file into an automaton key and a verifier.

A term is either a phrase or a regex:

- phrase: words separated by spaces, matched at word boundaries after folding
  (see normalize.py); any run of whitespace in the text separates the words. A word
  ending in `*` is a stem: it also matches up to `stem_suffix` further letters
  (`*2` sets the bound for that word), which is how Russian inflection is handled:
  `стратегическ* стабильност*` matches стратегическая / стратегической стабильности.
- a word written in capitals (`US`, `EU`, `I`) matches only in capitals, so the country
  "US" is not the pronoun "us": the folded match is checked against the original text.
- regex: `re:<pattern>`, searched over the folded (lower-case) text. Patterns are
  checked at load: at most MAX_REGEX_LENGTH characters, and no quantifier over an
  expression that itself repeats or has overlapping alternatives (`(a+)+`, `(a|ab)*`,
  `\\s*\\s*`), the shapes that backtrack catastrophically (see backtrack.py).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from monitor.signals.backtrack import backtracking_problem
from monitor.signals.normalize import SPACES, VARIANTS, fold_unit, variant_class

MAX_REGEX_LENGTH = 200
MAX_TERM_LENGTH = 200
MIN_KEY_LENGTH = 2
_STEM = re.compile(r"\*([0-9]?)$")
_SEPARATOR = "[\\s" + "".join(re.escape(c) for c in SPACES) + "]{1,8}"
_MAX_GAP = 8  # most whitespace characters between two words of a phrase


# Frequent words make poor automaton keys (every occurrence must be verified), so the
# key of a phrase is its longest word that is not one of these.
COMMON_WORDS = frozenset(
    "the of and to in on at for with by from a an no not will would is are was be has have "
    "president state united national secretary house white new minister foreign "
    "security us going where when week next plan down get sit our we they it this that "
    "в во на по с со и к о об от до за не но что как президент министр".split()
)


class Verifier:
    """A phrase's pattern, compiled when it is first used.

    A rules file expands into thousands of phrases, and compiling all their patterns
    took most of the time of loading the rules, in every process that loads them, while
    a poll verifies only the phrases whose key the automaton found. The patterns are
    built from escaped literals, so they always compile; only `re:` terms, which a person
    wrote, are compiled (and checked) at load.
    """

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verifier) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"Verifier({self.pattern!r})"

    @property
    def compiled(self) -> re.Pattern[str]:
        """The pattern, compiled on first use and kept."""
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """`re.Pattern.match`."""
        return self.compiled.match(text, pos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        """`re.Pattern.fullmatch`."""
        return self.compiled.fullmatch(text, pos, endpos)

    def finditer(
        self, text: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        """`re.Pattern.finditer`."""
        return self.compiled.finditer(text, pos, endpos)


@dataclass(frozen=True, slots=True)
class Term:
    """A compiled term.

    The automaton finds `key`; `verify` (the whole phrase) is then searched in the
    window from `key_offset` characters before the key to `reach` characters after
    its start, and must cover the key where it was found.
    """

    source: str  # as written in the rules file
    key: str  # folded literal the automaton finds ("" for regex terms)
    verify: re.Pattern[str] | Verifier
    key_offset: int = 0  # most characters the phrase may start before its key
    reach: int = 0  # most characters the phrase may extend after the key's start
    words: tuple[str, ...] = ()  # folded literal of each word (without its stem mark)
    stems: tuple[bool, ...] = ()  # which words are stems
    key_word: int = 0  # index of the word that is the key
    # For a term with a word in capitals: the whole term over the original text, the
    # capital words exact, the rest in any case (checked on the span the fold maps back to).
    cased: Verifier | None = None


class TermList(tuple[int, ...]):
    """Indices of terms as a rules file lists them. A rule set makes equal lists one
    object, and a document's caches are keyed by list: the hash of a list of hundreds
    of terms is computed once, and its terms as a set are kept beside it."""

    members: frozenset[int]
    _hash: int

    def __new__(cls, terms: tuple[int, ...] = ()) -> TermList:
        """The list of `terms`, in order."""
        made = super().__new__(cls, terms)
        made.members = frozenset(terms)
        made._hash = tuple.__hash__(made)
        return made

    def __hash__(self) -> int:
        """The hash of the equal tuple, computed once."""
        return self._hash


class TermError(ValueError):
    """A term that cannot be compiled; the message says what is wrong."""


def compile_term(source: str, stem_suffix: int, known: Words | None = None) -> Term:
    """Compile one term of a rules file; TermError says what is wrong. `known`: the
    words already read for the other terms of the file."""
    if len(source) > MAX_TERM_LENGTH:
        raise TermError(f"term is {len(source)} characters long (limit {MAX_TERM_LENGTH})")
    if source.startswith("re:"):
        return Term(source, "", compile_regex(source[3:]))
    written = source.split()
    folded = fold_unit(source).split()
    if not folded:
        raise TermError("term is empty")
    if len(written) != len(folded):
        raise TermError("a word folds into several words; write them apart")
    read = (known or Words()).read
    found = [read(word, stem_suffix) for word in folded]
    parts = [word.pattern for word in found]
    literals = [word.literal for word in found]
    widths = [word.width for word in found]
    best = _key_index(literals)
    key = literals[best]
    cased = _cased(written, parts)
    if len(key) < (1 if cased else MIN_KEY_LENGTH):
        raise TermError(f"needs a word of at least {MIN_KEY_LENGTH} letters before any '*'")
    verify = Verifier(_SEPARATOR.join(parts) + r"(?!\w)")
    return Term(
        source,
        key,
        verify,
        sum(widths[:best]),
        sum(widths[best:]),
        tuple(literals),
        tuple(word.stem for word in found),
        best,
        cased,
    )


class Words:
    """The words of a rules file's phrases, each read once: thousands of phrases, made
    from lists, share fewer than two thousand words."""

    def __init__(self) -> None:
        self._read: dict[tuple[str, int], _Word] = {}

    def read(self, word: str, stem_suffix: int) -> _Word:
        """One folded word, `*` (or `*N`) marking a stem; TermError if it cannot be one."""
        found = self._read.get((word, stem_suffix))
        if found is None:
            found = self._read[(word, stem_suffix)] = _phrase_word(word, stem_suffix)
        return found


@dataclass(frozen=True, slots=True)
class _Word:
    pattern: str  # what verifies the word, its stem's suffix included
    literal: str  # the folded word without its stem mark
    stem: bool
    width: int  # the most characters the word and the gap after it may take


def _phrase_word(word: str, stem_suffix: int) -> _Word:
    """One folded word of a phrase, `*` (or `*N`) marking a stem."""
    stem = _STEM.search(word)
    literal = word[: stem.start()] if stem else word
    if not literal or "*" in literal:
        raise TermError(f"{word!r}: '*' may only end a word, after at least one letter")
    bound = (int(stem.group(1)) if stem.group(1) else stem_suffix) if stem else 0
    suffix = f"[^\\W_]{{0,{bound}}}" if stem else ""
    return _Word(
        _literal_pattern(literal) + suffix,
        literal,
        stem is not None,
        len(literal) + bound + _MAX_GAP,
    )


def is_capitals(word: str) -> bool:
    """A word written in capitals: every letter upper case (US, EU, СНВ, I)."""
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _cased(written: list[str], parts: list[str]) -> Verifier | None:
    """The check over the original text for a term with capital words, else None."""
    if not any(is_capitals(w) for w in written):
        return None
    pieces = []
    for word, part in zip(written, parts, strict=True):
        if is_capitals(word):
            literal = _STEM.sub("", word)
            exact = "".join(variant_class(c) if c in VARIANTS else re.escape(c) for c in literal)
            pieces.append(exact + part[len(_literal_pattern(fold_unit(literal))) :])
        else:
            pieces.append(f"(?i:{part})")
    return Verifier(_SEPARATOR.join(pieces))


def _literal_pattern(literal: str) -> str:
    if VARIANTS.keys().isdisjoint(literal):  # most words: letters only, escaped at once
        return re.escape(literal)
    return "".join(variant_class(char) for char in literal)


def _key_index(literals: list[str]) -> int:
    ranked = [(len(w) - (100 if w in COMMON_WORDS else 0), i) for i, w in enumerate(literals)]
    return max(ranked)[1]


def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile a `re:` term, refusing the shapes that backtrack catastrophically."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise TermError(f"regex is {len(pattern)} characters long (limit {MAX_REGEX_LENGTH})")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise TermError(f"regex does not compile: {exc}") from None
    problem = backtracking_problem(pattern)
    if problem:
        raise TermError(f"regex may backtrack catastrophically: {problem}")
    if compiled.search("") is not None:
        raise TermError("regex matches the empty string")
    return compiled

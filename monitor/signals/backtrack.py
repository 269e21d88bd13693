"""Whether a regex may backtrack catastrophically, judged from its shape.

A small reader of Python's regex syntax gives the shape the check needs: sequences of
atoms, groups, alternations, look-arounds and repeats. It reads only patterns that
`re.compile` accepted, and shapes them as the standard library's own parser does: a
non-capturing group without flags dissolves into its sequence (or becomes the body of
the repeat on it), an alternation whose branches start alike has that start moved in
front of it, and an alternation of single characters becomes one character set. Atoms
are equal when they match the same thing; groups, repeats and alternations never are.

Refused: an unbounded repeat (more than 10) inside another, an unbounded repeat of an
alternation whose branches can start alike (`(a|ab)*`), and two adjacent unbounded
repeats that can start alike (`\\s*\\s*`). Possessive repeats and atomic groups do not
backtrack into themselves.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

REPEAT_LIMIT: Final = 10  # a repeat of more than this many counts as unbounded
_SPECIAL: Final = ".\\[{()*+?^$|"
_WHITESPACE: Final = " \t\n\r\v\f"
_SIMPLE_ESCAPES: Final = MappingProxyType(
    {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
)
_CATEGORIES: Final = frozenset("dDsSwW")
_ANCHORS: Final = frozenset("AbBZ")
_ANY_CHAR: Final = frozenset({"*any*"})


@dataclass(frozen=True, slots=True)
class Atom:
    """One character, character set, anchor or back reference. `kind` "LITERAL" has a
    code point as `value`; others a value that is equal when they match alike."""

    kind: str
    value: object = None


@dataclass(frozen=True, slots=True, eq=False)
class Group:
    """A group: capturing, or with flags (a plain one dissolves into its sequence)."""

    body: list[Node]
    plain: bool  # non-capturing and without flags


@dataclass(frozen=True, slots=True, eq=False)
class Repeat:
    """A repeated sequence; `high` None: no bound."""

    low: int
    high: int | None
    body: list[Node]
    possessive: bool

    @property
    def unbounded(self) -> bool:
        """Whether it repeats more often than REPEAT_LIMIT."""
        return self.high is None or self.high > REPEAT_LIMIT


@dataclass(frozen=True, slots=True, eq=False)
class Branch:
    """An alternation."""

    branches: list[list[Node]]


@dataclass(frozen=True, slots=True, eq=False)
class Look:
    """A look-ahead or look-behind, or an atomic group (`atomic`)."""

    body: list[Node]
    atomic: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Conditional:
    """A group that matches depending on whether another matched (not looked into)."""


Node = Atom | Group | Repeat | Branch | Look | Conditional


def backtracking_problem(pattern: str) -> str:
    """Why `pattern` (which `re.compile` accepts) may backtrack catastrophically, or ""."""
    return _problem(_Reader(pattern).alternation(verbose=False, top=True), inside_repeat=False)


class _Reader:
    """Reads a pattern into nodes, position by position."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.groups = 1  # the number the next capturing group gets
        self.names: dict[str, int] = {}
        self.verbose = False  # whitespace and comments are skipped ("x" flag)

    def peek(self) -> str:
        """The next character ("" at the end)."""
        return self.text[self.at : self.at + 1]

    def take(self) -> str:
        """The next character, or a backslash and the character it escapes."""
        piece = self.text[self.at : self.at + 2] if self.peek() == "\\" else self.peek()
        self.at += len(piece)
        return piece

    def take_if(self, wanted: str) -> bool:
        """Take the next character if it is `wanted`."""
        if self.peek() == wanted:
            self.at += 1
            return True
        return False

    def take_while(self, limit: int, allowed: str) -> str:
        """Up to `limit` next characters of `allowed`."""
        start = self.at
        while self.at - start < limit and self.peek() and self.peek() in allowed:
            self.at += 1
        return self.text[start : self.at]

    def take_until(self, end: str) -> str:
        """The characters before `end`, which is taken too."""
        stop = self.text.index(end, self.at)
        found, self.at = self.text[self.at : stop], stop + 1
        return found

    def alternation(self, verbose: bool, top: bool = False) -> list[Node]:
        """Alternatives separated by "|", up to ")" or the end."""
        items = [self.sequence(verbose)]
        while self.take_if("|"):
            items.append(self.sequence(self.verbose if top else verbose))
        return _alternatives(items)

    def sequence(self, verbose: bool) -> list[Node]:
        """Nodes up to "|", ")" or the end; plain groups dissolve into it."""
        nodes: list[Node] = []
        self.verbose = verbose
        while self.peek() and self.peek() not in "|)":
            piece = self.take()
            if self.verbose and piece in _WHITESPACE:
                continue
            if self.verbose and piece == "#":
                while self.peek() and self.take() != "\n":
                    pass
                continue
            self.piece(piece, nodes)
        return [
            part
            for node in nodes
            for part in (node.body if isinstance(node, Group) and node.plain else [node])
        ]

    def piece(self, piece: str, nodes: list[Node]) -> None:
        """Add what `piece` starts to `nodes`."""
        if piece.startswith("\\"):
            nodes.append(self.escape(piece))
        elif piece not in _SPECIAL:
            nodes.append(Atom("LITERAL", ord(piece)))
        elif piece == "[":
            nodes.append(self.char_set())
        elif piece in "*+?{":
            self.repeat(piece, nodes)
        elif piece == ".":
            nodes.append(Atom("ANY"))
        elif piece == "(":
            group = self.group()
            if group is not None:
                nodes.append(group)
        else:
            nodes.append(Atom("AT", "BEGINNING" if piece == "^" else "END"))

    def repeat(self, piece: str, nodes: list[Node]) -> None:
        """Make the last node a repeat."""
        if piece == "{":
            bounds = self.bounds()
            if bounds is None:
                nodes.append(Atom("LITERAL", ord("{")))
                return
            low, high = bounds
        else:
            low, high = {"?": (0, 1), "*": (0, None), "+": (1, None)}[piece]
        last = nodes[-1]
        body = last.body if isinstance(last, Group) and last.plain else [last]
        possessive = not self.take_if("?") and self.take_if("+")
        nodes[-1] = Repeat(low, high, body, possessive)

    def bounds(self) -> tuple[int, int | None] | None:
        """The bounds of "{m,n}" after its "{", or None if it is a literal "{"."""
        start = self.at
        if self.peek() == "}":
            return None
        low = self.take_while(len(self.text), "0123456789")
        high = self.take_while(len(self.text), "0123456789") if self.take_if(",") else low
        if not self.take_if("}"):
            self.at = start
            return None
        return int(low or 0), int(high) if high else None

    def group(self) -> Node | None:
        """What "(" starts: a group, look-around, reference or flags (None if nothing)."""
        capture, plain, verbose = True, True, self.verbose
        if self.take_if("?"):
            char = self.take()
            if char == "P" and self.take_if("="):
                return Atom("GROUPREF", self.names[self.take_until(")")])
            if char == "P":
                self.take()  # "<"
                self.names[self.take_until(">")] = self.groups
            elif char == "#":
                self.take_until(")")
                return None
            elif char in "=!<":
                return self.look(char)
            elif char == "(":
                return self.conditional()
            elif char == ">":
                body = self.closed(verbose)
                return Look(body, atomic=True)
            elif char == ":":
                capture = False
            else:
                flags = char + self.take_while(len(self.text), "aiLmsux-")
                if self.take() == ")":  # global flags
                    self.verbose = verbose = "x" in flags
                    return None
                added, _, removed = flags.partition("-")
                capture, plain = False, False
                verbose = (verbose or "x" in added) and "x" not in removed
        if capture:
            self.groups += 1
        body = self.closed(verbose)
        return Group(body, plain=plain and not capture)

    def closed(self, verbose: bool) -> list[Node]:
        """An alternation and its closing ")"; the reader's mode is restored after it."""
        outer = self.verbose
        body = self.alternation(verbose)
        self.take()  # ")"
        self.verbose = outer
        return body

    def look(self, char: str) -> Node:
        """A look-ahead or look-behind after "(?" and `char`."""
        if char == "<":
            self.take()  # "=" or "!"
        return Look(self.closed(self.verbose))

    def conditional(self) -> Node:
        """A conditional group after "(?(": its branches are not looked into."""
        self.take_until(")")
        outer = self.verbose
        self.sequence(outer)
        if self.take_if("|"):
            self.sequence(outer)
        self.take()  # ")"
        self.verbose = outer
        return Conditional()

    def escape(self, piece: str) -> Atom:
        """An escape outside a character set."""
        char = piece[1:]
        if char in _CATEGORIES:
            return Atom("IN", (("CATEGORY", char),))
        if char in _ANCHORS:
            return Atom("AT", char)
        if char == "0":
            return Atom("LITERAL", int("0" + self.take_while(2, "01234567"), 8))
        if char.isdigit() and char.isascii():
            digits = char
            if self.peek().isdigit() and self.peek().isascii():
                digits += self.take()
                if (
                    digits[0] in "01234567"
                    and digits[1] in "01234567"
                    and self.peek()
                    and self.peek() in "01234567"
                ):
                    return Atom("LITERAL", int(digits + self.take(), 8))
            return Atom("GROUPREF", int(digits))
        return Atom("LITERAL", self.code(char))

    def code(self, char: str) -> int:
        """The code point of an escaped character (after the backslash)."""
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        hex_digits = "0123456789abcdefABCDEF"
        if char in ("x", "u", "U"):
            return int(self.take_while({"x": 2, "u": 4, "U": 8}[char], hex_digits), 16)
        if char == "N":
            self.take()  # "{"
            return ord(unicodedata.lookup(self.take_until("}")))
        if char in "01234567":
            return int(char + self.take_while(2, "01234567"), 8)
        return ord(char)

    def char_set(self) -> Atom:
        """A character set after its "[" (one literal: that character)."""
        items: list[tuple[str, object]] = []
        negate = self.take_if("^")
        while True:
            piece = self.take()
            if piece == "]" and items:
                break
            first = self.set_item(piece)
            if self.take_if("-"):
                piece = self.take()
                if piece == "]":
                    items += [first, ("LITERAL", ord("-"))]
                    break
                last = self.set_item(piece)
                items.append(("RANGE", (first[1], last[1])))
            else:
                items.append(first)
        unique = tuple(dict.fromkeys(items))
        if len(unique) == 1 and unique[0][0] == "LITERAL":
            return Atom("NOT_LITERAL" if negate else "LITERAL", unique[0][1])
        return Atom("IN", (("NEGATE", None), *unique) if negate else unique)

    def set_item(self, piece: str) -> tuple[str, object]:
        """One character or category inside a character set."""
        if not piece.startswith("\\"):
            return ("LITERAL", ord(piece))
        char = piece[1:]
        if char in _CATEGORIES:
            return ("CATEGORY", char)
        return ("LITERAL", self.code(char))


def _alternatives(items: list[list[Node]]) -> list[Node]:
    """One sequence for alternatives: a common start moved in front, single characters
    made one set, else an alternation."""
    if len(items) == 1:
        return items[0]
    found: list[Node] = []
    while all(items) and all(item[0] == items[0][0] for item in items):
        found.append(items[0][0])
        for item in items:
            del item[0]
    chars: list[tuple[str, object]] = []
    for item in items:
        if len(item) != 1 or not isinstance(item[0], Atom):
            break
        atom = item[0]
        if atom.kind == "LITERAL":
            chars.append(("LITERAL", atom.value))
        elif atom.kind == "IN" and isinstance(atom.value, tuple) and atom.value[0][0] != "NEGATE":
            chars.extend(atom.value)
        else:
            break
    else:
        return [*found, Atom("IN", tuple(dict.fromkeys(chars)))]
    return [*found, Branch(items)]


def _problem(nodes: Sequence[Node], inside_repeat: bool) -> str:
    """Why a sequence may backtrack catastrophically ("" if it may not)."""
    previous: Repeat | None = None  # the unbounded repeat just before, if any
    for node in nodes:
        if not isinstance(node, Repeat):
            previous = None
            for child in _children(node):
                found = _problem(child, inside_repeat)
                if found:
                    return found
            continue
        unbounded = node.unbounded
        if unbounded and inside_repeat and not node.possessive:
            return "a repeated group contains another unbounded repeat, e.g. (a+)+"
        if unbounded and _alternatives_overlap(node.body):
            return "a repeated group has alternatives that can start alike, e.g. (a|ab)*"
        if (
            unbounded
            and previous is not None
            and overlap(_first_chars(previous.body), _first_chars(node.body))
        ):
            return "two adjacent unbounded repeats can match the same text, e.g. \\s*\\s*"
        found = _problem(node.body, inside_repeat or unbounded)
        if found:
            return found
        previous = node if unbounded else None
    return ""


def _children(node: Node) -> list[list[Node]]:
    """The sequences inside a node that is not a repeat (a repeat's own check covers its
    body)."""
    if isinstance(node, (Group, Look)):
        return [node.body]
    if isinstance(node, Branch):
        return node.branches
    return []


def _alternatives_overlap(body: Sequence[Node]) -> bool:
    """True when some alternation inside `body` has branches that can start alike."""
    for node in body:
        if isinstance(node, Branch):
            firsts = [_first_chars(branch) for branch in node.branches]
            if any(overlap(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :]):
                return True
        if any(_alternatives_overlap(child) for child in _children(node)):
            return True
    return False


def _first_chars(nodes: Sequence[Node]) -> frozenset[str]:
    """A coarse set of what the first character can be; "*any*" overlaps everything."""
    if not nodes:
        return _ANY_CHAR
    node = nodes[0]
    if isinstance(node, Atom) and node.kind == "LITERAL" and isinstance(node.value, int):
        return frozenset({chr(node.value).lower()})
    if isinstance(node, Group | Repeat):
        return _first_chars(node.body)
    if isinstance(node, Branch):
        return frozenset().union(*(_first_chars(branch) for branch in node.branches))
    return _ANY_CHAR


def overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two sets of first characters may share one."""
    return bool(a & b) or "*any*" in a or "*any*" in b

"""The shape check of regex terms: what backtracks catastrophically is refused, and
patterns are shaped as Python's own regex parser shapes them."""

from __future__ import annotations

import pytest

from monitor.signals.backtrack import backtracking_problem

REFUSED = [
    r"(a+)+",
    r"(?:a+)+",
    r"(a{1,11})+",
    r"a{2,10}(b+)+",
    r"(\w+-)+",
    r"(?:\w+\s)*\w+",
    r"(?=a+)+",
    r"(?>a+)+",  # nested unbounded repeats
    r"(a|ab)*",
    r"(?:x|x)+",  # alternatives that start alike
    r"\s+\s*",
    r"\s*\s+?",
    r"(a|b)*c*",
    r"a*[A]+",
    r"[ab]+[b]+",
    r"[^a]+b+",
    r"(?i:a)+(?i:a)+",
    r"(?:ab|cd)+(?:ab)*",  # adjacent repeats that start alike
]
ACCEPTED = [
    r"(a++)+",  # a possessive repeat does not backtrack
    r"(a{1,10})+",  # ten or fewer is bounded
    r"(ab|ac)*",  # the common start moves in front of the alternation
    r"(?:a|b)*x",
    r"(a|[bc])+",
    r"(a|\d)+",  # single characters become one set
    r"\s+x\s*",
    r"(?x) a + b *",
    r"(a)+",
    r"((a)|b)+",
    r"(?P<n>a)(?P=n)+",
    r"new start(?: treaty)?",
    r"(?:talks|meeting)s? with",
    r"путин\w{0,3}",
]


@pytest.mark.parametrize("pattern", REFUSED)
def test_backtrack_dangerous_shape_named(pattern: str) -> None:
    """A shape that can backtrack catastrophically is named."""
    assert backtracking_problem(pattern)


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_backtrack_safe_shape_passes(pattern: str) -> None:
    """Bounded and possessive repeats, and alternatives that start apart, pass."""
    assert backtracking_problem(pattern) == ""

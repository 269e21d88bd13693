"""The signal matcher: rules as data, folded text, one automaton pass, explained flags.

Pure: no network, database, clock or environment.
"""

from monitor.signals.matcher import compose_document, match_document
from monitor.signals.rules import RuleSet, load_rules

__all__ = ["RuleSet", "compose_document", "load_rules", "match_document"]

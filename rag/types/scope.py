"""Which documents a question may draw on, as the patterns a person gave
(`--only`, `/only`); rag/retrieve/scope.py resolves them against the index."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Scope:
    """The patterns a conversation or a command is limited to; none: every document."""

    patterns: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.patterns

    def describe(self) -> str:
        """For a status bar: "all documents" or "only: budget*, Macron"."""
        return "all documents" if self.everything else "only: " + ", ".join(self.patterns)


def scope_of(patterns: Sequence[str] | None) -> Scope:
    """A Scope from flags or a command's words; blank patterns are dropped."""
    return Scope(tuple(dict.fromkeys(p.strip() for p in patterns or () if p.strip())))

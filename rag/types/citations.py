"""The citation checker's verdicts: each answer sentence, the evidence found for it, the report."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rag.types.corpus import Passage


class Verdict(StrEnum):
    """The citation checker's verdict on one answer sentence (rag/check/checker.py).
    The values are what `--json` and saved conversations have always held."""

    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    WRONG_SOURCE = "wrong source"
    UNCITED = "uncited"
    NO_CLAIM = "no claim"  # a refusal or connective sentence: needs no citation
    # The reviewer's (rag/answer/review.py), on a sentence the checker found supported:
    # re-read with its key number or name blanked, the sources gave nothing to fill it
    # (unsure), or gave another number or name that the cited passage states (contradicted).
    UNSURE = "unsure"
    CONTRADICTED = "contradicted"


SUPPORTED = Verdict.SUPPORTED
UNSUPPORTED = Verdict.UNSUPPORTED
WRONG_SOURCE = Verdict.WRONG_SOURCE
UNCITED = Verdict.UNCITED
NO_CLAIM = Verdict.NO_CLAIM
UNSURE = Verdict.UNSURE
CONTRADICTED = Verdict.CONTRADICTED
VERDICT_MARKS = {SUPPORTED: "✓", UNSUPPORTED: "✗", CONTRADICTED: "✗", WRONG_SOURCE: "↪", UNSURE: "?", UNCITED: "?",
                 NO_CLAIM: "·"}
# Verdicts a reader cannot rely on: `--strict` and a briefing's body leave these out.
NOT_SHOWN_STRICTLY = frozenset({UNSUPPORTED, CONTRADICTED, UNSURE, UNCITED})


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the source numbers its markers name."""

    index: int
    start: int  # offsets in the answer; `end` includes the sentence's markers
    end: int
    text: str  # without markers, whitespace collapsed
    cited: tuple[int, ...]

    def with_markers(self) -> str:
        """The sentence as written, its markers after it ("… [1][3]")."""
        return self.text + (" " + "".join(f"[{n}]" for n in self.cited) if self.cited else "")


@dataclass(frozen=True)
class Evidence:
    """The sentence (or two) of a passage that best matches an answer sentence."""

    number: int | None  # the passage's number in the answer; None when it was not numbered
    passage: Passage
    start: int  # offsets into passage.text
    end: int
    similarity: float

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]

    @property
    def where(self) -> str:
        """How a reader finds it: "[3]" when the answer numbered it, else its label."""
        return f"[{self.number}]" if self.number is not None else self.passage.label

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.passage.id, "label": self.passage.label,
                "source": self.passage.source, "sentence": self.text, "start": self.start, "end": self.end,
                "similarity": round(self.similarity, 4)}


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one answer sentence, with the reason and the evidence."""

    sentence: AnswerSentence
    verdict: Verdict
    reason: str
    evidence: Evidence | None  # best match in what it cites (uncited: in any passage)
    supported_by: Evidence | None = None  # wrong source / uncited: the passage that states it
    invalid: tuple[int, ...] = ()  # markers naming no source that was given
    score: float | None = None  # calibrated support score against what it cites (1.0: quoted verbatim)
    unsupported_parts: tuple[str, ...] = ()  # the clauses of a long sentence that are not stated

    @property
    def mark(self) -> str:
        return VERDICT_MARKS[self.verdict]

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence.text, "cited": list(self.sentence.cited), "verdict": self.verdict,
                "reason": self.reason, "invalid_citations": list(self.invalid),
                "support_score": None if self.score is None else round(self.score, 4),
                "unsupported_parts": list(self.unsupported_parts),
                "evidence": self.evidence.to_json() if self.evidence else None,
                "supported_by": self.supported_by.to_json() if self.supported_by else None}


@dataclass(frozen=True)
class CitationReport:
    """Every sentence of an answer checked."""

    checks: tuple[SentenceCheck, ...]
    milliseconds: float = 0.0

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.checks if c.verdict == verdict)

    @property
    def claims(self) -> int:
        """Sentences that needed a source (all but refusals and connectives)."""
        return sum(1 for c in self.checks if c.verdict != NO_CLAIM)

    @property
    def all_supported(self) -> bool:
        return self.count(SUPPORTED) == self.claims

    def summary(self) -> str:
        """One line: "4 of 5 sentences supported (1 uncited)"."""
        if not self.claims:
            return "no claims to check"
        problems = [f"{self.count(v)} {v}" for v in (CONTRADICTED, UNSUPPORTED, UNSURE, WRONG_SOURCE, UNCITED)
                    if self.count(v)]
        noun = "sentence" if self.claims == 1 else "sentences"
        return f"{self.count(SUPPORTED)} of {self.claims} {noun} supported" + (
            f" ({', '.join(problems)})" if problems else "")

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "supported": self.count(SUPPORTED), "claims": self.claims,
                "milliseconds": self.milliseconds, "sentences": [c.to_json() for c in self.checks]}

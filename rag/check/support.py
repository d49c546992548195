"""How strongly the passages a sentence cites state it: one calibrated score.

The checker's hard rules (every number, month, quotation and name present; no
negation conflict) catch the errors a model makes when it copies badly. What is
left is paraphrase, where no single signal separates "says the same" from "says
something near it": a supported claim rarely repeats its source's words, and a
claim one detail off embeds close to its source. So a small logistic model
combines the signals below into a probability that the sentence is stated.

Its weights are package data (`rag/data/support_model.json`), fitted on WiCE's
dev claims (real Wikipedia sentences and the articles they cite, labelled by
people) by `bench/fit_support.py`, which also prints the cross-validated figures.
The fitted decision threshold is folded into the bias, so a score of 0.5 is the
fitted operating point; `support_threshold` moves it (higher flags more).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, fields
from importlib import resources
from typing import Mapping, Sequence

from rag.text.words import content_words
from rag.types.errors import ConfigError

PACKAGED = "support_model.json"
FORMAT = 1

# Where a long sentence makes several claims: after a semicolon, and at a comma or
# a conjunction that opens a new clause or a relative clause.
_PART_BOUNDARY = re.compile(
    r"\s*;\s*|\s*[–—]\s+|,\s+(?=(?:and|but|while|whereas|although|though|which|who|where|when|after|before|"
    r"including|with|as)\b)|\s+(?=(?:and|but|while|whereas)\s+(?:he|she|it|they|the|his|her|their|was|were|"
    r"is|are|has|had|have|later|then|also|became|won|received|died|appeared)\b)",
    re.I,
)
MIN_PART_WORDS = 2  # a part with fewer content words makes no claim of its own


def claim_parts(sentence: str) -> list[str]:
    """The clauses of a sentence that each make a claim: "born in 1909, and died
    in 1998" -> ["born in 1909", "and died in 1998"]. A sentence of one clause is
    its own only part."""
    parts = [p.strip(" ,.;") for p in _PART_BOUNDARY.split(sentence)]
    parts = [p for p in parts if p]
    merged: list[str] = []
    for part in parts:
        if merged and len(content_words(part)) < MIN_PART_WORDS:
            merged[-1] = f"{merged[-1]}, {part}"  # too small to stand alone: keep it with its clause
        else:
            merged.append(part)
    if len(merged) > 1 and len(content_words(merged[0])) < MIN_PART_WORDS:
        merged[1] = f"{merged[0]}, {merged[1]}"
        merged.pop(0)
    return merged or [sentence]


def coverage(words: set[str], evidence: set[str]) -> float:
    return len(words & evidence) / len(words) if words else 1.0


@dataclass(frozen=True)
class SupportSignals:
    """What the checker measures of one sentence against what it cites."""

    similarity: float  # cosine to the closest sentence, or pair of consecutive sentences, cited
    coverage: float  # share of the sentence's content words in its three closest windows
    part_coverage: float  # the lowest such share among the sentence's clauses
    length: float  # log(1 + content words): long claims hold more that can be missing

    @classmethod
    def measure(cls, sentence: str, similarity: float, closest_texts: Sequence[str],
                parts: Sequence[str] | None = None) -> "SupportSignals":
        """`parts`: the sentence's `claim_parts`, when the caller has them already."""
        evidence: set[str] = set().union(*(content_words(t) for t in closest_texts)) if closest_texts else set()
        words = content_words(sentence)
        part_words = [content_words(p) for p in (claim_parts(sentence) if parts is None else parts)]
        part_words = [p for p in part_words if len(p) >= MIN_PART_WORDS] or [words]
        return cls(similarity, coverage(words, evidence), min(coverage(p, evidence) for p in part_words),
                   math.log1p(len(words)))

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


SIGNAL_NAMES = tuple(f.name for f in fields(SupportSignals))


@dataclass(frozen=True)
class SupportModel:
    """A logistic model over named signals: score = σ(bias + Σ weight·signal)."""

    weights: Mapping[str, float]
    bias: float
    fitted_on: str = ""

    def score(self, signals: SupportSignals) -> float:
        values = signals.as_dict()
        z = self.bias + sum(w * values[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> dict:
        return {"format": FORMAT, "weights": dict(self.weights), "bias": self.bias, "fitted_on": self.fitted_on}

    @classmethod
    def from_json(cls, data: Mapping, where: str = PACKAGED) -> "SupportModel":
        try:
            if data.get("format") != FORMAT:
                raise ConfigError(f"{where}: support model format {data.get('format')!r}, expected {FORMAT}")
            weights = {str(k): float(v) for k, v in data["weights"].items()}
            unknown = set(weights) - set(SIGNAL_NAMES)
            if unknown:
                raise ConfigError(f"{where}: unknown signals {sorted(unknown)} (known: {', '.join(SIGNAL_NAMES)})")
            return cls(weights, float(data["bias"]), str(data.get("fitted_on", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{where}: not a support model: {exc}") from None

    @classmethod
    def packaged(cls) -> "SupportModel":
        """The model shipped with the package (fitted by bench/fit_support.py)."""
        text = resources.files("rag").joinpath("data", PACKAGED).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))

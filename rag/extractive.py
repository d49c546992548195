"""Extractive answers: the one to three sentences of the retrieved passages that
best answer the question, quoted verbatim, each followed by its source number.

The mode a newcomer meets first, on a machine with no GGUF model.
"""
from __future__ import annotations

from typing import Sequence

from rag.select import ScoredSentence

MAX_SENTENCES = 3
# A further candidate joins the answer only when it scores close to the best one,
# so a clear answer is not diluted by loosely related text.
RELATIVE_FLOOR = 0.8


def choose(scored: Sequence[ScoredSentence], max_sentences: int = MAX_SENTENCES) -> list[ScoredSentence]:
    """Best candidates first, no two overlapping, at most `max_sentences` sentences."""
    ranked = sorted(scored, key=lambda s: -s.score)
    if not ranked:
        return []
    floor = ranked[0].score * RELATIVE_FLOOR
    chosen: list[ScoredSentence] = []
    used = 0
    seen_texts: set[str] = set()
    for cand in ranked:
        if cand.score < floor:
            break
        if used + len(cand.sentences) > max_sentences:
            continue
        if any(c.hit_index == cand.hit_index and cand.start < c.end and c.start < cand.end for c in chosen):
            continue
        if any(" ".join(s.lower().split()) in seen_texts for s in cand.sentences):
            continue  # the same sentence in another passage (a duplicated paragraph)
        chosen.append(cand)
        used += len(cand.sentences)
        seen_texts.update(" ".join(s.lower().split()) for s in cand.sentences)
    return chosen


def compose(chosen: Sequence[ScoredSentence]) -> str:
    """Each sentence verbatim, each followed by its 1-based source number."""
    return " ".join(f"{sentence} [{c.hit_index + 1}]" for c in chosen for sentence in c.sentences)

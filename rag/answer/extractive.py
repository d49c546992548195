"""Extractive answers: the one to three sentences of the retrieved passages that
best answer the question, quoted verbatim, each followed by its source number.

The mode a newcomer meets first, on a machine with no GGUF model.
"""
from __future__ import annotations

from typing import Callable, Sequence

from rag.retrieve.select_sentences import ScoredSentence, pick

MAX_SENTENCES = 3
# A further candidate joins the answer only when it scores close to the best one,
# so a clear answer is not diluted by loosely related text.
RELATIVE_FLOOR = 0.8


def choose(scored: Sequence[ScoredSentence], max_sentences: int = MAX_SENTENCES) -> list[ScoredSentence]:
    """Best candidates first, no two overlapping, at most `max_sentences` sentences."""
    if not scored:
        return []
    return pick(scored, max_sentences, max(s.score for s in scored) * RELATIVE_FLOOR)


def compose(chosen: Sequence[ScoredSentence], number: Callable[[int], int] = lambda hit_index: hit_index + 1) -> str:
    """Each sentence verbatim, each followed by its source number: by default the
    hit's 1-based rank; `number` maps a hit index to another numbering."""
    return " ".join(f"{sentence} [{number(c.hit_index)}]" for c in chosen for sentence in c.sentences)

"""Pick the sentences of retrieved passages that bear on a question.

Used twice: to keep a model's prompt compact (only the sentences that matter,
since on a laptop CPU every prompt token costs time), and to build extractive
answers when no model is available. A candidate is one sentence, or two
consecutive ones ("This resolution garnered 93 votes…" only makes sense after
the sentence that names the resolution). Its score mixes embedding similarity to
the question with the share of the question's content words it contains, because
either alone misses: embeddings blur names and numbers, word overlap misses
paraphrase. The weights were chosen on the seed question set (bench/RESULTS.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rag.embedding.base import Embedder
from rag.retrieve.question import QuestionAnalysis, gives_answer
from rag.text.sentences import sentence_spans
from rag.text.words import content_words, looks_like_instruction
from rag.types.corpus import Hit

_FINAL = re.compile(r"[.!?…:;\"'”’)\]]$")

SIMILARITY_WEIGHT = 0.7
TOP_PASSAGE_BONUS = 0.05  # the fused retriever saw the whole passage: trust its first pick a little
PAIR_PENALTY = 0.03  # a pair must earn its second sentence
TYPE_BONUS = 0.05  # holds what the question asks for (bench/answer_quality.py)


def is_heading(sentence: str) -> bool:
    """A section heading glued to its paragraph ("Security Guarantees Debate"):
    short, no final punctuation, not a "Label: value" line."""
    return not _FINAL.search(sentence) and ":" not in sentence and len(sentence.split()) < 8


@dataclass(frozen=True)
class ScoredSentence:
    hit_index: int  # position of its passage among the hits (0-based)
    start: int  # offsets within the passage text
    end: int
    text: str
    sentences: tuple[str, ...]  # one, or two consecutive
    similarity: float
    overlap: float
    score: float


class SentenceSelector:
    """Scores candidate sentences of hits against a question."""

    def __init__(self, embedder: Embedder, similarity_weight: float = SIMILARITY_WEIGHT,
                 type_bonus: float = TYPE_BONUS):
        self.embedder = embedder.scoring_embedder()
        self.similarity_weight = similarity_weight
        self.type_bonus = type_bonus

    def score(self, question: str, hits: Sequence[Hit], pairs: bool = True,
              analysis: QuestionAnalysis | None = None) -> list[ScoredSentence]:
        """Each candidate's score; with the question's `analysis`, a candidate that
        holds an answer of the asked type (a number for "how many", a date for
        "when", a name for "who") gains `type_bonus` over one that only shares the topic."""
        pieces: list[tuple[int, int, int, tuple[str, ...]]] = []
        for i, hit in enumerate(hits):
            text = hit.passage.text
            spans = [(s, e) for s, e in sentence_spans(text)
                     if not is_heading(text[s:e]) and not looks_like_instruction(text[s:e])]
            for j, (s, e) in enumerate(spans):
                pieces.append((i, s, e, (text[s:e],)))
                if pairs and j + 1 < len(spans):
                    s2, e2 = spans[j + 1]
                    pieces.append((i, s, e2, (text[s:e], text[s2:e2])))
        if not pieces:
            return []
        q_words = content_words(question)
        q_vec = self.embedder.embed_query(question)
        texts = [hits[i].passage.text[s:e] for i, s, e, _ in pieces]
        sims = self.embedder.embed(texts) @ q_vec
        w = self.similarity_weight
        out = []
        for (i, s, e, sentences), text, sim in zip(pieces, texts, sims):
            overlap = len(q_words & content_words(text)) / len(q_words) if q_words else 0.0
            score = (w * float(sim) + (1 - w) * overlap + (TOP_PASSAGE_BONUS if i == 0 else 0.0)
                     - PAIR_PENALTY * (len(sentences) - 1))
            if analysis is not None and analysis.missing_words and gives_answer(text, analysis):
                score += self.type_bonus
            out.append(ScoredSentence(i, s, e, text, sentences, float(sim), overlap, score))
        return out


def singles(scored: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    return [s for s in scored if len(s.sentences) == 1]


def pick(scored: Sequence[ScoredSentence], max_sentences: int, floor: float) -> list[ScoredSentence]:
    """The best candidates scoring at least `floor`, best first: no two overlapping,
    no sentence twice (a paragraph duplicated across files), at most
    `max_sentences` sentences in all (a pair counts two)."""
    chosen: list[ScoredSentence] = []
    used = 0
    seen: set[str] = set()
    for cand in sorted(scored, key=lambda s: -s.score):
        if cand.score < floor:
            break
        if used + len(cand.sentences) > max_sentences:
            continue
        if any(c.hit_index == cand.hit_index and cand.start < c.end and c.start < cand.end for c in chosen):
            continue
        keys = [" ".join(s.lower().split()) for s in cand.sentences]
        if any(k in seen for k in keys):
            continue
        chosen.append(cand)
        used += len(cand.sentences)
        seen.update(keys)
    return chosen

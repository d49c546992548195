"""Build the embedder the settings name. Only the wiring (`rag/wiring.py`) calls this."""
from __future__ import annotations

from typing import Callable

from rag.config import Settings
from rag.embedding.base import Embedder, default_precision
from rag.types.errors import EmbeddingModelError, Fix, Remedy


def open_embedder(name: str | None, settings: Settings, on_status: Callable[[str], None] | None = None,
                  precision: str | None = None) -> Embedder:
    """The embedder `settings.embed_backend` names, for model `name` at `precision`
    (an index's own; None: the settings', else the backend's default)."""
    precision = precision or settings.embed_precision or default_precision(settings.embed_backend)
    if settings.embed_backend == "torch":
        if precision != "float32":
            raise EmbeddingModelError(f"the torch backend computes float32 vectors, not {precision}",
                                      Remedy(Fix.USE, "embed_backend", "onnx", note="for them"))
        from rag.embedding.torch_backend import TorchEmbedder

        return TorchEmbedder(name, allow_download=settings.allow_download, batch_size=settings.embed_batch_size)
    from rag.embedding.onnx_backend import OnnxEmbedder

    return OnnxEmbedder(name, allow_download=settings.allow_download, batch_size=settings.embed_batch_size,
                        fallback_dir=settings.models_dir, on_status=on_status, precision=precision)

"""The one place that turns `Settings` into pipeline parts.

The library service (rag/library.py), the benchmarks and the tests open what they
need here and build no part themselves; the front ends go through the library.
Each function takes explicit overrides, so a benchmark that sweeps embedders or
thresholds passes its variant through the same path the product takes:

    settings ─► embedder_for ─► open_index ─► open_retriever ─┐
                                       open_generator ─────────┼─► open_assistant
                                       open_checker ───────────┘

Heavy libraries are imported inside the functions, so importing this module is
cheap (`rag --help` stays instant).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from rag.config import Settings
from rag.environment import prepare_process

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant
    from rag.answer.generate import Generator
    from rag.check.checker import CitationChecker
    from rag.check.support import SupportModel
    from rag.embedding.base import Embedder
    from rag.index.manifest import Index
    from rag.retrieve.search import Retriever

# (model name, precision) -> an embedder: how an index asks for the model it was built with.
EmbedderLoader = Callable[[str, str], "Embedder"]


def embedder_for(settings: Settings, name: str | None = None, precision: str | None = None,
                  on_status: Callable[[str], None] | None = None) -> Embedder:
    """The embedder `settings.embed_backend` names, for model `name` (None: the
    settings') at `precision` (None: the settings', else the backend's default)."""
    from rag.embedding.factory import open_embedder

    prepare_process(settings.allow_download)
    return open_embedder(name if name is not None else settings.embed_model, settings, on_status=on_status,
                         precision=precision)


def embedder_loader(settings: Settings, on_status: Callable[[str], None] | None = None,
                    on_load: Callable[[str], None] | None = None) -> EmbedderLoader:
    """A loader that opens each (model, precision) once and keeps it: an ingest that
    adds to an index, then the retriever over it, share one loaded model.
    `on_load(name)` is told before a model is loaded (a front end's progress line)."""
    loaded: dict[tuple[str, str], Embedder] = {}

    def load(name: str, precision: str) -> Embedder:
        if (name, precision) not in loaded:
            if on_load is not None:
                on_load(name)
            loaded[name, precision] = embedder_for(settings, name, precision, on_status)
        return loaded[name, precision]

    return load


def open_index(settings: Settings) -> Index:
    """The index in `settings.index_dir` (an `IndexNotFoundError` when there is none)."""
    from rag.index.manifest import Index

    prepare_process(settings.allow_download)
    return Index.open(settings)


def open_retriever(settings: Settings, *, index: Index | None = None, embedder: Embedder | None = None,
                   load_embedder: EmbedderLoader | None = None) -> Retriever:
    """Hybrid search over `index` (default: `open_index`) with `embedder` (default: the
    model and precision the index was built with, from `load_embedder`)."""
    from rag.retrieve.search import Retriever

    index = index if index is not None else open_index(settings)
    if embedder is None:
        load = load_embedder or embedder_loader(settings)
        embedder = load(index.manifest.embed_model, index.manifest.embed_precision)
    return Retriever(index, embedder, settings)


def open_checker(settings: Settings, embedder: Embedder, *, threshold: float | None = None,
                 model: SupportModel | None = None) -> CitationChecker:
    """The citation checker, on a cache of `embedder`'s exact vectors (an
    `EmbeddingCache` passed in is shared, not wrapped again)."""
    from rag.check.checker import CitationChecker
    from rag.embedding.cache import EmbeddingCache

    cache = embedder if isinstance(embedder, EmbeddingCache) else EmbeddingCache(embedder)
    return CitationChecker(cache, settings.support_threshold if threshold is None else threshold, model=model)


def open_generator(settings: Settings) -> Generator | None:
    """The configured answering model (a GGUF through llama.cpp, or an
    OpenAI-compatible server), loaded; None when none is configured or found."""
    from rag.answer.generate import OpenAIGenerator, configured_model
    from rag.answer.model_process import ModelProcess

    prepare_process(settings.allow_download)
    target = configured_model(settings)
    if target is None:
        return None
    if isinstance(target, str):
        return OpenAIGenerator(target, n_ctx=settings.n_ctx, timeout=settings.llm_timeout_s)
    # In a process of its own, so that a crash in llama.cpp cannot end the program.
    return ModelProcess(target, n_ctx=settings.n_ctx, extra_buffers=settings.extra_buffers)


def open_assistant(settings: Settings, retriever: Retriever, generator: Generator | None = None, *,
                   checker: CitationChecker | None = None) -> Assistant:
    """An assistant whose sentence selector and citation checker share one cache of
    sentence embeddings (checking then embeds only the answer's own sentences)."""
    from rag.answer.assistant import Assistant
    from rag.embedding.cache import EmbeddingCache
    from rag.retrieve.select_sentences import SentenceSelector

    cache = EmbeddingCache(retriever.embedder)
    if checker is None:
        checker = open_checker(settings, cache)
    return Assistant(retriever, SentenceSelector(cache, type_bonus=settings.answer_type_bonus), settings,
                     generator, checker)

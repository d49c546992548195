"""What `rag mcp` serves, apart from the protocol: the index and the answering
model opened once, shared by every request in turn, and one function per tool
returning the same JSON the command line's `--json` prints.

One lock serialises the work: requests that touch the index or the model run one
at a time (a 2-core laptop answers one question at a time anyway, and one copy of
the model is all its memory should hold). A request that waits longer than the
wait limit gets a clear error instead of hanging its client. Between requests the
server follows other processes' ingests (`rag watch`, `rag ingest`), as the chat does.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from rag.config import Settings
from rag.types.errors import QueryError, RagError
from rag.wiring import embedder_loader

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant
    from rag.answer.generate import Generator
    from rag.retrieve.search import Retriever

DEFAULT_WAIT_S = 300.0  # a long answer on a slow laptop, and the one queued behind it


class ServerBusyError(RagError):
    """A request waited past the wait limit for the ones ahead of it."""


class Library:
    """The pipeline a server shares between its requests (see the module docstring)."""

    def __init__(self, settings: Settings, *, extractive: bool = False, ingest_roots: Sequence[Path] = (),
                 wait_s: float = DEFAULT_WAIT_S):
        self.settings = settings
        self.extractive = extractive
        self.ingest_roots = tuple(Path(os.path.realpath(r)) for r in ingest_roots)
        self.wait_s = wait_s
        self._lock = threading.Lock()
        # Loads each embedding model once: the retriever, a reopened index and the
        # ingest tool share it.
        self._load_embedder = embedder_loader(settings)
        self._retriever: Retriever | None = None
        self._generator: Generator | None = None
        self._generator_loaded = False
        self._assistant: Assistant | None = None

    # ------------------------------------------------------------------ sharing

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self.wait_s):
            raise ServerBusyError(f"the server was busy with other requests for {self.wait_s:g} s; try again, "
                                  "or start it with a longer --wait-limit")
        try:
            yield
        finally:
            self._lock.release()

    def _retriever_now(self) -> Retriever:
        from rag.index.manifest import Index
        from rag.wiring import open_retriever

        if self._retriever is None:
            self._retriever = open_retriever(self.settings, load_embedder=self._load_embedder)
        elif not self._retriever.index.is_current():
            # Another process ingested: search what the index holds now (its model,
            # if a rebuild changed it, is loaded; the same one is not loaded again).
            self._retriever = open_retriever(self.settings, index=Index.reopen(self.settings),
                                             load_embedder=self._load_embedder)
            self._assistant = None
        return self._retriever

    def _assistant_now(self) -> Assistant:
        from rag.wiring import open_assistant, open_generator

        retriever = self._retriever_now()
        if not self._generator_loaded:
            self._generator = None if self.extractive else open_generator(self.settings)
            self._generator_loaded = True
        if self._assistant is None:
            self._assistant = open_assistant(self.settings, retriever, self._generator)
        return self._assistant

    # ------------------------------------------------------------------ tools

    def search(self, question: str, k: int = 0, only: Sequence[str] = ()) -> dict[str, Any]:
        from rag.retrieve.scope import scope_of
        from rag.retrieve.search import validate_question

        question = validate_question(question)
        scope = scope_of(only)
        with self._turn():
            hits = self._retriever_now().search(question, k or self.settings.k,
                                                scope=None if scope.everything else scope)
        return {"question": question, "only": list(scope.patterns), "hits": [h.to_json() for h in hits]}

    def ask(self, question: str, only: Sequence[str] = (), strict: bool = False) -> dict[str, Any]:
        from rag.check.checker import strict_answer
        from rag.retrieve.scope import scope_of
        from rag.retrieve.search import validate_question
        from rag.types.answers import Answer

        question = validate_question(question)
        scope = scope_of(only)
        with self._turn():
            assistant = self._assistant_now()
            final = None
            for item in assistant.ask(question, extractive=self.extractive or self._generator is None,
                                      scope=None if scope.everything else scope):
                if isinstance(item, Answer):
                    final = item
        if final is None:
            raise QueryError("no answer came back")
        return (strict_answer(final) if strict else final).to_json()

    def check(self, text: str) -> dict[str, Any]:
        from rag.cli.views import check_json
        from rag.index.lookup import PassageLookup
        from rag.report.briefing import check_draft
        from rag.wiring import open_checker

        if not text.strip():
            raise QueryError("the draft is empty: give the text, with markers like [1] and a list of sources")
        with self._turn():
            retriever = self._retriever_now()
            result = check_draft(text, PassageLookup(retriever.index), retriever,
                                 open_checker(self.settings, retriever.embedder), self.settings.k)
        return check_json(result, "draft")

    def show(self, file: str) -> dict[str, Any]:
        from rag.cli.views import show_json

        with self._turn():
            return show_json(self._retriever_now().index, file)

    def status(self, files: bool = False) -> dict[str, Any]:
        from rag.cli.views import status_json
        from rag.index.manifest import read_manifest
        from rag.types.errors import IndexNotFoundError

        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            raise IndexNotFoundError(str(self.settings.index_dir))
        return status_json(self.settings, manifest, files=files)

    def ingest(self, path: str) -> dict[str, Any]:
        """Only below the folders the server was started with (`--allow-ingest DIR`)."""
        from rag.cli.advice import advise
        from rag.ingest.pipeline import ingest_paths

        target = Path(os.path.realpath(os.path.expanduser(path)))
        if not any(target == root or target.is_relative_to(root) for root in self.ingest_roots):
            allowed = ", ".join(str(r) for r in self.ingest_roots)
            raise QueryError(f"{path}: outside the folders this server may ingest ({allowed})")
        with self._turn():
            report = ingest_paths([target], self.settings, self._load_embedder)
        return {"added": list(report.added), "updated": list(report.updated), "removed": list(report.removed),
                "unchanged": len(report.unchanged),
                "problems": [{"path": p.path, "reason": p.reason, "advice": advise(p.remedies) or None}
                             for p in report.problems],
                "documents": report.documents_total, "passages": report.passages_total}


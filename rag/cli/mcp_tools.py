"""What `rag mcp` serves, apart from the protocol: one function per tool, on the
library service (rag/library.py, which holds the index and the model, opened
once), returning the same JSON the command line's `--json` prints.

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

from rag.types.errors import QueryError, RagError
from rag.types.scope import scope_of

if TYPE_CHECKING:
    from rag.library import Library

DEFAULT_WAIT_S = 300.0  # a long answer on a slow laptop, and the one queued behind it


class ServerBusyError(RagError):
    """A request waited past the wait limit for the ones ahead of it."""


class McpTools:
    """The tools a server offers, one request at a time (see the module docstring)."""

    def __init__(self, library: Library, *, ingest_roots: Sequence[Path] = (), wait_s: float = DEFAULT_WAIT_S):
        self.library = library
        self.ingest_roots = tuple(Path(os.path.realpath(r)) for r in ingest_roots)
        self.wait_s = wait_s
        self._lock = threading.Lock()

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self.wait_s):
            raise ServerBusyError(f"the server was busy with other requests for {self.wait_s:g} s; try again, "
                                  "or start it with a longer --wait-limit")
        try:
            yield
        finally:
            self._lock.release()

    def search(self, question: str, k: int = 0, only: Sequence[str] = ()) -> dict[str, Any]:
        question = self.library.validate_question(question)
        scope = scope_of(only)
        with self._turn():
            hits = self.library.search(question, k=k, scope=scope)
        return {"question": question, "only": list(scope.patterns), "hits": [h.to_json() for h in hits]}

    def ask(self, question: str, only: Sequence[str] = (), strict: bool = False) -> dict[str, Any]:
        question = self.library.validate_question(question)
        with self._turn():
            return self.library.answer(question, scope=scope_of(only), strict=strict).to_json()

    def check(self, text: str) -> dict[str, Any]:
        from rag.cli.views import check_json

        if not text.strip():
            raise QueryError("the draft is empty: give the text, with markers like [1] and a list of sources")
        with self._turn():
            return check_json(self.library.check_draft(text), "draft")

    def show(self, file: str) -> dict[str, Any]:
        from rag.cli.views import show_json

        with self._turn():
            return show_json(self.library.show(file))

    def status(self, files: bool = False) -> dict[str, Any]:
        from rag.cli.views import status_json

        return status_json(self.library.status(), files=files)

    def ingest(self, path: str) -> dict[str, Any]:
        """Only below the folders the server was started with (`--allow-ingest DIR`)."""
        from rag.cli.advice import advise

        target = Path(os.path.realpath(os.path.expanduser(path)))
        if not any(target == root or target.is_relative_to(root) for root in self.ingest_roots):
            allowed = ", ".join(str(r) for r in self.ingest_roots)
            raise QueryError(f"{path}: outside the folders this server may ingest ({allowed})")
        with self._turn():
            report = self.library.ingest([target])
        return {"added": list(report.added), "updated": list(report.updated), "removed": list(report.removed),
                "unchanged": len(report.unchanged),
                "problems": [{"path": p.path, "reason": p.reason, "advice": advise(p.remedies) or None}
                             for p in report.problems],
                "documents": report.documents_total, "passages": report.passages_total}

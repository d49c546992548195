"""An ingest's progress as a line a person can plan with: files read, passages
embedded, the rate, and the time left.

The ingest reports (stage, done, total) as it goes (`rag/ingest/pipeline.py`); how many
passages a folder makes is known only once every file is read, so the time left
is estimated from the passages the files read so far have made, scaled to all
the files, at the embedding rate seen so far. The CLI (plain lines on a pipe) and
the chat app's status bar show the same line.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class IngestProgress:
    clock: Callable[[], float] = time.monotonic
    files_read: int = 0
    files_total: int = 0
    pages_read: int = 0  # PDF pages, while PDFs are read
    pages_total: int = 0
    passages_known: int = 0  # handed to the embedder so far
    passages_embedded: int = 0
    stage: str = ""
    _embedding_since: float | None = field(default=None, repr=False)
    _embedded_then: int = 0

    def update(self, stage: str, done: int, total: int) -> None:
        self.stage = stage
        if stage == "reading":
            self.files_read, self.files_total = done, total
        elif stage == "pages":
            self.pages_read, self.pages_total = done, total
        elif stage == "embedding" and total:
            if self._embedding_since is None:
                self._embedding_since, self._embedded_then = self.clock(), done
            self.passages_embedded, self.passages_known = done, total

    def rate(self) -> float | None:
        """Passages embedded per second since embedding began, or None before there is one."""
        if self._embedding_since is None:
            return None
        seconds = self.clock() - self._embedding_since
        done = self.passages_embedded - self._embedded_then
        return done / seconds if seconds > 0 and done > 0 else None

    def seconds_left(self) -> float | None:
        rate = self.rate()
        if rate is None or not self.files_read:
            return None
        expected = self.passages_known * max(self.files_total, self.files_read) / self.files_read
        return max(0.0, expected - self.passages_embedded) / rate

    def line(self) -> str:
        parts = []
        if self.files_total:
            parts.append(f"{self.files_read}/{self.files_total} files read")
        if self.pages_total and self.pages_read < self.pages_total:
            parts.append(f"{self.pages_read}/{self.pages_total} pages")
        if self.passages_known:
            parts.append(f"{self.passages_embedded} passages embedded")
        rate = self.rate()
        if rate is not None:
            parts.append(f"{rate:.0f}/s")
        left = self.seconds_left()
        if left is not None and self.stage != "indexing":
            parts.append(f"about {_duration(left)} left")
        if self.stage == "indexing":
            parts.append("writing the word index")
        return ", ".join(parts) or self.stage


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"

"""What the chat app is doing with its index and its model, shown in the status
bar and read by the tests (`app.index_state`, `app.model_state`)."""
from __future__ import annotations

from enum import StrEnum


class IndexState(StrEnum):
    LOADING = "loading"
    READY = "ready"
    MISSING = "missing"  # no index yet: /ingest builds one
    FAILED = "failed"


class ModelState(StrEnum):
    NONE = "none"  # no model configured or found: extractive answers
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"

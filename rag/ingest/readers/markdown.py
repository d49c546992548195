"""Markdown: read as text, with `#` headings as section headings."""
from __future__ import annotations

from rag.ingest.readers import ReadResult
from rag.ingest.readers.text import read as read_text


def read(data: bytes, path: str, on_page=None, options=None) -> ReadResult:
    return read_text(data, path, on_page, markdown=True)

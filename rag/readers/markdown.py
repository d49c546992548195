"""Markdown: read as text, with `#` headings as section headings."""
from __future__ import annotations

from rag.readers import ReadResult
from rag.readers.text import decode, parse
from rag.types import DocumentError


def read(data: bytes, path: str, on_page=None) -> ReadResult:
    if not data:
        raise DocumentError(path, "empty file (no text)")
    return parse(decode(data, path), path, markdown=True)

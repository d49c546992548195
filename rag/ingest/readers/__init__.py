"""Readers: one module per file format, each turning a file's bytes into blocks.

Every reader has the same small protocol, `read(data, path, on_page) -> ReadResult`:
the document's title (empty when the file names none) and its blocks in reading
order. A block is a paragraph (or a heading) with the page it lies on and the
heading path above it. What happens next (headings joined to their paragraph,
paragraphs cut to the embedding model's window, ids) is format-free and lives in
`rag/ingest/passages.py`.

The registry below is the one list of supported formats. A reader's module, and
with it the format's library (pypdfium2, python-docx, trafilatura), is imported
only when a file of that format is read, so `rag --help` stays instant.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence


@dataclass(frozen=True)
class Line:
    """A run of text with its offsets in the document's text (the decoded file for
    text formats; the extracted text, paragraphs separated by blank lines, for the
    others) and its page (1-based; None for formats without pages)."""

    start: int
    end: int
    text: str
    page: int | None = None


@dataclass(frozen=True)
class Block:
    """A paragraph or a heading: one or more lines (a paragraph that runs onto the
    next page is two lines, one per page)."""

    lines: tuple[Line, ...]
    section: tuple[str, ...] = ()  # heading path this block lies under
    heading: bool = False  # a heading joins the paragraph after it

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class ReadResult:
    title: str  # "" when the file has no title of its own
    blocks: tuple[Block, ...]
    pages: int = 0  # pages read (PDF); 0 for formats without pages
    text: str = ""  # the text the offsets refer to, when it is not the file itself
    notes: tuple[str, ...] = field(default=())  # what was left out on purpose (reference list, …)
    warnings: tuple[str, ...] = field(default=())  # what a person should know (pages without text)
    ocr_pages: int = 0  # pages whose text came from OCR (scans, images)


@dataclass(frozen=True)
class ReadOptions:
    """What a reader may do beyond parsing the file: read page images by OCR, and
    how long one page may take (rag/ingest/readers/ocr.py)."""

    ocr: bool = True
    ocr_page_timeout_s: float = 60.0


class Format(NamedTuple):
    name: str
    module: str  # under rag.ingest.readers
    isolated: bool  # read in a worker process with a time limit (third-party parser)


# The one list of supported file types.
FORMATS: dict[str, Format] = {
    ".txt": Format("plain text", "text", False),
    ".text": Format("plain text", "text", False),
    ".md": Format("Markdown", "markdown", False),
    ".markdown": Format("Markdown", "markdown", False),
    ".pdf": Format("PDF", "pdf", True),
    ".docx": Format("Word", "docx", True),
    ".html": Format("web page", "html", True),
    ".htm": Format("web page", "html", True),
    ".xhtml": Format("web page", "html", True),
    ".epub": Format("e-book", "epub", True),
    # Images are read by OCR (rag/ingest/readers/ocr.py); a TIFF may hold many pages.
    ".png": Format("image", "image", True),
    ".jpg": Format("image", "image", True),
    ".jpeg": Format("image", "image", True),
    ".tif": Format("image", "image", True),
    ".tiff": Format("image", "image", True),
}
# Files whose bytes are mostly page images: a long scan is large, so the size limit
# (--max-file-mb) is this many times higher for them.
SCAN_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})
SCAN_SIZE_ALLOWANCE = 16
SUPPORTED_SUFFIXES = frozenset(FORMATS)


def format_for(path: str) -> Format | None:
    dot = path.rfind(".")
    return FORMATS.get(path[dot:].lower()) if dot >= 0 else None


PageCallback = Callable[[int, int], None]  # (pages read, pages in the file)


def read(data: bytes, path: str, on_page: PageCallback | None = None,
         options: ReadOptions = ReadOptions()) -> ReadResult:
    """Read one file's bytes with the reader its suffix names. Raises DocumentError."""
    fmt = format_for(path)
    if fmt is None:
        from rag.types.errors import DocumentError

        raise DocumentError(path, "unsupported file type")
    module = importlib.import_module(f"rag.ingest.readers.{fmt.module}")
    return module.read(data, path, on_page, options)


def size_limit_mb(path: str, max_file_mb: float) -> float:
    """The size limit for one file: higher for scans and images (SCAN_SIZE_ALLOWANCE)."""
    dot = path.rfind(".")
    return max_file_mb * (SCAN_SIZE_ALLOWANCE if dot >= 0 and path[dot:].lower() in SCAN_SUFFIXES else 1)


class Assembler:
    """Builds the blocks of a format whose text is extracted (not the file itself):
    paragraphs are laid end to end, separated by a blank line, and offsets refer to
    that text."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(self, pieces: Sequence[tuple[str, int | None]], section: tuple[str, ...] = (),
            heading: bool = False) -> None:
        """One paragraph from (text, page) pieces, one per page it lies on."""
        lines: list[Line] = []
        for text, page in pieces:
            text = " ".join(text.split())
            if not text:
                continue
            if lines:
                self._append("\n")
            elif self._parts:
                self._append("\n\n")
            lines.append(Line(self._length, self._length + len(text), text, page))
            self._append(text)
        if lines:
            self.blocks.append(Block(tuple(lines), section, heading))

    def _append(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)

    def result(self, title: str, pages: int = 0, notes: tuple[str, ...] = (),
               warnings: tuple[str, ...] = (), ocr_pages: int = 0) -> ReadResult:
        return ReadResult(title, tuple(self.blocks), pages, "".join(self._parts), notes, warnings, ocr_pages)


# Papers and scans are full of paragraphs too short to be found on their own: list
# items, a formula's lead-in, one-line remarks, an author line. Readers join each to
# its neighbour until a passage has about two sentences (SHORT_PARAGRAPH_CHARS),
# never past what one embedding reads well (JOINED_PARAGRAPH_CHARS).
SHORT_PARAGRAPH_CHARS = 250
JOINED_PARAGRAPH_CHARS = 1000


def looks_like_figure_text(text: str) -> bool:
    """Text drawn inside a figure, or what OCR makes of a picture: numbers and
    symbols with hardly a word among them ("0.8 SL QW0 D=1 2/5 3/7 3/5"). Prose,
    author lines, table rows with labels and captions all hold three or more runs
    of three letters."""
    return len(re.findall(r"[^\W\d_]{3,}", text)) < 3

"""Files into passages, whatever their format: discovery, blocks into passages
that fit the embedding model's window, pages and sections, stable ids.

The format-specific part (bytes to titled blocks) is in `rag/ingest/readers/`. Pure apart
from `read_bytes` (which reads one file) and `discover` (which walks folders).
The token counter is passed in, so this module never imports the embedding model;
`embed.py` supplies one built on the model's own tokenizer.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Sequence

from rag.index.manifest import content_hash
from rag.ingest.byline import FIRST_LINES, find_byline
from rag.config import Settings
from rag.ingest.readers import SUPPORTED_SUFFIXES, Block, Line, ReadResult
from rag.ingest.readers import read as read_format
from rag.ingest.readers.text import decode, is_debris, shorten  # noqa: F401  (re-exported)
from rag.ingest.readers.text import parse as parse_text
from rag.text.safe_text import blanked, inert, is_inert
from rag.text.sentences import sentence_spans
from rag.types.corpus import Document, FileProblem, Passage
from rag.types.errors import DocumentError, Fix, Remedy

# Counts word pieces for each text (without the model's special tokens).
TokenCounter = Callable[[Sequence[str]], list[int]]

# A paragraph longer than this (about 170,000 words, a long book, with no line break)
# is not prose to cite but a dump: cutting it into passages and embedding them would
# take the better part of an hour, so the file is refused with a line saying why.
MAX_PARAGRAPH_CHARS = 2**20
SECTION_SEPARATOR = " › "

# --------------------------------------------------------------------------- reading


def over_size_limit(path: Path, size: int, max_mb: float) -> DocumentError | None:
    """The error for a file of `size` bytes over the limit, or None."""
    if size > max_mb * 2**20:
        return DocumentError(str(path), f"{size / 2**20:.1f} MB, over the limit of {max_mb:g} MB",
                             Remedy(Fix.RAISE, "max_file_mb"))
    return None


def read_bytes(path: Path, max_mb: float = Settings.max_file_mb) -> bytes:
    """Read a file's bytes, turning OS failures into a one-line DocumentError."""
    try:
        too_big = over_size_limit(path, path.stat().st_size, max_mb)
        if too_big is not None:
            raise too_big
        return path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(str(path), "no such file") from None
    except PermissionError:
        raise DocumentError(str(path), "cannot read: permission denied") from None
    except IsADirectoryError:
        raise DocumentError(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read: {exc.strerror or exc}") from None


def read_text(path: Path) -> tuple[str, str]:
    """(decoded text, content hash) of a file."""
    data = read_bytes(path)
    if not data:
        raise DocumentError(str(path), "empty file (no text)")
    return decode(data, str(path)), content_hash(data)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileProblem], Counter[str]]:
    """The supported files under `paths` (folders walked recursively, hidden entries
    skipped), the problems with the paths themselves, and counts of other file types.
    A file named explicitly with an unsupported type is a problem; one met while
    walking a folder is only counted.

    Defensive, because a folder may hold anything: only regular files are read (a
    named pipe would block the read forever; a socket or device is not a document),
    each other kind is one skipped line, and so is a symlink loop or a link whose
    target is gone. A symlink to a file is followed wherever it points; a symlink
    to a folder is not walked (it may lead outside, or back up the tree). A file's
    identity is the path it was found by, not its target's: removing the link
    removes its passages. The same file found twice (a link beside its target) is
    read once, under the first path."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    other_types: Counter[str] = Counter()
    seen: set[tuple[int, int]] = set()

    def add(file: Path) -> None:
        found = Path(os.path.abspath(file))
        try:
            str(found).encode("utf-8")
        except UnicodeEncodeError:  # bytes Python could only keep as surrogates
            problems.append(FileProblem(readable_name(str(found)), "its name is not valid UTF-8, which the index "
                                        "stores names in; rename the file (convmv can, e.g. from latin1)"))
            return
        info = _regular_file(found)
        if isinstance(info, str):
            problems.append(FileProblem(str(found), info))
            return
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            files.append(found)

    for path in paths:
        if not path.exists() and not path.is_symlink():
            problems.append(FileProblem(str(path), "no such file or folder"))
        elif path.is_dir():
            for root, dirs, names in os.walk(path, onerror=lambda e: problems.append(
                    FileProblem(str(e.filename), f"cannot list folder: {e.strerror}"))):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.startswith("."):
                        continue
                    file = Path(root) / name
                    if file.suffix.lower() in SUPPORTED_SUFFIXES:
                        add(file)
                    else:
                        other_types[file.suffix.lower() or "(no extension)"] += 1
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            add(path)
        else:
            problems.append(FileProblem(
                str(path), f"unsupported file type '{path.suffix or '(none)'}' "
                f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"))
    return files, problems, other_types


def readable_name(name: str) -> str:
    """A file name as text that can be printed and stored: bytes that are not
    UTF-8 (kept by Python as surrogates) written as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _regular_file(path: Path) -> os.stat_result | str:
    """The file's status when it is a regular file, else why a path met while
    walking is no document to read."""
    try:
        info = path.stat()  # follows a symlink to what it names
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if path.is_symlink():
            return f"broken symlink (its target {os.readlink(path)!r} does not exist)"
        return f"cannot read: {exc.strerror or exc}"
    except RuntimeError:  # older Pythons report a loop this way
        return "symlink loop"
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return info
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"{kind}, not a document"


# --------------------------------------------------------------------------- parsing


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def passage_id(doc_id: str, ordinal: int, title: str, start: int, text: str,
               page: int | None = None, section: str = "") -> str:
    # The hash covers everything stored with the passage, so a record never
    # changes under its id: an edited passage is a new record. (Page and section
    # join the hash only when present, so ids of plain-text passages are as before.)
    where = (f"\x00{page}" if page is not None else "") + (f"\x00{section}" if section else "")
    digest = hashlib.sha1(f"{title}\x00{start}\x00{text}{where}".encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}:{ordinal}:{digest}"


# What the readers extract, versioned: bump it when a change to reading should reach
# files already indexed (2: bylines and date lines; 3: control characters blanked;
# 4: PDF paragraphs rebuilt from scaled type and joined when short, scans read by OCR;
# 5: a long paragraph cut into windows of even size; 6: pages, size and time recorded
# per file, for `rag status --files`).
READER_VERSION = 6


def build_document(
    result: ReadResult,
    source: str,
    count_tokens: TokenCounter,
    max_tokens: int,
    file_hash: str = "",
) -> Document:
    """A reader's blocks into a Document of passages: a heading joins the paragraph
    after it, a paragraph longer than the window is cut at sentences, and each
    passage records its pages and section. Control and bidi-override characters
    (an escape sequence in a downloaded page) become spaces, so that no output
    shows them and every offset stays right."""
    result = _inert_result(result)
    merged: list[Block] = []
    pending: list[Line] = []
    for block in result.blocks:
        if block.heading:
            pending.extend(block.lines)
            continue
        merged.append(Block(tuple(pending) + block.lines, block.section))
        pending = []
    if pending:
        merged.append(Block(tuple(pending), result.blocks[-1].section))
    if not merged:
        raise DocumentError(source, "no text found")
    longest = max(len(block.text) for block in merged)
    if longest > MAX_PARAGRAPH_CHARS:
        raise DocumentError(source, f"{longest / 2**20:.1f} MB of text in one paragraph, with no line break; "
                                    "split it into paragraphs (the limit is "
                                    f"{MAX_PARAGRAPH_CHARS / 2**20:.0f} MB)")
    title = result.title or _title_from(merged[0].text) or Path(source).stem

    doc_id = doc_id_for(source)
    pieces: list[tuple[Block, int, int, str]] = []
    for block in merged:
        pieces.extend((block, s, e, t) for s, e, t in fit_block(block, count_tokens, max_tokens))
    passages = []
    for ordinal, (block, start, end, text) in enumerate(pieces):
        pages = [line.page for line in block.lines
                 if line.page is not None and line.end > start and line.start < end]
        page, last_page = (min(pages), max(pages)) if pages else (None, None)
        section = SECTION_SEPARATOR.join(block.section)
        passages.append(Passage(
            id=passage_id(doc_id, ordinal, title, start, text, page, section),
            doc_id=doc_id, source=source, title=title, ordinal=ordinal, start=start, end=end,
            text=text, page=page, last_page=last_page, section=section,
        ))
    first_lines = [line.text for block in result.blocks[:FIRST_LINES] for line in block.lines][:FIRST_LINES]
    byline = find_byline(first_lines, [(p.id, p.text) for p in passages[:FIRST_LINES]])
    ocr = (f"{result.ocr_pages} page{'s' if result.ocr_pages != 1 else ''} read by OCR",) if result.ocr_pages else ()
    return Document(doc_id=doc_id, source=source, title=title, content_hash=file_hash,
                    passages=tuple(passages), warnings=ocr + result.warnings, byline=byline,
                    ocr_pages=result.ocr_pages, pages=result.pages)


def _inert_result(result: ReadResult) -> ReadResult:
    from dataclasses import replace

    texts = [result.title] + [t for b in result.blocks for t in (*b.section, *(line.text for line in b.lines))]
    if all(is_inert(t) for t in texts):
        return result  # the usual case: nothing to rebuild
    blocks = tuple(Block(tuple(Line(line.start, line.end, blanked(line.text), line.page) for line in block.lines),
                         tuple(" ".join(inert(part).split()) for part in block.section), block.heading)
                   for block in result.blocks)
    return replace(result, title=" ".join(inert(result.title).split()), blocks=blocks)


def _title_from(text: str) -> str:
    first = text.split("\n", 1)[0]
    spans = sentence_spans(first)
    return shorten(first[spans[0][0]:spans[0][1]] if spans else first)


def parse_document(
    text: str,
    source: str,
    count_tokens: TokenCounter,
    max_tokens: int,
    file_hash: str = "",
) -> Document:
    """Decoded plain text (or Markdown, by the source's suffix) into a Document."""
    markdown = source.lower().endswith((".md", ".markdown"))
    return build_document(parse_text(text, source, markdown), source, count_tokens, max_tokens, file_hash)


# --------------------------------------------------------------------------- fitting


def fit_block(block: Block, count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int, str]]:
    """Cut a paragraph into pieces of at most `max_tokens` word pieces, at sentence
    boundaries (at word boundaries only for a sentence that is itself too long).
    Nothing is dropped: the pieces together hold every sentence."""
    text = block.text
    if count_tokens([text])[0] <= max_tokens:
        return [(block.start, block.end, text)]

    # Map offsets in the joined block text back to file offsets.
    starts_in_block, pos = [], 0
    for line in block.lines:
        starts_in_block.append(pos)
        pos += len(line.text) + 1

    def to_file(offset: int) -> int:
        for line, base in zip(reversed(block.lines), reversed(starts_in_block)):
            if offset >= base:
                return line.start + min(offset - base, len(line.text))
        return block.start

    units: list[tuple[int, int]] = []
    spans = sentence_spans(text)
    counts = count_tokens([text[s:e] for s, e in spans])
    for (s, e), n in zip(spans, counts):
        units.extend([(s, e)] if n <= max_tokens else _split_words(text, s, e, count_tokens, max_tokens))

    unit_counts = count_tokens([text[s:e] for s, e in units])
    groups = _balanced_groups(unit_counts, max_tokens)
    return [(to_file(units[first][0]), to_file(units[last][1]), text[units[first][0]:units[last][1]])
            for first, last in groups]


def _pack(counts: list[int], cap: int) -> list[tuple[int, int]]:
    """Greedy packing of consecutive units into groups of at most `cap` tokens:
    (first, last) unit indices of each group. A unit over `cap` is a group alone."""
    groups: list[tuple[int, int]] = []
    first, total = 0, 0
    for i, n in enumerate(counts):
        if i > first and total + n > cap:
            groups.append((first, i - 1))
            first, total = i, 0
        total += n
    if counts:
        groups.append((first, len(counts) - 1))
    return groups


def _balanced_groups(counts: list[int], max_tokens: int) -> list[tuple[int, int]]:
    """As few windows as greedy packing needs, with sizes made as even as the
    sentence boundaries allow: the smallest cap that still packs into that many.
    Why: greedy filling alone leaves a last window of a sentence or two (a 1,400-
    and a 150-character passage from one abstract); a stub like that ranks on a
    few words and gives the model half a thought."""
    fewest = _pack(counts, max_tokens)
    lo, hi = max(max(counts, default=0), -(-sum(counts) // len(fewest))), max_tokens
    best = fewest
    while lo <= hi:
        cap = (lo + hi) // 2
        groups = _pack(counts, cap)
        if len(groups) <= len(fewest):
            best, hi = groups, cap - 1
        else:
            lo = cap + 1
    return best


def _split_words(text: str, lo: int, hi: int, count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int]]:
    """Spans of at most `max_tokens` word pieces over whole words of text[lo:hi]."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[lo:hi])]
    counts = count_tokens([text[lo + s: lo + e] for s, e in words])
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end, total = 0, 0
    for (s, e), n in zip(words, counts):
        if n > max_tokens:  # one "word" longer than the window: cut it by characters
            if start is not None:
                spans.append((lo + start, lo + end))
                start, total = None, 0
            step = max(1, (e - s) * max_tokens // n)
            spans.extend((lo + i, lo + min(i + step, e)) for i in range(s, e, step))
            continue
        if start is not None and total + n > max_tokens:
            spans.append((lo + start, lo + end))
            start, total = None, 0
        if start is None:
            start = s
        end = e
        total += n
    if start is not None:
        spans.append((lo + start, lo + end))
    return spans


def load_document(path: Path, count_tokens: TokenCounter, max_tokens: int) -> Document:
    """Read one file of any supported format, in this process."""
    data = read_bytes(path)
    return build_document(read_format(data, str(path)), str(path), count_tokens, max_tokens,
                          content_hash(data))


def word_count_tokens(texts: Sequence[str]) -> list[int]:
    """A model-free stand-in for a tokenizer: whitespace words. For tests and tools
    that split without the embedding model; ingest uses the model's tokenizer."""
    return [len(t.split()) for t in texts]

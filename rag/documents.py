"""Read files into passages: decoding, web-page debris removal, paragraphs, stable ids.

Pure apart from `read_text` (which reads one file) and `discover` (which walks
folders). The token counter is passed in, so this module never imports the
embedding model; `embed.py` supplies one built on the model's own tokenizer.

Offsets refer to the decoded text with line endings normalised to "\n".
"""
from __future__ import annotations

import codecs
import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from rag.sentences import sentence_spans
from rag.types import Document, DocumentError, FileProblem, Passage

# Counts word pieces for each text (without the model's special tokens).
TokenCounter = Callable[[Sequence[str]], list[int]]

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
MAX_FILE_BYTES = 64 * 1024 * 1024
TITLE_MAX_CHARS = 100
HEADING_MAX_CHARS = 80  # a short line without final punctuation reads as a heading

_SENTENCE_END = tuple(".!?…:;\"'”’)]")

# Whole lines that carry no content on a scraped web page.
_DEBRIS = re.compile(
    r"""^(?:
        share:?
      | \d+\s+comments?
      | image(?:\s+\d+)?
      | image\s+credit.*
      | \(?\s*image:.*
      | .{0,40}\bgetty\s+images\)?
      | (?:photo|picture)\s*:\s*.{0,60}
      | follow\s+(?:us\s+)?for\s+more\b.*
      | you\s+may\s+also\s+like
      | more\s+for\s+you
      | top\s+followed
      | related(?:\s+(?:articles|stories|posts|reading))?:?
      | read\s+more:?
      | recommended(?:\s+for\s+you)?
      | about\s+us
      | newsletter
      | (?:sign\s+up|subscribe)\b.{0,60}
      | advertisement
      | skip\s+to\s+(?:main\s+)?content
      | text\s+\d{6,}
      | .*\bcopyright\b.{0,80}
      | .{0,80}(?:©|all\s+rights\s+reserved).{0,80}
      | [\W_]*            # nothing but punctuation: "(", "—", "***"
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Lines after which a scraped page holds only its footer (site blurbs, link lists).
_FOOTER_START = re.compile(
    r"^(?:you\s+may\s+also\s+like|more\s+for\s+you|related\s+(?:articles|stories|posts)"
    r"|recommended(?:\s+for\s+you)?|about\s+us|follow\s+(?:us\s+)?for\s+more\b.*)$",
    re.IGNORECASE,
)
_BREADCRUMB = re.compile(r"^home\s*[»>|/]\s*", re.IGNORECASE)
_MD_HEADING = re.compile(r"^#{1,6}\s+")


def is_debris(line: str) -> bool:
    return bool(_DEBRIS.match(line.strip()))


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str  # stripped


@dataclass(frozen=True)
class _Block:
    """A paragraph as found in the file: one or more kept lines."""

    lines: tuple[_Line, ...]

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def looks_like_heading(self) -> bool:
        text = self.text
        return len(text) <= HEADING_MAX_CHARS and not text.endswith(_SENTENCE_END)


# --------------------------------------------------------------------------- reading


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes:
    """Read a file's bytes, turning OS failures into a one-line DocumentError."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(str(path), f"too large ({size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES // 2**20} MiB)")
        return path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(str(path), "no such file") from None
    except PermissionError:
        raise DocumentError(str(path), "cannot read: permission denied") from None
    except IsADirectoryError:
        raise DocumentError(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read: {exc.strerror or exc}") from None


def decode(data: bytes, path: str) -> str:
    """Bytes to text: UTF-8 (or UTF-16/32 with a byte-order mark), never guessed."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentError(path, f"not valid {encoding.upper()} ({exc.reason} at byte {exc.start})") from None
            break
    else:
        if b"\x00" in data[:8192]:
            raise DocumentError(path, "binary file (contains NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = data[exc.start]
            raise DocumentError(
                path,
                f"not UTF-8 (byte 0x{bad:02x} at offset {exc.start}); "
                "convert it first, e.g. `iconv -f latin1 -t utf-8`",
            ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError(path, "empty file (no text)")
    return text


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
    walking a folder is only counted."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    other_types: Counter[str] = Counter()
    seen: set[Path] = set()

    def add(file: Path) -> None:
        resolved = file.resolve()
        if resolved not in seen:
            seen.add(resolved)
            files.append(resolved)

    for path in paths:
        if not path.exists():
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


# --------------------------------------------------------------------------- parsing


def doc_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def passage_id(doc_id: str, ordinal: int, title: str, start: int, text: str) -> str:
    # The hash covers everything stored with the passage, so a record never
    # changes under its id: an edited passage is a new record.
    digest = hashlib.sha1(f"{title}\x00{start}\x00{text}".encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}:{ordinal}:{digest}"


def _lines(text: str) -> list[_Line | None]:
    """Each line as a _Line, or None for a blank one."""
    out: list[_Line | None] = []
    for match in re.finditer(r"[^\n]*", text):
        if match.start() == match.end() and match.start() > 0 and text[match.start() - 1] != "\n":
            continue  # the empty match that follows each line
        raw = match.group(0)
        stripped = raw.strip()
        if not stripped:
            out.append(None)
            continue
        lead = len(raw) - len(raw.lstrip())
        out.append(_Line(match.start() + lead, match.start() + lead + len(stripped), stripped))
    return out


def _clean_title(line: str) -> str:
    return _BREADCRUMB.sub("", _MD_HEADING.sub("", line)).strip()


def _shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def _blocks(lines: list[_Line | None], uses_blank_lines: bool, is_markdown: bool) -> list[_Block]:
    """Group kept lines into paragraphs: by blank lines when the file has them,
    else one line per paragraph (as the seed articles are written); a Markdown
    heading is always a paragraph of its own."""
    blocks: list[_Block] = []
    current: list[_Line] = []
    for line in lines:
        if line is None or not uses_blank_lines or (is_markdown and _MD_HEADING.match(line.text)):
            if current:
                blocks.append(_Block(tuple(current)))
                current = []
            if line is not None and (not uses_blank_lines or _MD_HEADING.match(line.text)):
                blocks.append(_Block((line,)))
            continue
        current.append(line)
    if current:
        blocks.append(_Block(tuple(current)))
    return blocks


def parse_document(
    text: str,
    source: str,
    count_tokens: TokenCounter,
    max_tokens: int,
    file_hash: str = "",
) -> Document:
    """Split decoded text into a Document of passages.

    The title is the first line when it reads as a headline (no final punctuation);
    when the file starts straight with a paragraph, that paragraph's first sentence,
    shortened, is the title and the paragraph stays a passage.
    """
    is_markdown = source.lower().endswith((".md", ".markdown"))
    lines = _lines(text)

    # Paragraphs are separated by blank lines if the file has any, else by line
    # breaks; decide that before debris goes, since debris must not look like a gap.
    nonblank = [i for i, line in enumerate(lines) if line is not None]
    uses_blank_lines = bool(nonblank) and any(lines[i] is None for i in range(nonblank[0], nonblank[-1]))

    # Debris and the footer of a scraped page go next, so they never join a paragraph.
    kept: list[_Line | None] = []
    last_half = len(lines) // 2
    for i, line in enumerate(lines):
        if line is not None and i >= last_half and _FOOTER_START.match(line.text):
            break
        if line is None or not is_debris(line.text):
            kept.append(line)

    first = next((line for line in kept if line is not None), None)
    if first is None:
        raise DocumentError(source, "no text left after removing page debris")

    first_text = _clean_title(first.text)
    if len(first_text) <= 200 and not first_text.endswith(_SENTENCE_END):
        title = first_text
        # The headline is metadata, and scraped pages repeat it: drop every copy.
        kept = [line for line in kept if line is None or _clean_title(line.text) != title]
    else:
        spans = sentence_spans(first_text)
        title = _shorten(first_text[spans[0][0]:spans[0][1]] if spans else first_text)

    blocks = _blocks(kept, uses_blank_lines, is_markdown)
    # A heading (short, no final punctuation) belongs to the paragraph after it.
    merged: list[_Block] = []
    pending: list[_Line] = []
    for block in blocks:
        if block.looks_like_heading():
            pending.extend(block.lines)
            continue
        merged.append(_Block(tuple(pending) + block.lines))
        pending = []
    if pending:
        merged.append(_Block(tuple(pending)))

    doc_id = doc_id_for(source)
    pieces: list[tuple[int, int, str]] = []
    for block in merged:
        pieces.extend(_fit_block(block, count_tokens, max_tokens))
    passages = tuple(
        Passage(
            id=passage_id(doc_id, ordinal, title, start, piece_text),
            doc_id=doc_id,
            source=source,
            title=title,
            ordinal=ordinal,
            start=start,
            end=end,
            text=piece_text,
        )
        for ordinal, (start, end, piece_text) in enumerate(pieces)
    )
    return Document(doc_id=doc_id, source=source, title=title, content_hash=file_hash, passages=passages)


# --------------------------------------------------------------------------- fitting


def _fit_block(block: _Block, count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int, str]]:
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
    pieces: list[tuple[int, int, str]] = []
    group_start, group_end, group_tokens = None, None, 0
    for (s, e), n in zip(units, unit_counts):
        if group_start is not None and group_tokens + n > max_tokens:
            pieces.append((to_file(group_start), to_file(group_end), text[group_start:group_end]))
            group_start, group_tokens = None, 0
        if group_start is None:
            group_start = s
        group_end = e
        group_tokens += n
    if group_start is not None:
        pieces.append((to_file(group_start), to_file(group_end), text[group_start:group_end]))
    return pieces


def _split_words(text: str, lo: int, hi: int, count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int]]:
    """Spans of at most `max_tokens` word pieces over whole words of text[lo:hi]."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[lo:hi])]
    counts = count_tokens([text[lo + s: lo + e] for s, e in words])
    spans: list[tuple[int, int]] = []
    start, end, total = None, None, 0
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
    text, file_hash = read_text(path)
    return parse_document(text, str(path), count_tokens, max_tokens, file_hash)


def word_count_tokens(texts: Sequence[str]) -> list[int]:
    """A model-free stand-in for a tokenizer: whitespace words. For tests and tools
    that split without the embedding model; ingest uses the model's tokenizer."""
    return [len(t.split()) for t in texts]


def text_document(source: str, title: str, text: str, count_tokens: TokenCounter, max_tokens: int) -> Document:
    """A Document from one block of text that has no file behind it (a dataset
    record): one paragraph, split only where it exceeds the window."""
    stripped = text.strip()
    if not stripped:
        raise DocumentError(source, "empty text")
    lead = text.index(stripped[0])
    block = _Block(tuple(_Line(m.start() + lead, m.start() + lead + len(m.group(0).strip()), m.group(0).strip())
                         for m in re.finditer(r"[^\n]+", stripped) if m.group(0).strip()))
    doc_id = doc_id_for(source)
    passages = tuple(
        Passage(passage_id(doc_id, i, title, s, t), doc_id, source, title, i, s, e, t)
        for i, (s, e, t) in enumerate(_fit_block(block, count_tokens, max_tokens))
    )
    return Document(doc_id, source, title, content_hash(text.encode("utf-8")), passages)

"""Plain text and Markdown: decoding, web-page debris removal, paragraphs.

Offsets refer to the decoded text with line endings normalised to "\n", so a
passage points at the exact place in the file.
"""
from __future__ import annotations

import codecs
import dataclasses
import re

from rag.ingest.readers import Block, Line, ReadResult
from rag.text.sentences import sentence_spans
from rag.types.errors import DocumentError

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


def decode(data: bytes, path: str) -> str:
    """Bytes to text: UTF-8 (or UTF-16/32 with a byte-order mark), never guessed."""
    return decode_noting(data, path)[0]


def decode_noting(data: bytes, path: str) -> tuple[str, tuple[str, ...]]:
    """`decode`, and what a person should know about it: a UTF-8 file cut short in
    the middle of a character (an interrupted download or copy) is read without
    the broken tail, with a warning, rather than refused as another encoding."""
    warnings: tuple[str, ...] = ()
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
            if exc.reason == "unexpected end of data" and exc.end == len(data):
                cut = len(data) - exc.start  # all before exc.start decoded: it is the first error
                warnings = (f"ends in the middle of a character (cut short?); read without its last "
                            f"{cut} byte{'s' if cut > 1 else ''}",)
                return _normalised(data[:exc.start].decode("utf-8"), path), warnings
            bad = data[exc.start]
            raise DocumentError(
                path,
                f"not UTF-8 (byte 0x{bad:02x} at offset {exc.start}); "
                "convert it first, e.g. `iconv -f latin1 -t utf-8`",
            ) from None
    return _normalised(text, path), warnings


def _normalised(text: str, path: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError(path, "empty file (no text)")
    return text


def _lines(text: str) -> list[Line | None]:
    """Each line as a Line, or None for a blank one."""
    out: list[Line | None] = []
    for match in re.finditer(r"[^\n]*", text):
        if match.start() == match.end() and match.start() > 0 and text[match.start() - 1] != "\n":
            continue  # the empty match that follows each line
        raw = match.group(0)
        stripped = raw.strip()
        if not stripped:
            out.append(None)
            continue
        lead = len(raw) - len(raw.lstrip())
        out.append(Line(match.start() + lead, match.start() + lead + len(stripped), stripped))
    return out


def _clean_title(line: str) -> str:
    return _BREADCRUMB.sub("", _MD_HEADING.sub("", line)).strip()


def shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"



def looks_like_heading(text: str) -> bool:
    return len(text) <= HEADING_MAX_CHARS and not text.endswith(_SENTENCE_END)


def _blocks(lines: list[Line | None], uses_blank_lines: bool, is_markdown: bool) -> list[Block]:
    """Group kept lines into paragraphs: by blank lines when the file has them,
    else one line per paragraph (as the seed articles are written); a Markdown
    heading is always a paragraph of its own, and sets the section of what follows."""
    blocks: list[Block] = []
    current: list[Line] = []
    section: tuple[str, ...] = ()

    def close() -> None:
        if current:
            text = "\n".join(line.text for line in current)
            blocks.append(Block(tuple(current), section, looks_like_heading(text)))
            current.clear()

    for line in lines:
        md_heading = is_markdown and line is not None and _MD_HEADING.match(line.text)
        if line is None or not uses_blank_lines or md_heading:
            close()
            if md_heading and line is not None:
                level = len(md_heading.group(0).strip())
                section = section[: level - 1] + (_clean_title(line.text),)
                blocks.append(Block((line,), section, True))
            elif line is not None:
                current.append(line)
                close()
            continue
        current.append(line)
    close()
    return blocks


def parse(text: str, path: str, markdown: bool = False) -> ReadResult:
    """Decoded text into blocks. The title is the first line when it reads as a
    headline (no final punctuation); when the file starts straight with a paragraph,
    that paragraph's first sentence, shortened, is the title and the paragraph stays."""
    lines = _lines(text)

    # Paragraphs are separated by blank lines if the file has any, else by line
    # breaks; decide that before debris goes, since debris must not look like a gap.
    nonblank = [i for i, line in enumerate(lines) if line is not None]
    uses_blank_lines = bool(nonblank) and any(lines[i] is None for i in range(nonblank[0], nonblank[-1]))

    # Debris and the footer of a scraped page go next, so they never join a paragraph.
    kept: list[Line | None] = []
    last_half = len(lines) // 2
    for i, line in enumerate(lines):
        if line is not None and i >= last_half and _FOOTER_START.match(line.text):
            break
        if line is None or not is_debris(line.text):
            kept.append(line)

    first = next((line for line in kept if line is not None), None)
    if first is None:
        raise DocumentError(path, "no text left after removing page debris")

    first_text = _clean_title(first.text)
    if len(first_text) <= 200 and not first_text.endswith(_SENTENCE_END):
        title = first_text
        # The headline is metadata, and scraped pages repeat it: drop every copy.
        kept = [line for line in kept if line is None or _clean_title(line.text) != title]
    else:
        spans = sentence_spans(first_text)
        title = shorten(first_text[spans[0][0]:spans[0][1]] if spans else first_text)

    return ReadResult(title, tuple(_blocks(kept, uses_blank_lines, markdown)))


def read(data: bytes, path: str, on_page=None, options=None, markdown: bool = False) -> ReadResult:
    if not data:
        raise DocumentError(path, "empty file (no text)")
    text, warnings = decode_noting(data, path)
    result = parse(text, path, markdown=markdown)
    return dataclasses.replace(result, warnings=result.warnings + warnings) if warnings else result

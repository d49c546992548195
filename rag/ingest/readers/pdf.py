"""PDF: text with its pages, through pypdfium2 (PDFium's bindings; Apache-2.0/BSD).

PDFium gives text segments with their boxes, in the order of the page's content
stream (for typeset papers, column by column). From those boxes this module
rebuilds what a reader sees: lines, paragraphs (a paragraph ends at a wider gap,
an indented line, a short line that ends a sentence, or a change of type size),
headings, and the running headers, footers and page numbers that repeat from page
to page, which are dropped. Words hyphenated across a line end are joined, and
ligature characters are spelled out. A paragraph that runs across a page (or
column) break stays one paragraph and records both pages.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from statistics import median

from rag.ingest.readers import (JOINED_PARAGRAPH_CHARS, SHORT_PARAGRAPH_CHARS, Assembler, ReadOptions, ReadResult,
                         looks_like_figure_text)
from rag.ingest.readers.ocr import INSTALL_HINT
from rag.types.corpus import Caveat
from rag.types.errors import DocumentError, Fix, Remedy

# Ligatures spelled out; the typographic hyphens (U+2010, U+2011) as the plain one.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st",
                            "\u2010": "-", "\u2011": "-"})
_CONTROL = re.compile(r"[\x00-\x01\x03-\x08\x0b-\x1f\uffff]")
_PAGE_NUMBER = re.compile(r"(?:page\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:/|of)\s*\d{1,4})?", re.IGNORECASE)
# "2", "2.1.3", "IV." or, for appendices, "A" and "A.1" before a capitalised title.
_NUMBERED_HEADING = re.compile(r"^(?:(\d{1,2}(?:\.\d{1,2}){0,3})\.?|([A-Z](?:\.\d{1,2}){0,3})\.?|[IVX]{1,4}\.)\s+\S")
_NAMED_HEADINGS = frozenset({
    "abstract", "introduction", "background", "related work", "method", "methods", "methodology",
    "results", "discussion", "conclusion", "conclusions", "references", "bibliography",
    "acknowledgements", "acknowledgments", "appendix", "summary", "limitations",
})
_REFERENCES = re.compile(r"^(?:\d{1,2}\.?\s+)?(?:references|bibliography|works cited|literature cited)$",
                         re.IGNORECASE)
_SENTENCE_END = (".", "!", "?", ":", ".”", ".\"", ".)")
MARGIN_SHARE = 0.09  # top and bottom share of a page where running headers and footers sit


@dataclass
class _Line:
    page: int  # 1-based
    left: float
    bottom: float
    right: float
    top: float
    text: str

    @property
    def height(self) -> float:
        return self.top - self.bottom


def read(data: bytes, path: str, on_page=None, options: ReadOptions | None = None) -> ReadResult:
    import pypdfium2 as pdfium

    options = options or ReadOptions()
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise DocumentError(path, "password-protected PDF: cannot read it without the password") from None
        if b"%PDF-" not in data[:1024]:
            raise DocumentError(path, "not a PDF (the file does not start with %PDF-), though it is named .pdf") from None
        raise DocumentError(path, "damaged or truncated PDF: PDFium cannot open it") from None
    try:
        pages: list[list[_Line]] = []
        sizes: list[tuple[float, float]] = []
        total = len(document)
        for number in range(total):
            page = document[number]
            try:
                sizes.append(page.get_size())
                pages.append(_page_lines(page, number + 1))
            finally:
                page.close()
            if on_page and (number % 10 == 9 or number == total - 1):
                on_page(number + 1, total)
        metadata_title = _metadata_title(document.get_metadata_dict())
        scanned = [number for number, page_lines in enumerate(pages, 1)
                   if sum(len(line.text) for line in page_lines) < MIN_TEXT_LAYER_CHARS]
        ocr = _ocr_pages(document, scanned, path, options, on_page, total) if scanned and options.ocr else None
    finally:
        document.close()
    page_count = len(pages)
    ocr_texts, ocr_failed = ocr if ocr else ({}, [])
    if ocr is not None:
        for number in ocr_texts:
            pages[number - 1] = []  # a stamp over a scan: the OCR reads it with the rest
    if not any(pages) and not ocr_texts:
        if not scanned:
            raise DocumentError(path, "no text found")
        if not options.ocr:
            raise DocumentError(path, "no text layer (scanned?): OCR is turned off, skipped", Remedy(Fix.TURN_ON, "ocr"))
        if ocr is None:
            raise DocumentError(path, f"no text layer (scanned?): needs OCR, skipped; {INSTALL_HINT}")
        raise DocumentError(path, f"no text layer, and OCR read no text ({'; '.join(ocr_failed[:3])})" if ocr_failed
                            else f"no text layer, and OCR found no text on its {len(scanned)} "
                                 f"page{'s' if len(scanned) != 1 else ''}")
    lines = _drop_running_lines(pages, sizes)
    heights = [line.height for line in lines for _ in range(max(1, len(line.text) // 20))]
    body = median(heights) if heights else 10.0
    paragraphs = _paragraphs(lines, body)
    lefts = _edges(lines, "left")
    title = metadata_title or _title_from_first_page([ln for ln in lines if ln.page == 1], body)
    vocabulary = _vocabulary(paragraphs)

    assembler = Assembler()
    section: tuple[str, ...] = ()
    dropped = references = 0
    in_references = False
    group = _Group()
    waiting_ocr = sorted(ocr_texts)

    def scanned_pages_before(page: int) -> None:
        # OCR'd pages take their place in page order among the text layer's paragraphs.
        while waiting_ocr and waiting_ocr[0] < page:
            number = waiting_ocr.pop(0)
            for text in ocr_texts[number]:
                whole_width = _Line(number, 0.0, 0.0, float("inf"), 0.0, text)
                group.add([whole_width], [(text, number)], text, section, assembler)

    for paragraph in paragraphs:
        scanned_pages_before(paragraph[0].page)
        text = _join([ln.text for ln in paragraph], vocabulary)
        heading_level = _heading_level(paragraph, text, body, lefts)
        if heading_level:
            group.flush(assembler)
            # The reference list names other works: its entries, dense with the
            # words of their titles, would crowd the document's own text out of
            # the search results. It is left out up to the next heading (appendices).
            in_references = _REFERENCES.match(text.rstrip(":")) is not None
            if in_references:
                continue
            section = section[: heading_level - 1] + (text,)
            assembler.add([(text, paragraph[0].page)], section, heading=True)
            continue
        if in_references:
            references += 1
            continue
        if len(text.split()) < 4 or looks_like_figure_text(text):  # figure labels, axis ticks, stray symbols
            dropped += 1
            continue
        group.add(paragraph, _pieces_by_page(paragraph, vocabulary), text, section, assembler)
    scanned_pages_before(page_count + 1)
    group.flush(assembler)
    warnings = _scan_warnings(scanned, page_count, options, ocr)
    notes = tuple(note for count, note in (
        (references, f"the reference list ({references} entries) left out"),
        (dropped, f"{dropped} fragments of under four words left out (figure labels, axis ticks)"),
    ) if count)
    return assembler.result(title, page_count, notes, warnings, ocr_pages=len(ocr_texts))


# A page with less text than this is read as a scan (a page number or a stamp over an image).
MIN_TEXT_LAYER_CHARS = 40


def _scan_warnings(scanned: list[int], page_count: int, options: ReadOptions, ocr) -> tuple[str, ...]:
    """What a reader of the index should know about the pages without a text layer."""
    if not scanned:
        return ()
    pages = f"{len(scanned)} of {page_count} pages have no text layer (scanned?)"
    if not options.ocr:
        return (Caveat(f"{pages}: OCR is turned off, so their text is not read", Remedy(Fix.TURN_ON, "ocr")),)
    if ocr is None:
        return (f"{pages}: their text needs OCR; {INSTALL_HINT}",)
    texts, failed = ocr
    warnings = []
    if failed:
        warnings.append(f"OCR could not read {len(failed)} page{'s' if len(failed) != 1 else ''} "
                        f"({'; '.join(failed[:3])}{'; …' if len(failed) > 3 else ''})")
    blank = len(scanned) - len(texts) - len(failed)
    if blank:
        warnings.append(f"OCR found no text on {blank} of the {len(scanned)} pages without a text layer")
    return tuple(warnings)


def _ocr_pages(document, numbers: list[int], path: str, options: ReadOptions, on_page,
               total: int) -> tuple[dict[int, list[str]], list[str]] | None:
    """The text of the scanned pages by OCR: {page: paragraphs}, and why each page
    it could not read failed. None when no engine is installed (the caller warns).
    Progress counts each OCR page on top of the file's pages."""
    from pathlib import Path

    from rag.ingest.readers.ocr import find_engine, ocr_text_blocks, recognise, render_page, scratch_folder

    engine = find_engine()
    if engine is None:
        return None
    texts: dict[int, list[str]] = {}
    failed: list[str] = []
    with scratch_folder() as folder:
        for done, number in enumerate(numbers, 1):
            page = document[number - 1]
            try:
                image = render_page(page, Path(folder))
            finally:
                page.close()
            try:
                found = recognise(engine, image, path, timeout_s=options.ocr_page_timeout_s)
                blocks = ocr_text_blocks(found.get(1, []))
                if blocks:
                    texts[number] = blocks
            except DocumentError as exc:
                failed.append(f"p. {number}: {exc.reason}")
            if on_page:
                on_page(total + done, total + len(numbers))
    return texts, failed


# Short paragraphs join their neighbour (SHORT_PARAGRAPH_CHARS) in the same section,
# column and page, so that a citation's page stays exact; captions stay apart.
_CAPTION = re.compile(r"^(?:fig(?:ure)?|table|tab|algorithm|listing|scheme|plate)\.?\s*[A-Z]?\d", re.IGNORECASE)


class _Group:
    """Consecutive short paragraphs of one section, gathered into one block."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, int]] = []
        self.length = 0
        self.section: tuple[str, ...] = ()
        self.caption = False
        self.last: _Line | None = None

    def add(self, paragraph: list[_Line], pieces: list[tuple[str, int]], text: str, section: tuple[str, ...],
            assembler: Assembler) -> None:
        caption = _CAPTION.match(text) is not None
        first, last = paragraph[0], self.last
        joins = (last is not None and section == self.section and not caption and not self.caption
                 # One page (a citation's page stays exact) and one column.
                 and {page for _, page in self.pieces} == {page for _, page in pieces} == {first.page}
                 and first.left < last.right and last.left < first.right
                 and min(self.length, len(text)) < SHORT_PARAGRAPH_CHARS
                 and self.length + len(text) <= JOINED_PARAGRAPH_CHARS)
        if not joins:
            self.flush(assembler)
            self.section, self.caption = section, caption
        self.pieces.extend(pieces)
        self.length += len(text) + 1
        self.last = paragraph[-1]

    def flush(self, assembler: Assembler) -> None:
        if self.pieces:
            assembler.add(self.pieces, self.section)
        self.pieces, self.length, self.caption, self.last = [], 0, False, None


# --------------------------------------------------------------------------- lines


def _page_lines(page, number: int) -> list[_Line]:
    """The page's lines as PDFium splits its text, each with its box and type size.
    A line's height is its type size (read from a few of its characters), not its
    glyphs' box, so that a line of "et al., 2023;" is as tall as any other."""
    import ctypes

    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        char = _char_indices(textpage, text)
        lines: list[_Line] = []
        x, y = ctypes.c_double(), ctypes.c_double()
        matrix = raw.FS_MATRIX()
        # PDFium ends a line with "\r\n", or with U+FFFE where a word is hyphenated
        # across the line end (then the next line follows at once).
        for match in re.finditer(r"[^\r\n\ufffe]*(?:\ufffe|\r\n|$)", text):
            raw_line, begin = match.group(0).replace("\r\n", ""), match.start()
            if not raw_line:
                continue
            letters = [char[begin + k] for k, c in enumerate(raw_line) if c.isalnum()]
            if not letters:
                continue
            sample = letters[:: max(1, len(letters) // 5)][:6]
            if abs(raw.FPDFText_GetCharAngle(textpage.raw, sample[0])) > 0.1:
                continue  # text set at an angle: margin stamps ("arXiv:… [cs.IR] 20 Jan 2025")
            sizes, baselines = [], []
            for index in sample:
                # The type size as set, times the text's scale: many producers set a
                # font at size 1 and scale it by the text matrix (size 1 × 9.96).
                raw.FPDFText_GetMatrix(textpage.raw, index, ctypes.byref(matrix))
                scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
                sizes.append(raw.FPDFText_GetFontSize(textpage.raw, index) * (scale or 1.0))
                raw.FPDFText_GetCharOrigin(textpage.raw, index, ctypes.byref(x), ctypes.byref(y))
                baselines.append(y.value)
            size = median(sizes) or 10.0
            baseline = median(baselines)
            stripped = raw_line.rstrip().rstrip("\ufffe")  # the hyphen mark has no box
            first = begin + len(raw_line) - len(raw_line.lstrip())
            left = textpage.get_charbox(char[first])[0]
            right = textpage.get_charbox(char[begin + len(stripped) - 1])[2]
            clean = _CONTROL.sub("", raw_line.replace("\ufffe", "\x02")).translate(_LIGATURES)
            clean = " ".join(clean.split())
            if clean.strip("\x02 "):
                lines.append(_Line(number, left, baseline - 0.25 * size, max(right, left + 1),
                                   baseline + 0.75 * size, clean))
        return _merge_same_baseline(lines)
    finally:
        textpage.close()


def _char_indices(textpage, text: str) -> list[int]:
    """For each offset of the page's text, the index of its character in PDFium's
    character list, for the boxes and sizes. They differ: the text leaves out some
    characters that have no Unicode value (a missing glyph, read as U+0002, U+0003 or
    U+0000), and every offset after one would otherwise point at its neighbour's box."""
    import pypdfium2.raw as raw

    count = textpage.count_chars()
    if count == len(text):
        return list(range(count))  # nothing left out (most pages): one to one
    out: list[int] = []
    k = 0
    for c in text:
        while k < count - 1:
            code = raw.FPDFText_GetUnicode(textpage.raw, k)
            if chr(code) == c or (c == "\ufffe" and code == 2):  # the text's mark of a line-end hyphen
                break
            if code in (0, 2, 3):
                k += 1  # left out of the text: skip it
                continue
            break  # a character the text spells otherwise: keep the two in step
        out.append(min(k, max(0, count - 1)))
        k += 1
    return out


def _merge_same_baseline(lines: list[_Line]) -> list[_Line]:
    """PDFium starts a new line at a superscript ("ICLR 2023¹, ICML 2023²"): a line
    that sits within the previous one's height and just right of it continues it."""
    merged: list[_Line] = []
    for line in lines:
        prev = merged[-1] if merged else None
        middle = (line.bottom + line.top) / 2
        if (prev is not None and prev.bottom <= middle <= prev.top
                and -1 <= line.left - prev.right <= 3 * prev.height):
            joiner = "" if line.text[:1] in ",.;:)]" or prev.text.endswith("\x02") else " "
            prev.text = prev.text + joiner + line.text
            prev.right = max(prev.right, line.right)
            if line.height > prev.height:  # the superscript came first: take the text's size
                prev.bottom, prev.top = line.bottom, line.top
            continue
        merged.append(line)
    return merged


def _margin_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _drop_running_lines(pages: list[list[_Line]], sizes: list[tuple[float, float]]) -> list[_Line]:
    """All lines but the running headers and footers: a line in the top or bottom
    margin whose text (digits aside) recurs on several pages, or a bare page number."""
    def at_edge(line: _Line, lines: list[_Line]) -> bool:
        """In the top or bottom margin, or among the first or last two lines of the page's text ("Table 1 – continued
        from previous page")."""
        height = sizes[line.page - 1][1]
        return (line.bottom > height * (1 - MARGIN_SHARE) or line.top < height * MARGIN_SHARE
                or any(line is edge for edge in lines[:3] + lines[-3:]))

    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_margin_key(line.text) for line in lines if at_edge(line, lines)})
    recurring = 2 if len(pages) < 6 else 3
    kept = []
    for lines in pages:
        for line in lines:
            if at_edge(line, lines) and (counts[_margin_key(line.text)] >= recurring
                                         or _PAGE_NUMBER.fullmatch(line.text.strip("\x02 "))):
                continue
            kept.append(line)
    return kept


# --------------------------------------------------------------------------- paragraphs


def _edges(lines: list[_Line], attribute: str, share: float = 0.0) -> list[float]:
    """Column edges: positions (to 2 points) where at least three lines (and at
    least `share` of the longer lines) start, or end."""
    long_lines = [line for line in lines if len(line.text) >= 25]
    counts = Counter(round(getattr(line, attribute) / 2) * 2 for line in long_lines)
    least = max(3, share * len(long_lines))
    return sorted(edge for edge, n in counts.items() if n >= least)


def _paragraphs(lines: list[_Line], body: float) -> list[list[_Line]]:
    """Lines into paragraphs. A paragraph ends before a line that is set apart by a
    wider gap, indented from its column's edge, in another type size, or placed
    elsewhere on the page; and after a line that ends a sentence short of the
    column's right edge by more than the next line's first word (that word would
    have fitted, so the break was the writer's)."""
    lefts = _edges(lines, "left")
    pitches = [prev.bottom - cur.bottom for prev, cur in zip(lines, lines[1:])
               if prev.page == cur.page and 0 < prev.bottom - cur.bottom < 3 * body
               and abs(prev.height - cur.height) < 0.2 * body]
    pitch = median(pitches) if pitches else 1.2 * body

    page_lefts: dict[int, list[float]] = {}
    page_rights: dict[int, list[float]] = {}
    by_page: dict[int, list[_Line]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    for page, on_page in by_page.items():
        page_lefts[page] = _edges(on_page, "left")
        # Justified text ends many lines at the column's edge; in ragged text a
        # few lines end together by chance, so a right edge needs a share of them.
        page_rights[page] = _edges(on_page, "right", share=0.15)

    def column_left(line: _Line) -> float:
        # The outermost edge within reach, on this page or (a short page) in the document.
        for edges in (page_lefts[line.page], lefts):
            near = [e for e in edges if line.left - 8 * line.height <= e <= line.left + 1]
            if near:
                return near[0]
        return line.left

    def column_right(line: _Line) -> float | None:
        # The nearest right edge before the next column starts; None for ragged text.
        next_column = min((e for e in lefts if e > line.right - 1), default=float("inf"))
        near = [e for e in page_rights[line.page] if line.right - 1 <= e < next_column]
        return near[0] if near else None

    paragraphs: list[list[_Line]] = []
    for line in lines:
        if not paragraphs:
            paragraphs.append([line])
            continue
        prev = paragraphs[-1][-1]
        size = max(prev.height, line.height)
        same_column = (line.page == prev.page and line.top < prev.top
                       and line.left < prev.right and prev.left < line.right)
        gap_break = same_column and prev.bottom - line.bottom > 1.4 * pitch
        jump_up = (line.page == prev.page and not same_column
                   and line.top > prev.top + 3 * size and line.left >= prev.right)
        current = paragraphs[-1]
        right = column_right(prev)
        full = right is not None and right - prev.right < 0.5 * size
        # Indented from the line above, or (after a column or page break) from the
        # column. A full line above means a hanging indent (a list item, a
        # reference) continues, not a new paragraph.
        reference = prev.left if same_column else column_left(line)
        indent = 0.8 * size < line.left - reference < 8 * size and not full
        hanging = len(current) >= 2 and current[1].left > current[0].left + 0.8 * size
        outdent = hanging and same_column and line.left < prev.left - 0.8 * size
        first_word = len(line.text.split(" ", 1)[0]) * 0.55 * line.height + 0.3 * line.height
        short_end = (prev.text.rstrip("\x02").endswith(_SENTENCE_END)
                     and right is not None and right - prev.right > first_word)
        size_change = abs(prev.height - line.height) > 0.12 * body  # footnotes, captions
        unrelated = line.page == prev.page and not same_column and not jump_up
        mid_word = prev.text.endswith("\x02") and line.text[:1].islower()  # no paragraph ends so
        if (gap_break or indent or outdent or short_end or size_change or unrelated) and not mid_word:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    return _rejoin_across_notes(paragraphs, body)


def _rejoin_across_notes(paragraphs: list[list[_Line]], body: float) -> list[list[_Line]]:
    """A paragraph broken by a page or column end, with footnotes (or a caption)
    in smaller type between its two halves: the second half, which starts in lower
    case, goes back to the first, and the notes follow it."""
    out: list[list[_Line]] = []
    for paragraph in paragraphs:
        first = paragraph[0]
        if out and first.text[:1].islower():
            j = len(out) - 1
            while j >= 0 and len(out) - j <= 3 and out[j][0].height < first.height - 0.12 * body:
                j -= 1  # smaller type: a note set between the two halves
            if 0 <= j < len(out) - 1:
                before = out[j][-1]
                if (not before.text.rstrip("\x02").endswith(_SENTENCE_END)
                        and abs(before.height - first.height) <= 0.12 * body
                        and (before.page, before.top) != (first.page, first.top)):
                    out[j].extend(paragraph)
                    continue
        out.append(paragraph)
    return out


def _heading_level(paragraph: list[_Line], text: str, body: float, lefts: list[float]) -> int:
    """1, 2, … for a heading (its depth), 0 for running text. Larger type makes a
    heading only at a column's left edge: text inside a figure is large too."""
    if len(paragraph) > 2 or len(text) > 90 or len(text.split()) > 12 or text.endswith((".", ",", ";")):
        return 0
    numbered = _NUMBERED_HEADING.match(text)
    if numbered and text[numbered.end() - 1].isupper():
        depth = numbered.group(1) or numbered.group(2)
        return depth.count(".") + 1 if depth else 1
    if text.lower().rstrip(":") in _NAMED_HEADINGS:
        return 1
    first = paragraph[0]
    at_edge = any(abs(first.left - edge) <= 3 for edge in lefts)
    if first.height > 1.15 * body and at_edge and text[:1].isupper():
        return 1
    return 0


def _title_from_first_page(lines: list[_Line], body: float) -> str:
    """The first line on the first page set in larger type than the body, with the
    lines of the same size that continue it."""
    start = next((i for i, line in enumerate(lines) if line.height >= 1.2 * body
                  and len(line.text.split()) >= 2 and any(c.isalpha() for c in line.text)), None)
    if start is None:
        return ""
    size = lines[start].height
    parts = [lines[start].text]
    for line in lines[start + 1:start + 3]:
        if abs(line.height - size) < 0.05 * size:
            parts.append(line.text)
        else:
            break
    return " ".join(" ".join(parts).replace("\x02", "").split())[:200]


def _metadata_title(metadata: dict) -> str:
    """The document's own title, unless it is empty or a leftover of the tool that
    made the file ("Microsoft Word - draft3.doc", "untitled", a file name)."""
    title = " ".join(str(metadata.get("Title") or "").split())
    lowered = title.lower()
    if (len(title) < 4 or lowered in {"untitled", "title", "slide 1", "powerpoint presentation"}
            or lowered.startswith("microsoft word") or re.search(r"\.(docx?|pdf|dvi|tex|indd|rtf)$", lowered)):
        return ""
    return title


# --------------------------------------------------------------------------- joining


def _vocabulary(paragraphs: list[list[_Line]]) -> Counter[str]:
    words: Counter[str] = Counter()
    for paragraph in paragraphs:
        for line in paragraph:
            words.update(w.lower() for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", line.text))
    return words


def _join(texts: list[str], vocabulary: Counter[str]) -> str:
    """Lines into running text, joining words broken across a line end."""
    out = ""
    for text in texts:
        if not out:
            out = text
            continue
        if out.endswith("\x02"):  # PDFium's mark of a hyphen at a line end
            out = out[:-1] + (_hyphen(out[:-1], text, vocabulary) if text[:1].islower() else "-") + text
        elif re.search(r"[^\W\d_]-$", out) and text[:1].islower():
            out = out[:-1] + _hyphen(out[:-1], text, vocabulary) + text
        else:
            out = out + " " + text
    return out.replace("\x02", "-")


def _hyphen(before: str, after: str, vocabulary: Counter[str]) -> str:
    """"-" where a word broken at a line end is a compound the document spells with
    a hyphen more often than without ("decoder-only"), else "" (a word hyphenated
    to fit: "evolu-tion")."""
    head = re.search(r"([^\W\d_]+)$", before)
    tail = re.match(r"[^\W\d_]+", after)
    if not head or not tail:
        return ""
    joined, hyphenated = (head.group(1) + tail.group(0)).lower(), f"{head.group(1)}-{tail.group(0)}".lower()
    return "-" if vocabulary[hyphenated] > vocabulary[joined] else ""


def _pieces_by_page(paragraph: list[_Line], vocabulary: Counter[str]) -> list[tuple[str, int]]:
    """The paragraph's text cut where it crosses a page, each piece with its page;
    a word broken across the page break goes whole with the first piece."""
    groups: list[tuple[int, list[str]]] = []
    for line in paragraph:
        if groups and groups[-1][0] == line.page:
            groups[-1][1].append(line.text)
        else:
            groups.append((line.page, [line.text]))
    if len(groups) == 1:
        return [(_join(groups[0][1], vocabulary), groups[0][0])]
    whole = _join([t for _, texts in groups for t in texts], vocabulary)
    pieces, position = [], 0
    for index, (page, texts) in enumerate(groups):
        if index == len(groups) - 1:
            pieces.append((whole[position:], page))
            break
        length = len(_join(texts, vocabulary))
        cut = whole.find(" ", position + length - 1)
        cut = len(whole) if cut < 0 else cut
        pieces.append((whole[position:cut], page))
        position = cut + 1
    return [(text, page) for text, page in pieces if text.strip()]

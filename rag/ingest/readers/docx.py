"""Word (.docx), through python-docx (MIT).

Paragraphs and tables in the order they appear in the body; a paragraph styled as
a heading (or as the title) becomes a section heading at its level; a table gives
one block per row, its cells joined by " | "; footnotes and endnotes follow the
body under their own section, so their text is searchable too.
"""
from __future__ import annotations

import re
import zipfile

from rag.ingest.readers import Assembler, ReadResult
from rag.types.errors import DocumentError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .docx and old .doc files


def read(data: bytes, path: str, on_page=None, options=None) -> ReadResult:
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(_OLE_MAGIC):
        raise DocumentError(path, "password-protected or old-format (.doc) Word file: "
                                  "save it as an unprotected .docx first")
    if not data.startswith(b"PK"):
        raise DocumentError(path, "not a Word file (not a .docx zip), though it is named .docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(path, f"damaged Word file ({' '.join(str(exc).split())[:120]})") from None

    assembler = Assembler()
    section: tuple[str, ...] = ()
    first_heading = ""
    for element in document.element.body.iterchildren():
        if element.tag == f"{_W}p":
            text = _paragraph_text(element)
            if not text:
                continue
            level = _heading_level(document, element)
            if level:
                first_heading = first_heading or text
                section = section[: level - 1] + (text,)
                assembler.add([(text, None)], section, heading=True)
            else:
                assembler.add([(text, None)], section)
        elif element.tag == f"{_W}tbl":
            for row in element.iter(f"{_W}tr"):
                cells = [_paragraph_text(cell) for cell in row.iter(f"{_W}tc")]
                line = " | ".join(cell for cell in cells if cell)
                if line:
                    assembler.add([(line, None)], section)
    for part_name, heading in (("word/footnotes.xml", "Footnotes"), ("word/endnotes.xml", "Endnotes")):
        notes = _notes(data, part_name)
        if notes:
            assembler.add([(heading, None)], (heading,), heading=True)
            for note in notes:
                assembler.add([(note, None)], (heading,))
    if not assembler.blocks:
        raise DocumentError(path, "no text found in the Word file")
    title = " ".join((document.core_properties.title or "").split()) or first_heading
    return assembler.result(title)


def _paragraph_text(element) -> str:
    return " ".join("".join(node.text or "" for node in element.iter(f"{_W}t")).split())


def _heading_level(document, element) -> int:
    """1–9 for Heading 1–9 (and 1 for Title), from the paragraph's style or its
    outline level; 0 for body text."""
    properties = element.find(f"{_W}pPr")
    if properties is None:
        return 0
    outline = properties.find(f"{_W}outlineLvl")
    if outline is not None and (outline.get(f"{_W}val") or "").isdigit():
        return int(outline.get(f"{_W}val")) + 1
    style = properties.find(f"{_W}pStyle")
    if style is None:
        return 0
    style_id = style.get(f"{_W}val") or ""
    try:
        name = document.styles.get_by_id(style_id, 1).name or style_id  # 1: paragraph styles
    except Exception:
        name = style_id
    if name.lower() == "title":
        return 1
    match = re.fullmatch(r"heading\s*(\d)", name.strip().lower())
    return int(match.group(1)) if match else 0


def _notes(data: bytes, part_name: str) -> list[str]:
    """The texts of the footnotes (or endnotes), less Word's separator notes."""
    import io

    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if part_name not in archive.namelist():
                return []
            root = etree.fromstring(archive.read(part_name))
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError):
        return []
    notes = []
    for note in root:
        if note.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        text = " ".join("".join(node.text or "" for node in note.iter(f"{_W}t")).split())
        if text:
            notes.append(text)
    return notes

"""E-books (.epub): the chapters in spine order, each through the XHTML walker of
the web-page reader. An EPUB is a zip of XHTML files; its package file (OPF) names
the title and the reading order. Standard library zip plus lxml: no AGPL
dependency (ebooklib is AGPL)."""
from __future__ import annotations

import io
import posixpath
import zipfile

from rag.ingest.readers import Assembler, ReadResult
from rag.ingest.readers.html import markup_blocks
from rag.types.errors import DocumentError

_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
MAX_CHAPTER_BYTES = 32 * 2**20


def read(data: bytes, path: str, on_page=None, options=None) -> ReadResult:
    from lxml import etree, html

    if not data.startswith(b"PK"):
        raise DocumentError(path, "not an e-book (not an EPUB zip), though it is named .epub")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        rootfile = container.find(f".//{_CONTAINER}rootfile")
        if rootfile is None:
            raise KeyError("no rootfile in META-INF/container.xml")
        opf_path = rootfile.get("full-path") or ""
        package = etree.fromstring(archive.read(opf_path))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError) as exc:
        raise DocumentError(path, f"damaged e-book ({' '.join(str(exc).split())[:120]})") from None
    if any(name == "META-INF/encryption.xml" for name in archive.namelist()):
        raise DocumentError(path, "DRM-protected e-book: its chapters are encrypted")

    title = " ".join("".join(package.find(f".//{_DC}title").itertext()).split()) \
        if package.find(f".//{_DC}title") is not None else ""
    base = posixpath.dirname(opf_path)
    items = {item.get("id"): item for item in package.iter(f"{_OPF}item")}
    assembler = Assembler()
    spine = [ref.get("idref") for ref in package.iter(f"{_OPF}itemref") if ref.get("linear") != "no"]
    for idref in spine:
        item = items.get(idref)
        if item is None or "html" not in (item.get("media-type") or ""):
            continue
        name = posixpath.normpath(posixpath.join(base, item.get("href") or ""))
        try:
            info = archive.getinfo(name)
            if info.file_size > MAX_CHAPTER_BYTES:
                raise DocumentError(path, f"chapter {name} is too large ({info.file_size // 2**20} MiB)")
            chapter = html.document_fromstring(archive.read(name))
        except (KeyError, etree.ParserError, zipfile.BadZipFile, ValueError):
            continue  # a chapter the spine names but the zip lacks: skip it, keep the rest
        body = chapter.find("body")
        markup_blocks(body if body is not None else chapter, assembler, ())
    if not assembler.blocks:
        raise DocumentError(path, "no text found in the e-book")
    return assembler.result(title)

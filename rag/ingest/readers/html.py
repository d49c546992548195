"""Saved web pages: the article, not the page around it.

trafilatura (Apache-2.0) finds the main content, so menus, cookie banners, lists
of related articles and footers are never indexed; its structured output keeps
headings (which become sections), paragraphs, list items, quotes and table rows.
The title comes from the page's own metadata, and so do the author, date and site
name, written as byline lines above the article (rag/ingest/byline.py).

`markup_blocks` also serves the e-book reader, whose chapters are clean XHTML that
needs no boilerplate removal.
"""
from __future__ import annotations

from rag.ingest.byline import metadata_lines
from rag.ingest.readers import Assembler, ReadResult
from rag.types.errors import DocumentError

# Elements whose text is one paragraph, in trafilatura's XML and in plain XHTML.
_PARAGRAPHS = frozenset({"p", "item", "li", "quote", "blockquote", "pre", "code", "dd", "dt",
                         "figcaption", "caption", "address"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_ROWS = frozenset({"row", "tr"})
_CONTAINERS = frozenset({"body", "div", "section", "article", "main"})
_SKIP = frozenset({"script", "style", "nav", "head", "noscript", "template", "svg", "math", "graphic"})


def read(data: bytes, path: str, on_page=None, options=None) -> ReadResult:
    import trafilatura
    from lxml import etree

    if not data.strip():
        raise DocumentError(path, "empty file (no text)")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(path, "not a web page (binary data), though it is named .html")
    xml = trafilatura.extract(data, output_format="xml", with_metadata=True, include_comments=False,
                              include_tables=True, include_images=False, include_links=False,
                              deduplicate=False,
                              # A date the page states, never a guess (the extensive search
                              # dates a page that carries none).
                              date_extraction_params={"extensive_search": False, "original_date": True})
    if not xml:
        raise DocumentError(path, "no main content found (an empty page, or only menus and links)")
    root = etree.fromstring(xml.encode("utf-8"))
    title = " ".join((root.get("title") or "").split())
    main = root.find("main")
    assembler = Assembler()
    body = " ".join("".join((main if main is not None else root).itertext()).split())
    # The byline the page shows above the article, from its metadata, unless the
    # extracted text already carries it (rag/ingest/byline.py reads it from there).
    author = root.get("author") if root.get("author") and root.get("author") not in body[:2000] else None
    for line in metadata_lines(author, root.get("date"), root.get("sitename")):
        assembler.add([(line, None)], (), heading=True)
    markup_blocks(main if main is not None else root, assembler, ())
    if not assembler.blocks:
        raise DocumentError(path, "no main content found (an empty page, or only menus and links)")
    return assembler.result(title)


def markup_blocks(element, assembler: Assembler, section: tuple[str, ...]) -> tuple[str, ...]:
    """Walk an element tree in document order, adding headings (which set the
    section for what follows) and paragraphs. Returns the section in force after it."""
    for child in element:
        tag = _local(child.tag)
        # trafilatura writes a heading as <head rend="h2">; XHTML's <head> is metadata.
        is_heading = tag == "head" and child.get("rend") is not None
        if not isinstance(tag, str) or (tag in _SKIP and not is_heading):
            continue
        level = _HEADINGS.get(tag) or (_heading_level(child) if is_heading else 0)
        if level:
            text = _text(child)
            if text:
                section = section[: level - 1] + (text,)
                assembler.add([(text, None)], section, heading=True)
        elif tag in _ROWS:
            cells = [_text(cell) for cell in child]
            row = " | ".join(cell for cell in cells if cell)
            if row:
                assembler.add([(row, None)], section)
        elif tag in _PARAGRAPHS and not _has_blocks(child):
            text = _text(child)
            if text:
                assembler.add([(text, None)], section)
        else:
            if child.text and child.text.strip() and tag not in ("table", "list", "ul", "ol", "dl"):
                assembler.add([(child.text, None)], section)  # text straight inside a <div>
            section = markup_blocks(child, assembler, section)
        if child.tail and child.tail.strip() and _local(element.tag) in _CONTAINERS:
            assembler.add([(child.tail, None)], section)  # text between blocks in a <div>
    return section


def _heading_level(element) -> int:
    """trafilatura writes headings as <head rend="h2">."""
    rend = element.get("rend") or "h2"
    return int(rend[1]) if len(rend) == 2 and rend[0] == "h" and rend[1].isdigit() else 2


def _has_blocks(element) -> bool:
    return any(_local(child.tag) in _PARAGRAPHS or _local(child.tag) in _HEADINGS
               or _local(child.tag) in ("list", "ul", "ol", "table", "div")
               for child in element if isinstance(child.tag, str))


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else tag


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split())

"""Images (.png, .jpg, .jpeg, .tif, .tiff): a photographed or scanned page, read
by OCR (rag/ingest/readers/ocr.py) into the engine's paragraphs, each with its page (a
TIFF may hold many pages)."""
from __future__ import annotations

from pathlib import Path

from rag.ingest.readers import JOINED_PARAGRAPH_CHARS, SHORT_PARAGRAPH_CHARS, Assembler, ReadOptions, ReadResult
from rag.ingest.readers.ocr import INSTALL_HINT, find_engine, ocr_text_blocks, recognise, scratch_folder
from rag.types.errors import DocumentError, Fix, Remedy


def read(data: bytes, path: str, on_page=None, options: ReadOptions | None = None) -> ReadResult:
    options = options or ReadOptions()
    if not options.ocr:
        raise DocumentError(path, "an image is read only by OCR, which is turned off", Remedy(Fix.TURN_ON, "ocr"))
    kind = _kind(data)
    if kind is None:
        raise DocumentError(path, "not a PNG, JPEG or TIFF image (the file does not start like one)")
    engine = find_engine()
    if engine is None:
        raise DocumentError(path, f"an image needs OCR: {INSTALL_HINT}, then ingest again")
    pages: dict[int, list[list[str]]] = {}
    with scratch_folder() as folder:
        image = Path(folder) / f"page{Path(path).suffix.lower()}"
        image.write_bytes(data)
        frames = _frames(image, path) if kind == "TIFF" else 1
        if frames == 1:
            pages = recognise(engine, image, path, timeout_s=options.ocr_page_timeout_s)
        else:
            # A multi-page TIFF, page by page: each within its own budget, and each
            # reported, so that the reader's progress keeps a long scan alive.
            from PIL import Image, ImageSequence

            with Image.open(image) as tiff:
                for number, frame in enumerate(ImageSequence.Iterator(tiff), 1):
                    single = Path(folder) / "frame.png"
                    frame.save(single)
                    found = recognise(engine, single, path, timeout_s=options.ocr_page_timeout_s)
                    if found.get(1):
                        pages[number] = found[1]
                    if on_page:
                        on_page(number, frames)
    assembler = Assembler()
    for page in sorted(pages):
        for text in _short_ones_joined(ocr_text_blocks(pages[page])):
            assembler.add([(text, page)])
    if not assembler.blocks:
        raise DocumentError(path, "OCR found no text in the image")
    return assembler.result("", max(frames, max(pages, default=1)), ocr_pages=len(pages))


def _kind(data: bytes) -> str | None:
    """What the bytes are, by their signature (the suffix may say otherwise)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return None


def _frames(image: Path, path: str) -> int:
    """Pages in the image (a TIFF may hold many), so that each gets its own budget."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns of what it then fails on: one line is enough
            with Image.open(image) as opened:
                return max(1, getattr(opened, "n_frames", 1))
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise DocumentError(path, "damaged or truncated image: it cannot be opened") from None


def _short_ones_joined(texts: list[str]) -> list[str]:
    """A page's paragraphs, the short ones (an author line, a list item) joined to
    their neighbour, by the rule the PDF reader uses."""
    out: list[str] = []
    for text in texts:
        if (out and min(len(out[-1]), len(text)) < SHORT_PARAGRAPH_CHARS
                and len(out[-1]) + len(text) <= JOINED_PARAGRAPH_CHARS):
            out[-1] = f"{out[-1]}\n{text}"
        else:
            out.append(text)
    return out

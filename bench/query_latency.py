"""Warm `search` latency on the SciFact index (5,183 abstracts), p50 and p95.

    .venv/bin/python bench/query_latency.py [--queries 200]

Beside it, the parts of one search, measured the same way: embedding the question
(the baseline any dense search pays), the Chroma query and BM25 scoring.
"""
from __future__ import annotations
import statistics
import time

from common import bench_parser, load_qrels, load_queries, reference_embedder, scifact_index

from rag.wiring import open_retriever


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    embedder = reference_embedder()
    index, settings = scifact_index(embedder)
    retriever = open_retriever(settings, index=index, embedder=embedder)
    queries = load_queries()
    texts = [queries[qid] for qid in load_qrels("test")][: args.queries]
    for text in texts[:10]:  # warm: first calls build caches and kernels
        retriever.search(text, k=5)

    parts = {"embed question": [], "Chroma query (100)": [], "BM25 scores": [], "search, k=5 (hybrid)": []}
    for text in texts:
        t0 = time.perf_counter()
        vector = embedder.embed_query(text)
        t1 = time.perf_counter()
        index.store.query(vector, settings.candidates, index.live_ids)
        t2 = time.perf_counter()
        index.lexical.scores(text)
        t3 = time.perf_counter()
        retriever.search(text, k=5)
        t4 = time.perf_counter()
        parts["embed question"].append(t1 - t0)
        parts["Chroma query (100)"].append(t2 - t1)
        parts["BM25 scores"].append(t3 - t2)
        parts["search, k=5 (hybrid)"].append(t4 - t3)

    print(f"{len(texts)} SciFact test claims, {index.manifest.passage_count} passages, warm")
    print("| step | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, values in parts.items():
        print(f"| {name} | {1000 * statistics.median(values):.1f} | {1000 * percentile(values, 0.95):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""BEIR SciFact: nDCG@10 and recall@100 of BM25, dense and hybrid retrieval.

    .venv/bin/python bench/scifact.py            # builds bench/.cache/scifact-index once
    .venv/bin/python bench/scifact.py --backend onnx-int8   # int8 vectors: their own index

Fusion settings are chosen on the *train* queries and reported on the 300 test
queries, so the test figures are not tuned on themselves. Passages are mapped to
their documents by first occurrence in the ranking.
"""
from __future__ import annotations
import math
import sys
import time

from common import bench_parser, load_qrels, load_queries, reference_embedder, scifact_index

from rag.config import Settings
from rag.retrieve.search import convex, rrf
from rag.wiring import embedder_for, open_retriever

PUBLISHED = {"bm25": 0.665, "dense": 0.645}


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall_at_100(ranked: list[str], relevant: dict[str, int]) -> float:
    return len(set(ranked[:100]) & set(relevant)) / len(relevant)


def to_docs(order: list[str]) -> list[str]:
    """Passage ids ("<doc_id>:<ordinal>:<hash>") to document ids, best first, once each."""
    seen, out = set(), []
    for pid in order:
        doc = pid.split(":", 1)[0]
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def rank(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda p: (-scores[p], p))


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--backend", choices=["torch", "onnx", "onnx-int8"], default="torch",
                        help="embedding backend: torch and onnx compute the same float32 vectors (one index); "
                             "onnx-int8 (the default for new indexes) gets its own index")
    args = parser.parse_args()

    embedder = (reference_embedder() if args.backend == "torch" else
                embedder_for(Settings(embed_backend="onnx"),
                             precision="int8" if args.backend == "onnx-int8" else "float32"))
    name = "scifact-index" if args.backend != "onnx-int8" else "scifact-index-int8"  # fp32 vectors are shared
    index, settings = scifact_index(embedder, args.rebuild, name)
    retriever = open_retriever(settings, index=index, embedder=embedder)
    # bm25s with its default tokenisation (no stemming), for the comparison the issue cites.
    from common import load_corpus

    queries = load_queries()
    doc_of = {}  # our doc_id (hash of "scifact:<id>") -> the BEIR corpus id
    from rag.ingest.passages import doc_id_for

    corpus = load_corpus()
    for row in corpus:
        doc_of[doc_id_for(f"scifact:{row['_id']}")] = row["_id"]

    import bm25s

    texts = {}
    for pid, passage in index.store.get(index.lexical.ids).items():
        texts[pid] = passage.text
    default_retriever = bm25s.BM25()
    default_retriever.index(bm25s.tokenize([texts[p] for p in index.lexical.ids], show_progress=False),
                            show_progress=False)

    def runs(split: str):
        qrels = load_qrels(split)
        out = []
        for qid, relevant in qrels.items():
            c = retriever.candidates(queries[qid], args.candidates)
            tokens = bm25s.tokenize([queries[qid]], return_ids=False, show_progress=False)[0]
            scores = default_retriever.get_scores(tokens)
            top = scores.argsort()[::-1][: args.candidates]
            default_order = [index.lexical.ids[i] for i in top if scores[i] > 0]
            out.append((relevant, c, default_order))
        return out

    def score(run, fuse) -> tuple[float, float]:
        nd, rc = [], []
        for relevant, c, default_order in run:
            docs = [doc_of[d] for d in to_docs(fuse(c, default_order))]
            nd.append(ndcg_at_10(docs, relevant))
            rc.append(recall_at_100(docs, relevant))
        return sum(nd) / len(nd), sum(rc) / len(rc)

    methods = {
        "bm25 (bm25s defaults)": lambda c, d: d,
        "bm25 (ours: stemmed, stop words)": lambda c, d: c.lexical_order,
        "dense (MiniLM, passages)": lambda c, d: c.dense_order,
        "hybrid: RRF k=60, bm25s defaults": lambda c, d: rank(rrf([c.dense_order, d], 60)),
        "hybrid: RRF k=60, ours": lambda c, d: rank(rrf([c.dense_order, c.lexical_order], 60)),
    }
    started = time.perf_counter()
    train = runs("train")
    test = runs("test")
    print(f"retrieved {len(train)} train and {len(test)} test queries in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)

    # Tune the convex weight on train.
    grid = [round(0.1 * i, 1) for i in range(1, 10)]
    tuned = {w: score(train, lambda c, d, w=w: rank(convex(c.dense, c.lexical, w)))[0] for w in grid}
    best_w = max(tuned, key=tuned.get)
    print("train nDCG@10 by dense weight: " + ", ".join(f"{w}: {v:.3f}" for w, v in tuned.items()))
    methods[f"hybrid: convex, dense weight {best_w} (tuned on train)"] = (
        lambda c, d: rank(convex(c.dense, c.lexical, best_w)))
    default_w = Settings().dense_weight
    if default_w != best_w:
        methods[f"hybrid: convex, dense weight {default_w} (product default)"] = (
            lambda c, d: rank(convex(c.dense, c.lexical, default_w)))

    print()
    print("| method | nDCG@10 (test) | recall@100 | published nDCG@10 |")
    print("|---|---|---|---|")
    for name, fuse in methods.items():
        nd, rc = score(test, fuse)
        pub = PUBLISHED["bm25"] if name.startswith("bm25") else PUBLISHED["dense"] if name.startswith("dense") else None
        print(f"| {name} | {nd:.3f} | {rc:.3f} | {pub if pub else '–'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

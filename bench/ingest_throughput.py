"""Ingest throughput: our pipeline against a naive one, on the same passages, in one run.

    .venv/bin/python bench/ingest_throughput.py [--docs 1500] [--rounds 2]

naive:  model.encode(texts) with sentence-transformers' defaults, then collection.add
        (in the largest batches Chroma accepts) into a fresh PersistentClient.
ours:   rag.ingest.apply_documents into a fresh index: length-sorted batches, Chroma
        writes overlapped with embedding, plus the BM25 index and the manifest.
Both use the same loaded model; the rounds alternate the order to even out noise.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from common import load_corpus, scifact_documents

from rag.config import Settings
from rag.embed import Embedder
from rag.ingest import apply_documents


def naive(embedder: Embedder, passages, folder: Path) -> float:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    started = time.perf_counter()
    vectors = embedder._model.encode([p.text for p in passages])
    client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("naive", embedding_function=None)
    step = client.get_max_batch_size()
    for lo in range(0, len(passages), step):
        batch = passages[lo:lo + step]
        collection.add(ids=[p.id for p in batch], embeddings=vectors[lo:lo + len(batch)],
                       documents=[p.text for p in batch], metadatas=[p.to_metadata() for p in batch])
    return time.perf_counter() - started


def ours(embedder: Embedder, documents, folder: Path) -> float:
    started = time.perf_counter()
    apply_documents(Settings(index_dir=folder), None, documents, [], embedder)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=1500, help="SciFact abstracts to ingest")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    embedder = Embedder()
    documents = scifact_documents(load_corpus()[: args.docs], embedder)
    passages = [p for d in documents for p in d.passages]
    embedder.embed([p.text for p in passages[:64]])  # warm up both paths' kernels

    times = {"naive": [], "ours": []}
    for round_ in range(args.rounds):
        order = ["naive", "ours"] if round_ % 2 == 0 else ["ours", "naive"]
        for name in order:
            folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
            try:
                elapsed = naive(embedder, passages, folder) if name == "naive" else ours(embedder, documents, folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            times[name].append(elapsed)

    n = len(passages)
    best = {name: min(values) for name, values in times.items()}
    print(f"{len(documents)} SciFact abstracts, {n} passages, best of {args.rounds} rounds")
    print("| pipeline | seconds | passages/s | × naive |")
    print("|---|---|---|---|")
    for name in ("naive", "ours"):
        print(f"| {name} | {best[name]:.1f} | {n / best[name]:.1f} | {best['naive'] / best[name]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

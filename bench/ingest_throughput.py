"""Ingest throughput: our pipeline against a naive one, on the same passages, in one run.

    .venv/bin/python bench/ingest_throughput.py [--docs 1500] [--rounds 2]

naive:          model.encode(texts) with sentence-transformers' defaults, then
                collection.add (in the largest batches Chroma accepts) into a fresh
                PersistentClient.
ours (default): rag.ingest.pipeline.apply_documents into a fresh index with the default embedder
                (ONNX Runtime, int8): length-sorted batches, Chroma writes overlapped
                with embedding, plus the BM25 index and the manifest.
ours, float32:  the same with exact vectors (ONNX Runtime, float32).
ours, torch:    the same with sentence-transformers (float32), the embedder naive uses.
Each model is loaded before the clock starts; the rounds rotate the order to even out noise.
"""
from __future__ import annotations
import shutil
import tempfile
import time
from pathlib import Path

from common import bench_parser, load_corpus, scifact_documents

from rag.config import Settings
from rag.embedding.torch_backend import TorchEmbedder
from rag.ingest.pipeline import apply_documents
from rag.wiring import embedder_for


def naive(embedder: TorchEmbedder, passages, folder: Path) -> float:
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


def ours(embedder, documents, folder: Path) -> float:
    started = time.perf_counter()
    apply_documents(Settings(index_dir=folder), None, documents, [], embedder)
    return time.perf_counter() - started


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--docs", type=int, default=1500, help="SciFact abstracts to ingest")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.smoke:
        args.docs, args.rounds = 8, 1

    torch_embedder = embedder_for(Settings(embed_backend="torch"))
    default = embedder_for(Settings())
    exact = embedder_for(Settings(), precision="float32")
    documents = scifact_documents(load_corpus()[: args.docs], torch_embedder)
    passages = [p for d in documents for p in d.passages]
    runs = {
        "naive": lambda folder: naive(torch_embedder, passages, folder),
        f"ours (default: {default.backend}, {default.precision})": lambda folder: ours(default, documents, folder),
        "ours, onnx float32": lambda folder: ours(exact, documents, folder),
        "ours, torch float32": lambda folder: ours(torch_embedder, documents, folder),
    }
    for embedder in (torch_embedder, default, exact):
        embedder.embed([p.text for p in passages[:64]])  # warm up each runtime's kernels

    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_ in range(args.rounds):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
            try:
                times[name].append(runs[name](folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    n = len(passages)
    best = {name: min(values) for name, values in times.items()}
    print(f"{len(documents)} SciFact abstracts, {n} passages, best of {args.rounds} rounds")
    print("| pipeline | seconds | passages/s | × naive |")
    print("|---|---|---|---|")
    for name in names:
        print(f"| {name} | {best[name]:.1f} | {n / best[name]:.1f} | {best['naive'] / best[name]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Embedding backends side by side: start-up, passages/s, and how close their vectors are.

    .venv/bin/python bench/embed_backends.py [--docs 400] [--rounds 2]

torch:         sentence-transformers (rag.embedding.base.Embedder), the baseline
onnx float32:  ONNX Runtime on the exported float32 graph (eager attention, BERT fusions)
onnx int8:     the same graph with its weights quantized per output channel by ONNX
               Runtime's dynamic quantization: the default for new indexes
onnx int8, per tensor: one scale per weight tensor, measured, not shipped
Start-up is a fresh interpreter importing and loading each backend (what every `rag search`
pays); throughput embeds the passages of the first --docs SciFact abstracts with the same
length-matched batches; "cos" compares each backend's vectors with torch's.
"""
from __future__ import annotations
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import bench_parser, load_corpus, quantized, scifact_documents

from rag.config import Settings
from rag.wiring import embedder_for

LOAD = "from rag.config import Settings; from rag.wiring import embedder_for; embedder_for(Settings(embed_backend='{}'))"


def startup_seconds(backend: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", LOAD.format(backend)], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    starts_runs = 3
    if args.smoke:
        args.docs, args.rounds, starts_runs = 8, 1, 1

    print(f"start-up (fresh interpreter, import and load; best of {starts_runs}):")
    starts = {b: startup_seconds(b, starts_runs) for b in ("torch", "onnx")}
    for backend, seconds in starts.items():
        print(f"  {backend:<6} {seconds:5.2f} s   ({seconds / starts['torch']:.2f}x torch)")

    torch_embedder = embedder_for(Settings(embed_backend="torch"))
    onnx_embedder = embedder_for(Settings(embed_backend="onnx"), precision="float32")
    documents = scifact_documents(load_corpus()[: args.docs], torch_embedder)
    texts = [p.text for d in documents for p in d.passages]
    with tempfile.TemporaryDirectory() as folder:
        backends = {"torch": torch_embedder, "onnx float32": onnx_embedder,
                    "onnx int8 (default)": embedder_for(Settings(embed_backend="onnx"), precision="int8"),
                    "onnx int8, per tensor": quantized(onnx_embedder, Path(folder), per_channel=False)}
        for embedder in backends.values():
            embedder.embed(texts[:32])  # warm up
        seconds: dict[str, list[float]] = {name: [] for name in backends}
        vectors = {}
        for _ in range(args.rounds):
            for name, embedder in backends.items():
                started = time.perf_counter()
                vectors[name] = embedder.embed(texts)
                seconds[name].append(time.perf_counter() - started)

    print(f"\nthroughput on {len(texts)} SciFact passages ({args.docs} abstracts), best of {args.rounds}:")
    print("| backend | passages/s | vs torch | cos to torch, min | mean |")
    print("|---|---|---|---|---|")
    base = len(texts) / min(seconds["torch"])
    for name in backends:
        rate = len(texts) / min(seconds[name])
        cos = np.sum(vectors[name] * vectors["torch"], axis=1)
        print(f"| {name} | {rate:.1f} | {rate / base:.2f}x | {cos.min():.4f} | {cos.mean():.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Helpers shared by the benchmark scripts: the SciFact data and its index, and the
smoke mode every script has.

`--smoke` runs a benchmark on a tiny slice (a few questions, a corpus of a hundred or
so documents) in seconds, to show that it still runs: tests/test_bench_smoke.py runs
every script so, and a change that breaks one fails the suite. Its figures mean
nothing. Smoke runs keep their caches under $RAG_BENCH_CACHE when it is set (the test
points it at a temporary folder), never beside the real ones."""
from __future__ import annotations

import gzip
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = Path(os.environ.get("RAG_SCIFACT_DIR", ROOT.parent / "shared" / "benchdata" / "scifact"))
# Read before argparse: the data helpers below shrink what they load in a smoke run.
SMOKE = "--smoke" in sys.argv[1:]
SMOKE_HELP = "a few questions on a tiny corpus, in seconds: shows the benchmark still runs (figures mean nothing)"
SMOKE_DOCS = 120  # SciFact abstracts in a smoke run, besides those the smoke queries need
SMOKE_QUERIES = 4  # per split
CACHE = (Path(os.environ["RAG_BENCH_CACHE"]) if SMOKE and os.environ.get("RAG_BENCH_CACHE")
         else ROOT / "bench" / ".cache" / ("smoke" if SMOKE else ""))

sys.path.insert(0, str(ROOT))
# Test helpers the benchmarks share (the tiny and synthetic GGUF writers).
sys.path.insert(1, str(ROOT / "tests"))

from rag.environment import prepare_process  # noqa: E402  (after the path is set)

prepare_process()  # offline, no telemetry, as the `rag` command runs


def load_corpus() -> list[dict]:
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    if SMOKE:  # the first abstracts, and every one a smoke query needs
        needed = {doc for split in ("train", "test") for relevant in load_qrels(split).values() for doc in relevant}
        rows = [row for i, row in enumerate(rows) if i < SMOKE_DOCS or str(row["_id"]) in needed]
    return rows


def load_queries() -> dict[str, str]:
    # Only the claim text: the `metadata` field carries gold evidence and is never read.
    out = {}
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out[str(row["_id"])] = row["text"]
    return out


def load_qrels(split: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(SCIFACT / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        next(handle)  # header
        for line in handle:
            qid, did, score = line.split()
            qrels.setdefault(qid, {})[did] = int(score)
    return dict(list(qrels.items())[:SMOKE_QUERIES]) if SMOKE else qrels


def text_document(source: str, title: str, text: str, count_tokens, max_tokens: int):
    """A Document from one block of text that has no file behind it (a dataset
    record): one paragraph, split only where it exceeds the window."""
    import re

    from rag.index.manifest import content_hash
    from rag.ingest.passages import doc_id_for, fit_block, passage_id
    from rag.ingest.readers import Block, Line
    from rag.types.corpus import Document, Passage
    from rag.types.errors import DocumentError

    stripped = text.strip()
    if not stripped:
        raise DocumentError(source, "empty text")
    lead = text.index(stripped[0])
    block = Block(tuple(Line(m.start() + lead, m.start() + lead + len(m.group(0).strip()), m.group(0).strip())
                         for m in re.finditer(r"[^\n]+", stripped) if m.group(0).strip()))
    doc_id = doc_id_for(source)
    passages = tuple(
        Passage(passage_id(doc_id, i, title, s, t), doc_id, source, title, i, s, e, t)
        for i, (s, e, t) in enumerate(fit_block(block, count_tokens, max_tokens))
    )
    return Document(doc_id, source, title, content_hash(text.encode("utf-8")), passages)


def scifact_documents(corpus: list[dict], embedder):
    """Each abstract as one Document, text = title + " " + text as BEIR does it."""
    return [
        text_document(f"scifact:{row['_id']}", row.get("title") or row["_id"],
                      f"{row.get('title', '')} {row['text']}".strip(), embedder.count_tokens, 254)
        for row in corpus
    ]


def scifact_index(embedder, rebuild: bool = False, name: str = "scifact-index"):
    """Open the SciFact index in bench/.cache/`name`, building it once (a few minutes)."""
    from rag.config import Settings
    from rag.index.manifest import Index, read_manifest
    from rag.ingest.pipeline import apply_documents

    settings = Settings(index_dir=CACHE / name, collection="scifact")
    manifest = read_manifest(settings.index_dir)
    if (manifest is None or rebuild or manifest.embed_model != embedder.name
            or manifest.embed_precision != embedder.precision):
        import shutil

        shutil.rmtree(settings.index_dir, ignore_errors=True)
        corpus = load_corpus()
        started = time.perf_counter()
        docs = scifact_documents(corpus, embedder)
        print(f"building the SciFact index: {len(docs)} documents, "
              f"{sum(len(d.passages) for d in docs)} passages …", file=sys.stderr, flush=True)
        apply_documents(settings, None, docs, [], embedder)
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return Index.open(settings), settings


def quantized(onnx_embedder, folder: Path, per_channel: bool):
    """A copy of the ONNX embedder running an int8 graph."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.embedding.onnx_backend import _session

    source = onnx_embedder._session._model_path
    target = folder / f"int8-{'channel' if per_channel else 'tensor'}.onnx"
    quantize_dynamic(source, str(target), weight_type=QuantType.QInt8, per_channel=per_channel,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    copy = object.__new__(type(onnx_embedder))
    copy.__dict__.update(onnx_embedder.__dict__)
    copy._session = _session(target)
    return copy


def reference_embedder():
    """The embedder these benchmarks were measured with: MiniLM's float32 vectors from
    sentence-transformers on torch. A smoke run takes the same float32 vectors from
    ONNX Runtime, which starts in a second instead of several."""
    from rag.config import Settings
    from rag.wiring import embedder_for

    if SMOKE:
        return embedder_for(Settings(embed_backend="onnx"), precision="float32")
    return embedder_for(Settings(embed_backend="torch"))


def smoke_seed_index():
    """Settings of an index of seeds/ for a smoke run (built once per cache folder);
    None outside a smoke run, where a script uses the working directory's index."""
    from rag.config import Settings
    from rag.index.manifest import read_manifest
    from rag.ingest.pipeline import ingest_paths
    from rag.wiring import embedder_loader

    if not SMOKE:
        return None
    settings = Settings(index_dir=CACHE / "seeds-index")
    if read_manifest(settings.index_dir) is None:
        ingest_paths([ROOT / "seeds"], settings, embedder_loader(settings))
    return settings


def bench_parser(doc: str | None, smoke: str = SMOKE_HELP):
    """A benchmark's argument parser, with the `--smoke` every benchmark has."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help=smoke)
    return parser

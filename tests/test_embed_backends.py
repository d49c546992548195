"""The two embedding backends and two precisions. ONNX Runtime at float32 and
sentence-transformers on torch compute the same vectors, so an index built with
one is searched with the other, and passages are cut alike (the same word-piece
counts). ONNX Runtime at int8 (the default for new indexes) computes vectors close
to those: the same answers to the seed questions, and an index records its
precision, so that the other one is a clear error rather than a silent mismatch."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rag.cli.advice import explain

from conftest import QUESTIONS, SEEDS, make_settings
from rag.config import Settings
from rag.wiring import open_retriever


@pytest.fixture(scope="module")
def torch_embedder():
    from rag.embedding.torch_backend import TorchEmbedder

    return TorchEmbedder()


@pytest.fixture(scope="module")
def exact_onnx(embedder):
    """The ONNX backend at float32: the default embedder's scoring twin."""
    return embedder.scoring_embedder()


@pytest.fixture(scope="module")
def float32_seed_index(tmp_path_factory, exact_onnx):
    from rag.ingest.pipeline import ingest_paths

    settings = make_settings(tmp_path_factory.mktemp("float32") / "index")
    ingest_paths([SEEDS], settings, lambda name, precision: exact_onnx)
    return settings


def seed_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]


def top_fives(settings, embedder) -> list[list[str]]:
    """The texts of the five passages found for each seed question (texts, not ids:
    the two indexes were built from folders at different paths)."""

    retriever = open_retriever(settings, embedder=embedder)
    return [[h.passage.text for h in retriever.search(q["question"], k=5)] for q in seed_questions()]


def recall_at_5(tops: list[list[str]]) -> int:
    return sum(any(e in text for text in top for e in q["evidence"]) for q, top in zip(seed_questions(), tops)
               if q.get("evidence"))


def test_onnx_float32_and_torch_find_the_same_top_five_on_the_seed_questions(
        float32_seed_index, exact_onnx, torch_embedder):
    assert (exact_onnx.backend, exact_onnx.precision, torch_embedder.backend) == ("onnx", "float32", "torch")
    onnx_tops, torch_tops = top_fives(float32_seed_index, exact_onnx), top_fives(float32_seed_index, torch_embedder)
    agree = sum(a == b for a, b in zip(onnx_tops, torch_tops))
    assert agree == len(onnx_tops), f"top-5 differs on {len(onnx_tops) - agree} of {len(onnx_tops)} questions"

    texts = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text(encoding="utf-8").split("\n\n")]
    assert exact_onnx.count_tokens(texts) == torch_embedder.count_tokens(texts)  # passages cut alike
    cosines = np.sum(exact_onnx.embed(texts) * torch_embedder.embed(texts), axis=1)
    assert cosines.min() > 0.9999, cosines.min()
    question = seed_questions()[0]["question"]
    assert float(exact_onnx.embed_query(question) @ torch_embedder.embed_query(question)) > 0.9999


def test_the_int8_default_finds_what_exact_vectors_find_on_the_seed_questions(
        seed_index, embedder, float32_seed_index, exact_onnx):
    """int8 vectors are close, not equal: the same passage first and the same
    recall@5 on every seed question, and nearly the same five passages."""
    from rag.index.manifest import read_manifest

    assert (embedder.precision, read_manifest(seed_index.index_dir).embed_precision) == ("int8", "int8")
    int8_tops, exact_tops = top_fives(seed_index, embedder), top_fives(float32_seed_index, exact_onnx)
    texts = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text(encoding="utf-8").split("\n\n")]
    cosines = np.sum(embedder.embed(texts) * exact_onnx.embed(texts), axis=1)
    assert 0.97 < cosines.min() < 0.99999, cosines.min()  # close, and really quantized

    firsts = sum(a[0] == b[0] for a, b in zip(int8_tops, exact_tops))
    shared = sum(len(set(a) & set(b)) for a, b in zip(int8_tops, exact_tops)) / (5 * len(int8_tops))
    print(f"recall@5 {recall_at_5(int8_tops)} / {recall_at_5(exact_tops)}, same first {firsts}, shared {shared:.3f}")
    assert recall_at_5(int8_tops) == recall_at_5(exact_tops) >= 30
    assert firsts >= 0.9 * len(int8_tops), firsts
    assert shared >= 0.9, shared


def test_an_unknown_backend_is_a_config_error():
    from rag.config import load_settings
    from rag.types.errors import ConfigError

    with pytest.raises(ConfigError, match="embed_backend must be 'onnx' or 'torch'"):
        load_settings({"embed_backend": "tensorflow"}, environ={})
    assert Settings().embed_backend == "onnx"
    with pytest.raises(ConfigError, match="embed_precision must be 'float32' or 'int8'"):
        load_settings({}, environ={"RAG_EMBED_PRECISION": "fp16"})


def test_an_index_is_searched_only_at_its_own_precision_and_rebuilt_at_another(tmp_path, embedder_factory):
    """The index records its precision; unset, a search follows it. Asked for the
    other one (or torch, which computes only float32), the answer is one clear
    line naming both ways out, and `--rebuild` builds it at the new precision."""
    from rag.index.manifest import Index, read_manifest
    from rag.ingest.pipeline import ingest_paths
    from rag.types.errors import ModelMismatchError

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "note.txt").write_text("The harbour bridge opened in 1932.\n\nIt carries eight lanes.\n")
    settings = make_settings(tmp_path / "idx")
    ingest_paths([corpus], settings, embedder_factory)
    assert read_manifest(settings.index_dir).embed_precision == "int8"
    assert Index.open(settings).manifest.embed_precision == "int8"  # unset: the index's own

    # The library names settings; the command line words them as its flags (rag/cli/advice.py).
    with pytest.raises(ModelMismatchError) as caught:
        Index.open(settings.replace(embed_precision="float32"))
    assert re.search(r"holds int8 vectors, not float32; leave out --embed-precision", explain(caught.value))
    with pytest.raises(ModelMismatchError) as caught:
        Index.open(settings.replace(embed_backend="torch"))
    assert re.search(r"use --embed-backend onnx \(the default\).*--embed-backend torch", explain(caught.value))
    with pytest.raises(ModelMismatchError) as caught:
        ingest_paths([corpus], settings.replace(embed_precision="float32"), embedder_factory)
    assert re.search(r"rag ingest --rebuild --embed-precision float32", explain(caught.value))
    assert "--" not in str(caught.value)
    assert read_manifest(settings.index_dir).embed_precision == "int8"  # nothing lost

    exact = settings.replace(embed_precision="float32")
    report = ingest_paths([corpus], exact, embedder_factory, rebuild=True)
    assert report.passages_embedded == 2
    assert read_manifest(settings.index_dir).embed_precision == "float32"
    assert Index.open(settings).manifest.embed_precision == "float32"  # unset again: now it follows float32
    with pytest.raises(ModelMismatchError, match="holds float32 vectors, not int8"):
        Index.open(settings.replace(embed_precision="int8"))


def test_torch_refuses_int8_in_one_line():
    from rag.wiring import embedder_for
    from rag.types.errors import EmbeddingModelError

    with pytest.raises(EmbeddingModelError, match="the torch backend computes float32 vectors, not int8"):
        embedder_for(Settings(embed_backend="torch", embed_precision="int8"), None)

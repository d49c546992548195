"""The two embedding backends: ONNX Runtime (the default) and sentence-transformers
on torch compute the same vectors, so an index built with one is searched with the
other, and passages are cut alike (the same word-piece counts)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import QUESTIONS, SEEDS
from rag.config import Settings


@pytest.fixture(scope="module")
def torch_embedder():
    from rag.embed import Embedder

    return Embedder()


def test_both_backends_find_the_same_top_five_on_the_seed_questions(seed_index, embedder, torch_embedder):
    from rag.index import Index
    from rag.retrieve import Retriever

    assert (embedder.backend, torch_embedder.backend) == ("onnx", "torch")
    index = Index.open(seed_index)
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    tops = {e.backend: [[h.passage.id for h in Retriever(index, e, seed_index).search(q, k=5)] for q in questions]
            for e in (embedder, torch_embedder)}
    agree = sum(a == b for a, b in zip(tops["onnx"], tops["torch"]))
    assert agree == len(questions), f"top-5 differs on {len(questions) - agree} of {len(questions)} questions"

    texts = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text(encoding="utf-8").split("\n\n")]
    assert embedder.count_tokens(texts) == torch_embedder.count_tokens(texts)  # passages cut alike
    cosines = np.sum(embedder.embed(texts) * torch_embedder.embed(texts), axis=1)
    assert cosines.min() > 0.9999, cosines.min()
    assert float(embedder.embed_query(questions[0]) @ torch_embedder.embed_query(questions[0])) > 0.9999


def test_an_unknown_backend_is_a_config_error():
    from rag.config import load_settings
    from rag.types import ConfigError

    with pytest.raises(ConfigError, match="embed_backend must be 'onnx' or 'torch'"):
        load_settings({"embed_backend": "tensorflow"}, environ={})
    assert Settings().embed_backend == "onnx"

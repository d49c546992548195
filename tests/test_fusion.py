"""Fusion arithmetic, exact."""
import pytest

from rag.retrieve.search import convex, min_max, rrf, validate_question
from rag.types.errors import QueryError


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert sorted(fused, key=fused.get, reverse=True) == ["b", "a", "d", "c"]


def test_min_max_handles_ties():
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 1.0, "b": 1.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_convex_mixes_normalised_scores():
    dense = {"a": 0.9, "b": 0.5, "c": 0.1}
    lexical = {"a": 0.0, "b": 10.0, "c": 5.0}
    fused = convex(dense, lexical, dense_weight=0.5)
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.25})
    assert convex(dense, lexical, 1.0) == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})


def test_convex_counts_a_missing_score_as_the_minimum():
    fused = convex({"a": 1.0, "b": 0.0}, {"b": 2.0, "c": 1.0}, 0.5)
    assert fused == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0})


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_questions_are_refused(question):
    with pytest.raises(QueryError, match="empty"):
        validate_question(question)

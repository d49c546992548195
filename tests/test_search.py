"""Hybrid retrieval on the ingested seeds: exact top hits and citable passages."""
import pytest

from rag.types.errors import QueryError
from rag.wiring import open_retriever


@pytest.mark.parametrize("question, expected", [
    ("What did David Lammy tell MPs about sending troops?", "challenging decision"),
    ("How much will the UK raise defence spending before the Washington meeting?", "of GDP by 2027"),
    ("What did Lavrov say about European peacekeepers?", "deceptive and intended to prolong the conflict"),
    ("What did Trump post on Truth Social about Crimea?", "Obama-given Crimea"),
    ("What did Trump call Sadiq Khan?", "nasty person"),
])
def test_top_hit_holds_the_answer(seed_retriever, question, expected):
    hits = seed_retriever.search(question, k=5)
    assert expected in hits[0].passage.text


def test_hits_are_ranked_citable_passages(seed_retriever):
    hits = seed_retriever.search("Which countries voted with the US at the UN?", k=4)
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    source_text = open(hits[0].passage.source, encoding="utf-8").read()
    p = hits[0].passage
    assert source_text[p.start:p.end].startswith(p.text.split("\n")[0])
    assert p.label == f"{p.title}, ¶{p.ordinal + 1}"
    assert {h.passage.id for h in hits} == {h.to_json()["id"] for h in hits}


def test_each_method_ranks_by_its_own_scores(seed_retriever):
    question = "Obama-given Crimea"
    by_method = {m: seed_retriever.search(question, k=3, method=m) for m in ("dense", "bm25", "hybrid")}
    assert len(by_method["dense"]) == len(by_method["hybrid"]) == 3
    # BM25 returns only passages that share a word with the question.
    assert 1 <= len(by_method["bm25"]) <= 3 and all(h.lexical_score > 0 for h in by_method["bm25"])
    assert "Obama-given Crimea" in by_method["bm25"][0].passage.text
    assert by_method["bm25"][0].lexical_rank == 1 and by_method["dense"][0].dense_rank == 1


def test_empty_question_is_refused(seed_retriever):
    with pytest.raises(QueryError):
        seed_retriever.search("   ")


def test_duplicate_texts_are_shown_once(tmp_path, embedder, embedder_factory):
    from rag.ingest.pipeline import ingest_paths
    from conftest import make_settings

    folder = tmp_path / "dups"
    folder.mkdir()
    body = "Budget Notes\nThe council will spend 4 million pounds on bridges.\n"
    (folder / "a.txt").write_text(body, encoding="utf-8")
    (folder / "copy-of-a.txt").write_text(body, encoding="utf-8")
    (folder / "b.txt").write_text("Other\nParks get 1 million pounds.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    ingest_paths([folder], settings, embedder_factory)
    hits = open_retriever(settings, embedder=embedder).search("bridges budget", k=3)
    assert [h.passage.text for h in hits] == ["The council will spend 4 million pounds on bridges.",
                                              "Parks get 1 million pounds."]

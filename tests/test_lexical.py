"""BM25 on tiny inline corpora with exact expected rankings."""
from rag.index.bm25 import LexicalIndex

CORPUS = {
    "a": "The cat sat on the mat.",
    "b": "Dogs are running fast in the park.",
    "c": "A cat and a dog met a running cat.",
    "d": "Defence spending will rise to 2.5% of GDP.",
}


def build():
    return LexicalIndex.build(list(CORPUS), list(CORPUS.values()))


def test_rankings_are_exact_and_stemmed():
    index = build()
    assert [pid for pid, _ in index.top("cats", 4)] == ["c", "a"]  # "cats" stems to "cat"
    assert [pid for pid, _ in index.top("run", 4)] == ["b", "c"]
    assert [pid for pid, _ in index.top("defence spending", 4)] == ["d"]


def test_stop_words_and_unknown_words_score_nothing():
    index = build()
    assert index.top("the and of", 4) == []
    assert index.top("zebra", 4) == []
    assert index.scores("").tolist() == [0.0] * 4


def test_mentions_asks_that_every_word_is_somewhere_in_the_library(tmp_path):
    index = build()
    assert index.mentions("Cats") and index.mentions("cat dogs")  # stemmed, case folded, any passages
    assert not index.mentions("cat zebra") and not index.mentions("the") and not index.mentions("")
    index.save(tmp_path / "bm25")
    assert LexicalIndex.load(tmp_path / "bm25").mentions("defence spending")
    assert not LexicalIndex.build([], []).mentions("cat")


def test_save_and_load_give_the_same_scores(tmp_path):
    index = build()
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25")
    assert loaded.ids == index.ids
    assert loaded.top("running cat", 4) == index.top("running cat", 4)


def test_empty_index_round_trips(tmp_path):
    LexicalIndex.build([], []).save(tmp_path / "empty")
    loaded = LexicalIndex.load(tmp_path / "empty")
    assert loaded.ids == [] and loaded.top("anything", 3) == []


def test_term_weights_favour_rare_words_and_survive_a_reload(tmp_path):
    index = build()
    weights = index.term_weights(["cat", "defenc", "zebra"])
    # "cat" is in two passages, "defenc" in one, "zebra" in none: rarer weighs more.
    assert weights["zebra"] > weights["defenc"] > weights["cat"] > 0
    index.save(tmp_path / "bm25")
    assert LexicalIndex.load(tmp_path / "bm25").term_weights(["cat", "defenc", "zebra"]) == weights

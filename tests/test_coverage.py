"""The coverage gate on a real BM25 index: similarity, and where similarity is weak,
the question's rare words in one retrieved passage. The sentence scores are given
(ScoredSentence values) so that each threshold is crossed on purpose; the embedding
model's own scores are exercised end to end in test_assistant.py."""
from rag.config import Settings
from rag.retrieve.coverage import judge_coverage, term_coverage
from rag.index.bm25 import LexicalIndex
from rag.retrieve.select_sentences import ScoredSentence
from rag.types.corpus import Hit, Passage

TEXTS = [
    "The British captured Fort Beauséjour in 1755 after a two-week siege.",
    "Braddock's expedition against Fort Duquesne ended in defeat on the Monongahela.",
    "The Normans settled in Normandy and gave the region its name.",
    "Rollo swore fealty to the king of West Francia in 911.",
]
PASSAGES = [Passage(f"d:{i}:h", "d", "/d.txt", "D", i, 0, len(t), t) for i, t in enumerate(TEXTS)]
LEXICAL = LexicalIndex.build([p.id for p in PASSAGES], TEXTS)


def hits(*numbers):
    return [Hit(PASSAGES[n], 1.0 - r / 10, r + 1) for r, n in enumerate(numbers)]


def scored(similarity):
    return [ScoredSentence(0, 0, 10, "x", ("x",), similarity, 0.5, similarity)]


def test_the_best_single_passage_must_hold_the_rare_words():
    full, n = term_coverage("Which fort did the British capture in 1755?", hits(0, 1), LEXICAL)
    assert full == 1.0 and n == 4  # fort, british, captur, 1755
    # Words spread over two passages count for the passage holding most (weighted by rarity).
    spread, _ = term_coverage("Did Braddock capture Beauséjour?", hits(0, 1), LEXICAL)
    assert 0.3 < spread < 0.7
    absent, _ = term_coverage("How did railways spread imperialism in Africa?", hits(0, 1), LEXICAL)
    assert absent == 0.0


def test_weak_similarity_needs_the_words_and_strong_similarity_does_not():
    settings = Settings()
    off_topic = "How did railways spread imperialism across Africa?"
    assert not judge_coverage(off_topic, hits(0, 1), scored(0.46), settings, LEXICAL).covered
    assert judge_coverage(off_topic, hits(0, 1), scored(0.56), settings, LEXICAL).covered  # meaning suffices
    on_topic = "Which fort did the British capture in 1755?"
    assert judge_coverage(on_topic, hits(0, 1), scored(0.46), settings, LEXICAL).covered
    # Below the similarity threshold only a passage holding nearly every word saves it...
    assert judge_coverage(on_topic, hits(0, 1), scored(0.35), settings, LEXICAL).covered
    assert not judge_coverage(off_topic, hits(0, 1), scored(0.35), settings, LEXICAL).covered
    # ...and never far below it, nor with the word signal turned off.
    assert not judge_coverage(on_topic, hits(0, 1), scored(0.2), settings, LEXICAL).covered
    off = settings.replace(min_term_coverage=0.0)
    assert not judge_coverage(on_topic, hits(0, 1), scored(0.35), off, LEXICAL).covered
    assert judge_coverage(off_topic, hits(0, 1), scored(0.46), off, LEXICAL).covered
    assert not judge_coverage(on_topic, [], [], settings, LEXICAL).covered

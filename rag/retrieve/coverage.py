"""Do the retrieved passages cover the question? Decided before anything is
answered, so that a question about something the documents never discuss is
declined rather than answered from passages that merely share its topic.

Three signals, each cheap (bench/answer_quality.py measured them on SQuAD
articles split in two folds, and on the seed questions):
- meaning: the best sentence's cosine similarity to the question;
- the question's words: the share of them, weighted by rarity in the index
  (BM25's document frequencies), that the best-covering retrieved passage holds.
  Off-corpus questions about a close topic pass the similarity threshold, but
  their distinctive words are not in any one passage;
- names, quoted phrases and numbers of the question that no retrieved passage
  mentions (rag/retrieve/question.py), which the assistant checks after this.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rag.config import Settings
from rag.retrieve.select_sentences import ScoredSentence, singles
from rag.text.words import STOP_WORDS
from rag.types.corpus import Hit

# A short question embeds poorly ("Who was Robert's son?" scores 0.42 against the
# sentence that answers it), so when one retrieved passage holds nearly all of its
# words it counts as covered even below the similarity threshold; but never far below it.
FULL_TERM_COVERAGE = 0.8
FLOOR_SIMILARITY = 0.25


# Words of a request rather than of its topic ("Describe everything the articles say
# about the UN votes"): no passage holds them, and they say nothing about coverage.
REQUEST_WORDS = frozenset("""
describe described explain explained summarise summarize summarised summarized summary summaries overview
everything anything something all whole please me us give show find list know tell
article articles document documents source sources passage passages text texts report reports file files
mention mentions mentioned discuss discusses discussed detail details information info brief briefly
briefing key main point points aspect aspects write written writes
""".split())


@dataclass(frozen=True)
class Coverage:
    covered: bool
    best_similarity: float
    best_overlap: float
    term_coverage: float  # rarity-weighted share of the question's words in the best passage


def term_coverage(question: str, hits: Sequence[Hit], lexical) -> tuple[float, int]:
    """The rarity-weighted share of the question's words (BM25's tokens: stemmed,
    stop words dropped) held by the retrieved passage that holds most of them, and
    how many distinct words the question has. 1.0 for a question with no such word."""
    # The question's own words ("which", "did") and a request's ("describe", "the
    # articles") are dropped first: in a small index they are rare enough to weigh.
    words = " ".join(w for w in re.findall(r"[\w'’-]+", question)
                     if w.lower() not in STOP_WORDS and w.lower() not in REQUEST_WORDS)
    tokens = list(dict.fromkeys(lexical.tokenize_query(words)))
    if not tokens or not hits:
        return (1.0 if not tokens else 0.0), len(tokens)
    weights = lexical.term_weights(tokens)
    total = sum(weights.values()) or 1.0
    held = [set(words) for words in lexical.tokenize_texts([hit.passage.text for hit in hits])]  # one call
    best = max(sum(w for t, w in weights.items() if t in words) / total for words in held)
    return best, len(tokens)


def judge_coverage(question: str, hits: Sequence[Hit], scored: Sequence[ScoredSentence], settings: Settings,
                   lexical) -> Coverage:
    """Covered when the best sentence is close enough to the question in meaning
    (`min_similarity`, calibrated on the seed questions) and, where that closeness is
    weak (below `weak_similarity`), one passage also holds enough of the question's
    rare words (`min_term_coverage`). Word overlap alone is a poor signal ("What is
    the weather in London today?" shares words with news about London); it only
    decides between the two similarity thresholds."""
    scored = singles(scored)  # calibrated on single sentences
    if not hits or not scored:
        return Coverage(False, 0.0, 0.0, 0.0)
    best_sim = max(s.similarity for s in scored)
    best_overlap = max(s.overlap for s in scored)
    words, n_words = term_coverage(question, hits, lexical)
    if best_sim >= settings.min_similarity:
        covered = best_sim >= settings.weak_similarity or words >= settings.min_term_coverage
    else:
        covered = words >= FULL_TERM_COVERAGE and n_words >= 2 and best_sim >= FLOOR_SIMILARITY \
            and settings.min_term_coverage > 0
    return Coverage(covered, best_sim, best_overlap, words)

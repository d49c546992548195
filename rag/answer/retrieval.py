"""The answer path's first stage: the passages for a question (a follow-up made
standalone, a two-part question searched part by part), their sentences scored
against it, and whether they cover it."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Sequence

from rag.config import Settings
from rag.retrieve.coverage import Coverage, judge_coverage
from rag.retrieve.question import KeyTerm, QuestionAnalysis, analyse, missing_terms, question_parts
from rag.retrieve.scope import ScopedDocuments
from rag.retrieve.search import Retriever
from rag.retrieve.select_sentences import ScoredSentence, SentenceSelector
from rag.text.words import content_words
from rag.types.answers import Timings, Turn
from rag.types.corpus import Hit, Passage
from rag.types.scope import Scope

_FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|then|what about|how about|what else|why|and what)\b", re.I)
_PRONOUNS = frozenset("he she they him her them his hers their theirs it its that this those these there".split())
_WORD = re.compile(r"[A-Za-z][\w'’-]*")


@dataclass(frozen=True)
class Retrieved:
    """What the first stage hands on."""

    question: str
    query: str  # the question as searched (a follow-up with its topic added)
    parts: tuple[str, ...]  # the query's parts (two for "who … and when …?")
    hits: tuple[Hit, ...]
    scored: tuple[ScoredSentence, ...]  # the hits' sentences, scored against the query
    analysis: QuestionAnalysis
    coverage: Coverage
    missing: tuple[KeyTerm, ...]  # names the question asks about that no hit mentions
    unknown: tuple[KeyTerm, ...]  # those of them that no passage of the library holds at all
    scoped: ScopedDocuments | None
    timings: Timings


def _names(text: str) -> set[str]:
    """Capitalised words after the first: the people, places and bodies a question names."""
    words = _WORD.findall(text)
    return {w for w in words[1:] if w[0].isupper()}


def condense(question: str, history: Sequence[Turn]) -> str:
    """A standalone search query for a follow-up such as "and what did Macron say?":
    the question plus the topic words of the previous question that it lacks. When
    the follow-up names someone or something of its own, the previous question's
    names are left out: "and Macron?" after "What did Lammy say about troops?"
    asks about Macron and troops, not Lammy. A question that stands on its own is
    searched as it is."""
    if not history:
        return question
    words = [w.lower() for w in _WORD.findall(question)]
    looks_dependent = bool(_FOLLOW_UP_START.match(question)) or any(w in _PRONOUNS for w in words) \
        or len(words) <= 4
    if not looks_dependent:
        return question
    have = content_words(question)
    previous = history[-1].question
    replaced = _names(previous) if _names(question) else set()
    topic = [w for w in _WORD.findall(previous)
             if content_words(w) and not (content_words(w) & have) and w not in replaced]
    return f"{question} {' '.join(dict.fromkeys(topic))}".strip()


def retrieve(question: str, history: Sequence[Turn], scope: Scope | None, retriever: Retriever,
             selector: SentenceSelector, settings: Settings) -> Retrieved:
    started = time.perf_counter()
    scoped = retriever.scoped(scope)  # a pattern that picks nothing fails before any work
    query = condense(question, history)
    parts = question_parts(query)
    hits = search_parts(retriever, parts, settings.k, scoped)
    retrieved = time.perf_counter()
    analysis = analyse(query)
    scored = selector.score(query, hits, analysis=analysis)
    coverage = judge_coverage(query, hits, scored, settings, retriever.index.lexical)
    # A name the question asks about that no retrieved passage mentions: the
    # documents are about something else, however close the topic. A passage's
    # document title and the heading it sits under mention what they name: a paper's
    # authors are often only there ("In which models did Bolejko and Andersson…").
    missing = (missing_terms(analysis, [mentioning(h.passage) for h in hits])
               if coverage.covered and settings.refuse_missing_names else ())
    # "The documents do not mention Iraq" must be true of the documents, not only of
    # the passages found: a name the library holds elsewhere is declined without it.
    unknown = tuple(t for t in missing if not retriever.index.lexical.mentions(t.text))
    timings = Timings(retrieval_ms=round(1000 * (retrieved - started), 1),
                      selection_ms=round(1000 * (time.perf_counter() - retrieved), 1),
                      best_similarity=round(coverage.best_similarity, 4),
                      best_overlap=round(coverage.best_overlap, 4),
                      term_coverage=round(coverage.term_coverage, 4), answer_type=analysis.answer_type)
    return Retrieved(question, query, tuple(parts), tuple(hits), tuple(scored), analysis, coverage, tuple(missing),
                     unknown, scoped, timings)


def mentioning(passage: Passage) -> str:
    """What a passage mentions: its text under its document's title and its heading."""
    return "\n".join(part for part in (passage.title, passage.section, passage.text) if part)


def search_parts(retriever: Retriever, parts: Sequence[str], k: int, scoped: ScopedDocuments | None) -> list[Hit]:
    """The passages for a question: its own top `k`, or for a question in several
    parts each part's top `k`, taken in turn (each part's best first), no passage twice."""
    if len(parts) == 1:
        return retriever.search(parts[0], k, scope=scoped)
    ranked = [retriever.search(p, k, scope=scoped) for p in parts]
    hits: list[Hit] = []
    seen: set[str] = set()
    for rank in range(k):
        for part_hits in ranked:
            if rank < len(part_hits) and part_hits[rank].passage.id not in seen:
                seen.add(part_hits[rank].passage.id)
                hits.append(replace(part_hits[rank], rank=len(hits) + 1))
    return hits

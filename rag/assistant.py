"""The pipeline: retrieve, decide whether the documents cover the question, then
answer with a model (local or remote) or extractively; yields text as it is
produced, then one final `Answer`.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from rag.cite import CitationChecker, cited_numbers, parse_answer
from rag.config import Settings
from rag.extractive import choose, compose
from rag.prompt import NOT_COVERED, fit_prompt
from rag.retrieve import Retriever, validate_question
from rag.select import ScoredSentence, SentenceSelector, content_words, pick, singles
from rag.types import Answer, CitationReport, Hit, SentenceCheck, Source, Turn

_FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|then|what about|how about|what else|why|and what)\b", re.I)
_PRONOUNS = frozenset("he she they him her them his hers their theirs it its that this those these there".split())
_WORD = re.compile(r"[A-Za-z][\w'’-]*")


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


@dataclass(frozen=True)
class Coverage:
    covered: bool
    best_similarity: float
    best_overlap: float


def judge_coverage(hits: Sequence[Hit], scored: Sequence[ScoredSentence], settings: Settings) -> Coverage:
    """Do the retrieved passages bear on the question at all? The best sentence must
    be close enough to the question in meaning (threshold calibrated on the seed
    question set). Word overlap alone proved a poor signal: "What is the weather in
    London today?" shares two of its three content words with the seeds."""
    scored = singles(scored)  # calibrated on single sentences
    if not hits or not scored:
        return Coverage(False, 0.0, 0.0)
    best_sim = max(s.similarity for s in scored)
    best_overlap = max(s.overlap for s in scored)
    covered = best_sim >= settings.min_similarity
    return Coverage(covered, best_sim, best_overlap)


# Candidates within this much of the best score go into a model's prompt, up to
# `settings.prompt_sentences` sentences (bench/llm.py measured the trade-off).
PROMPT_SCORE_WINDOW = 0.3


def compact_sources(hits: Sequence[Hit], scored: Sequence[ScoredSentence], max_sentences: int) -> list[tuple]:
    """(passage, text) for the prompt: the best sentences and sentence pairs, grouped
    under their passages in rank order, in reading order within a passage. A CPU
    model pays for every prompt token, so whole passages are not sent."""
    if not scored:
        return []
    chosen = pick(scored, max_sentences, max(s.score for s in scored) - PROMPT_SCORE_WINDOW)
    by_hit: dict[int, list[ScoredSentence]] = {}
    for s in chosen:
        by_hit.setdefault(s.hit_index, []).append(s)
    out = []
    for i, hit in enumerate(hits):
        if i in by_hit:
            parts = sorted(by_hit[i], key=lambda s: s.start)
            out.append((hit.passage, " … ".join(p.text for p in parts)))
    return out


class Assistant:
    """Answers questions. `ask` yields, in order: the answer's text piece by piece;
    a `SentenceCheck` for each sentence as soon as it is complete (while a model
    is still writing the next one); and last the `Answer`, whose `citations` hold
    every check. The selector and the checker should share one `EmbeddingCache`:
    the checker then embeds only the answer's own sentences."""

    def __init__(self, retriever: Retriever, selector: SentenceSelector, settings: Settings, generator=None,
                 checker: CitationChecker | None = None):
        self.retriever = retriever
        self.selector = selector
        self.settings = settings
        self.generator = generator
        self.checker = checker or CitationChecker(selector.embedder)

    @property
    def mode(self) -> str:
        return self.generator.mode if self.generator is not None else "extractive"

    def ask(self, question: str, history: Sequence[Turn] = (), extractive: bool = False,
            max_tokens: int | None = None, temperature: float | None = None,
            grammar: str | None = None,
            should_stop: Callable[[], bool] | None = None) -> Iterator[str | SentenceCheck | Answer]:
        question = validate_question(question)
        settings = self.settings
        started = time.perf_counter()
        query = condense(question, history)
        hits = self.retriever.search(query, settings.k)
        retrieved = time.perf_counter()
        scored = self.selector.score(query, hits)
        coverage = judge_coverage(hits, scored, settings)
        timings = {"retrieval_ms": round(1000 * (retrieved - started), 1),
                   "selection_ms": round(1000 * (time.perf_counter() - retrieved), 1),
                   "best_similarity": round(coverage.best_similarity, 4),
                   "best_overlap": round(coverage.best_overlap, 4)}
        mode = "extractive" if extractive or self.generator is None else self.generator.mode
        model = None if mode == "extractive" else self.generator.name

        if not coverage.covered:
            yield NOT_COVERED
            checking = _Checking(self.checker, (), ())
            yield from checking.advance(NOT_COVERED, final=True)
            yield Answer(question, NOT_COVERED, mode, model, (), (), tuple(hits), False, query, timings,
                         citations=checking.report(timings))
            return

        if mode == "extractive":
            sources = tuple(Source(i, h.passage, h.passage.text) for i, h in enumerate(hits, 1))
            text = compose(choose(scored))
            for piece in re.findall(r"\S+\s*", text):  # streamed like a model, for one code path in UIs
                yield piece
            checking = _Checking(self.checker, sources, ())
            yield from checking.advance(text, final=True)
            yield Answer(question, text, mode, model, sources, tuple(cited_numbers(text)), tuple(hits), True,
                         query, timings, citations=checking.report(timings))
            return

        candidates = compact_sources(hits, scored, settings.prompt_sentences)
        prompt = fit_prompt(question, candidates, self.generator.count, self.generator.n_ctx,
                            max_tokens or settings.max_tokens, history)
        # Retrieved passages left out of the prompt: a fix may still point at them.
        given = {s.passage.id for s in prompt.sources}
        extra = tuple(h.passage for h in hits if h.passage.id not in given)
        pieces: list[str] = []
        checking = _Checking(self.checker, prompt.sources, extra)
        # `should_stop` (a UI's cancel) goes to the model, which asks it before every token.
        stop = {"should_stop": should_stop} if should_stop is not None else {}
        for piece in self.generator.stream(prompt.messages, prompt.max_answer_tokens,
                                           settings.temperature if temperature is None else temperature, grammar,
                                           **stop):
            pieces.append(piece)
            yield piece
            yield from checking.advance("".join(pieces), final=False)
        text = "".join(pieces).strip()
        yield from checking.advance(text, final=True)
        stats = self.generator.last_stats
        numbers = {s.number for s in prompt.sources}
        timings.update({
            "prompt_tokens": stats.prompt_tokens,
            "reused_prompt_tokens": stats.reused_prompt_tokens,
            "answer_tokens": stats.answer_tokens,
            "time_to_first_token_s": None if stats.time_to_first_token_s is None
            else round(stats.time_to_first_token_s, 4),
            "tokens_per_second": None if stats.tokens_per_second is None else round(stats.tokens_per_second, 2),
            "stopped_by": stats.stopped_by,
            "sources_dropped_for_budget": prompt.dropped_sources,
            "total_s": round(time.perf_counter() - started, 3),
        })
        yield Answer(question, text, mode, model, prompt.sources,
                     tuple(n for n in cited_numbers(text) if n in numbers), tuple(hits), True, query, timings,
                     user_message=prompt.messages[-1]["content"], citations=checking.report(timings))


_PARTIAL_MARKER = re.compile(r"\[\^?[\d,\s\-–^]*$")


class _Checking:
    """Checks an answer's sentences as they are written. While a model writes, a
    sentence is complete once the next one has begun (its markers come after its
    full stop); at the end, all are."""

    def __init__(self, checker: CitationChecker, sources: Sequence[Source], extra: Sequence):
        self.checker = checker
        self.sources = sources
        self.extra = extra
        self.checks: list[SentenceCheck] = []
        self.milliseconds = 0.0

    def advance(self, text: str, final: bool) -> list[SentenceCheck]:
        """The checks of the sentences newly complete in `text`."""
        if not final:
            text = _PARTIAL_MARKER.sub("", text)  # "… Europe. [1" : the marker is not finished
        sentences = parse_answer(text)
        todo = (sentences if final else sentences[:-1])[len(self.checks):]
        if not todo:
            return []
        started = time.perf_counter()
        new = self.checker.check_sentences(todo, self.sources, self.extra)
        self.milliseconds += 1000 * (time.perf_counter() - started)
        self.checks.extend(new)
        return new

    def report(self, timings: dict) -> CitationReport:
        timings["check_ms"] = round(self.milliseconds, 2)
        return CitationReport(tuple(self.checks), round(self.milliseconds, 2))


def make_assistant(retriever: Retriever, settings: Settings, generator=None) -> Assistant:
    """An assistant whose sentence selector and citation checker share one cache
    of sentence embeddings."""
    from rag.embed import EmbeddingCache

    cache = EmbeddingCache(retriever.embedder)
    return Assistant(retriever, SentenceSelector(cache), settings, generator, CitationChecker(cache))

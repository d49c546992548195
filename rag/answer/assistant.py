"""The pipeline: retrieve, decide whether the documents cover the question, then
answer with a model (local or remote) or extractively; yields text as it is
produced, then one final `Answer`.
"""
from __future__ import annotations

import collections.abc
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from rag.answer.shape import AnswerShape
from rag.check.checker import CitationChecker, cited_numbers, is_refusal, parse_answer, repointed
from rag.config import Settings
from rag.retrieve.coverage import judge_coverage
from rag.answer.extractive import choose, compose
from rag.answer.prompt import NOT_COVERED, fit_prompt, insisting, judge_messages
from rag.retrieve.question import (
    KeyTerm, QuestionAnalysis, analyse, asks_about_document, document_topic, gives_answer, missing_terms,
    question_parts,
)
from rag.retrieve.search import Retriever, validate_question
from rag.retrieve.scope import Scope, ScopedDocuments
from rag.retrieve.select_sentences import ScoredSentence, SentenceSelector, pick
from rag.text.words import content_words, looks_like_instruction
from rag.text.sentences import sentence_spans
from rag.types.answers import Answer, AnswerStream, Mode, Source, Turn
from rag.types.citations import NO_CLAIM, SUPPORTED, CitationReport, SentenceCheck
from rag.types.corpus import Hit
from rag.types.errors import ModelStoppedError

if TYPE_CHECKING:
    from rag.answer.generate import Generator

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


# How the refusal sentence opens: banned when an answer is required, since the model
# then writes about the documents instead of from them.
# "The documents do not cover", "…do cover", "…do mention that", "The sources do not cover":
# all talk about the sources, no answer from them (seen on the tuning and report questions).
REFUSAL_OPENINGS = ("The documents", "The sources", "The passages")

# Candidates within this much of the best score go into a model's prompt, up to
# `settings.prompt_sentences` sentences (bench/llm.py measured the trade-off).
PROMPT_SCORE_WINDOW = 0.3


def compact_sources(hits: Sequence[Hit], scored: Sequence[ScoredSentence], max_sentences: int,
                    neighbours: int = 0, parts: Sequence[Sequence[ScoredSentence]] = ()) -> list[tuple]:
    """(passage, text) for the prompt: the best sentences and sentence pairs, each
    with `neighbours` sentences either side of it from its passage (what "he" or
    "the resolution" refers to usually stands just before), grouped under their
    passages in rank order, in reading order within a passage, gaps marked " … ".
    A CPU model pays for every prompt token, so whole passages are not sent.
    `parts` (the scores against each part of a question that asks two things) share
    the sentences out, so that the prompt holds an answer to each part."""
    if not scored:
        return []
    chosen = []
    for part in (parts or [scored]):
        if part:
            share = -(-max_sentences // max(1, len(parts)))
            chosen += pick(part, share, max(s.score for s in part) - PROMPT_SCORE_WINDOW)
    by_hit: dict[int, list[ScoredSentence]] = {}
    for s in chosen:
        by_hit.setdefault(s.hit_index, []).append(s)
    out = []
    for i, hit in enumerate(hits):
        if i not in by_hit:
            continue
        text = hit.passage.text
        spans = [(a, b) for a, b in sentence_spans(text) if not looks_like_instruction(text[a:b])]
        keep: set[int] = set()
        for s in by_hit[i]:
            inside = [j for j, (a, b) in enumerate(spans) if a < s.end and s.start < b]
            if inside:
                keep.update(range(max(0, inside[0] - neighbours), min(len(spans), inside[-1] + neighbours + 1)))
        pieces: list[str] = []
        previous = None
        for j in sorted(keep):
            if previous is not None and j != previous + 1:
                pieces.append("…")
            pieces.append(text[spans[j][0]:spans[j][1]])
            previous = j
        out.append((hit.passage, " ".join(pieces)))
    return out


class Assistant:
    """Answers questions. `ask` yields, in order: the answer's text piece by piece;
    a `SentenceCheck` for each sentence as soon as it is complete (while a model
    is still writing the next one); and last the `Answer`, whose `citations` hold
    every check. The selector and the checker should share one `EmbeddingCache`:
    the checker then embeds only the answer's own sentences."""

    def __init__(self, retriever: Retriever, selector: SentenceSelector, settings: Settings,
                 generator: Generator | None, checker: CitationChecker):
        self.retriever = retriever
        self.selector = selector
        self.settings = settings
        self.generator = generator
        self.checker = checker

    @property
    def mode(self) -> str:
        return self.generator.mode if self.generator is not None else Mode.EXTRACTIVE

    def ask(self, question: str, history: Sequence[Turn] = (), extractive: bool = False,
            max_tokens: int | None = None, temperature: float | None = None,
            grammar: str | None = None, should_stop: Callable[[], bool] | None = None,
            scope: Scope | None = None) -> AnswerStream:
        """`scope` limits the answer to some documents (`--only`). When the model's
        process stops in the middle (a crash in llama.cpp), the answer ends with a line
        saying so and the extractive answer; the next question loads the model again."""
        progress = _Progress()
        try:
            yield from self._ask(question, history, extractive, max_tokens, temperature, grammar, should_stop,
                                 scope, progress)
        except ModelStoppedError as stopped:
            if progress.hits is None:  # cannot happen: the model is asked only after the search
                raise
            yield from self._answer_without_model(stopped, progress)

    def _ask(self, question: str, history: Sequence[Turn], extractive: bool, max_tokens: int | None,
             temperature: float | None, grammar: str | None, should_stop: Callable[[], bool] | None,
             scope: Scope | None, progress: _Progress) -> AnswerStream:
        question = validate_question(question)
        settings = self.settings
        started = time.perf_counter()
        scoped = self.retriever.scoped(scope)  # a pattern that picks nothing fails before any work
        query = condense(question, history)
        parts = question_parts(query)
        hits = self._search(parts, settings.k, scoped)
        retrieved = time.perf_counter()
        analysis = analyse(query)
        scored = self.selector.score(query, hits, analysis=analysis)
        coverage = judge_coverage(query, hits, scored, settings, self.retriever.index.lexical)
        # A name the question asks about that no retrieved passage mentions: the
        # documents are about something else, however close the topic.
        missing = (missing_terms(analysis, [h.passage.text for h in hits])
                   if coverage.covered and settings.refuse_missing_names else ())
        timings: dict[str, Any] = {"retrieval_ms": round(1000 * (retrieved - started), 1),
                   "selection_ms": round(1000 * (time.perf_counter() - retrieved), 1),
                   "best_similarity": round(coverage.best_similarity, 4),
                   "best_overlap": round(coverage.best_overlap, 4),
                   "term_coverage": round(coverage.term_coverage, 4)}
        mode = Mode.EXTRACTIVE if extractive or self.generator is None else self.generator.mode
        model = None if mode == Mode.EXTRACTIVE or self.generator is None else self.generator.name

        timings["answer_type"] = analysis.answer_type
        progress.started(question, query, hits, scored, analysis, timings, mode, model)
        wanted = asks_about_document(question)
        if wanted and hits and coverage.best_similarity >= settings.min_similarity:
            # "Who wrote the article about …?": the words "wrote" and "article" are in
            # no passage, so only closeness in meaning decides that the article is here.
            yield from self._byline_answer(question, query, wanted, hits, timings, analysis, scoped)
            return
        if not coverage.covered or missing:
            refusal = not_mentioned(missing) if missing else NOT_COVERED
            report = yield from self._say(refusal, (), timings, by_word=False)
            yield Answer(question, refusal, mode, model, (), (), tuple(hits), False, query, timings,
                         citations=report)
            return

        if mode == Mode.EXTRACTIVE:
            sources = tuple(Source(i, h.passage, h.passage.text) for i, h in enumerate(hits, 1))
            text = compose(choose(scored))
            report = yield from self._say(text, sources, timings)
            yield with_verdict(Answer(question, text, mode, model, sources, tuple(cited_numbers(text)),
                                      tuple(hits), True, query, timings, citations=report), analysis)
            return

        generator = self.generator
        assert generator is not None  # extractive otherwise, answered above
        # Each part of a two-part question picks its own sentences too. Cheap: the
        # passages' sentence embeddings are cached, so each part costs one query embedding.
        by_part = [self.selector.score(p, hits, analysis=analyse(p)) for p in parts] if len(parts) > 1 else []
        candidates = compact_sources(hits, scored, prompt_sentences(settings, generator),
                                     settings.prompt_neighbours, by_part)
        prompt = fit_prompt(question, candidates, generator.count, generator.n_ctx,
                            max_tokens or settings.max_tokens, history, system=system_prompt(settings))
        # Retrieved passages left out of the prompt: a fix may still point at them.
        given = {s.passage.id for s in prompt.sources}
        extra = tuple(h.passage for h in hits if h.passage.id not in given)
        # The cited form: checked token by token for a local model, a grammar for a server.
        shape = AnswerShape.over([s.number for s in prompt.sources], settings.answer_sentences) \
            if grammar is None and settings.constrain_answers else None
        # `should_stop` (a UI's cancel) goes to the model, which asks it before every token.
        stop = {"should_stop": should_stop} if should_stop is not None else {}
        temperature = settings.temperature if temperature is None else temperature
        draft = progress.draft = _Draft(self.checker, prompt.sources, extra)
        progress.sources = prompt.sources
        writing = time.perf_counter()
        yield from draft.write(generator.stream(prompt.messages, prompt.max_answer_tokens, temperature,
                                                     grammar, shape=shape, **stop),
                               hold_refusal=shape is not None and self._confirms())
        if draft.withheld and shape is not None:  # only a shaped answer holds its refusal back
            # The model declined. Its refusal was held back: a small model declines
            # too readily, often with the answer in its prompt. Asked afresh whether
            # the passages answer the question, it is usually sure when they do
            # (bench/RESULTS.md): then it writes again, an answer now required.
            doubt = generator.judge(judge_messages(question, [s.text for s in prompt.sources]))
            timings["refusal_doubt"] = round(doubt, 4)
            if doubt >= settings.answer_despite_refusal:
                timings["refused_draft"] = draft.text
                draft = progress.draft = _Draft(self.checker, prompt.sources, extra)
                yield from draft.write(generator.stream(
                    insisting(prompt.messages), prompt.max_answer_tokens, temperature, grammar,
                    shape=replace(shape, refusal="", banned=REFUSAL_OPENINGS), **stop), hold_refusal=True)
                if draft.withheld:  # it wrote nothing but the refusal's opening again: the refusal stands
                    yield from draft.release(instead=NOT_COVERED)
            else:
                yield from draft.release()
        text, repeated, checking = draft.text, draft.repeated, draft.checking
        stats = generator.last_stats
        numbers = {s.number for s in prompt.sources}
        timings.update({
            "prompt_tokens": stats.prompt_tokens,
            "reused_prompt_tokens": stats.reused_prompt_tokens,
            "answer_tokens": stats.answer_tokens,
            "time_to_first_token_s": None if stats.time_to_first_token_s is None
            else round(stats.time_to_first_token_s, 4),
            "tokens_per_second": None if stats.tokens_per_second is None else round(stats.tokens_per_second, 2),
            "stopped_by": "repetition" if repeated is not None else stats.stopped_by,
            "sources_dropped_for_budget": prompt.dropped_sources,
            "total_s": round(time.perf_counter() - started, 3),
        })
        if "refusal_doubt" in timings and draft.first_piece_at is not None:
            # What the reader waited for: the first words shown, after the held-back draft.
            timings["time_to_first_token_s"] = round(draft.first_piece_at - writing, 4)
        report = checking.report(timings)
        # A sentence stated by another source it was given is cited to that one: the
        # reader gets a true citation, and the answer says how many it corrected.
        text, report, corrected = repointed(text, report)
        if corrected:
            timings["markers_corrected"] = corrected
        declined = bool(report.checks) and all(c.verdict == NO_CLAIM for c in report.checks) \
            and any(is_refusal(c.sentence.text) for c in report.checks)
        unconfirmed = None
        if not declined and text and self._confirms():
            cited = set(cited_numbers(text))
            passages = [s.text for s in prompt.sources if s.number in cited] or [prompt.sources[0].text]
            confidence = generator.judge(judge_messages(question, passages))
            timings["answer_confidence"] = round(confidence, 4)
            timings["total_s"] = round(time.perf_counter() - started, 3)
            if confidence < settings.min_answer_confidence:
                # The model, shown the passages its answer cites and asked whether they
                # answer exactly this question, says no: they are about the question's
                # topic but do not answer it. The draft is kept in the timings.
                timings["unconfirmed_draft"] = text
                unconfirmed = confidence
                text = NOT_COVERED
                report = _Checking(self.checker, (), ()).advance_report(text, timings)
                declined = True
        answer = Answer(question, text, mode, model, prompt.sources,
                        tuple(n for n in cited_numbers(text) if n in numbers), tuple(hits), True, query, timings,
                        user_message=prompt.messages[-1]["content"], citations=report, declined=declined)
        if settings.min_supported_share > 0:
            if declined:
                # Retrieval found close sentences (the coverage gate passed) but the model
                # saw no answer in them: a small model often declines too readily, so the
                # reader gets the closest sentences, labelled as such.
                why = ("the model found no answer in the passages it was given" if unconfirmed is None else
                       f"the model could not confirm that its sources answer this (confidence {unconfirmed:.2f})")
                answer = self._with_alternative(answer, scored, hits, why)
            elif too_little_supported(report, settings.min_supported_share):
                warning = (f"only {report.count(SUPPORTED)} of {report.claims} sentences of this answer are "
                           f"supported by the documents" if report.claims
                           else "the model's answer makes no checkable claim")
                answer = self._with_alternative(answer, scored, hits, warning)
        yield with_verdict(answer, analysis)

    def _answer_without_model(self, stopped: ModelStoppedError, progress: _Progress) -> AnswerStream:
        """The model's process ended mid-answer: the sentences it had finished (each
        already checked), one line saying what happened, and the extractive answer."""
        assert progress.hits is not None and progress.analysis is not None
        timings = progress.timings
        timings["model_stopped"] = stopped.reason
        draft = progress.draft
        checks = tuple(draft.checking.checks) if draft is not None else ()
        text = draft.text[:checks[-1].sentence.end].strip() if draft is not None and checks else ""
        warning = f"{stopped} and is loaded again for the next question"
        yield f"\n\n⚠ {warning}.\n"
        numbers = {s.number for s in progress.sources}
        answer = Answer(progress.question, text, progress.mode, progress.model, tuple(progress.sources),
                        tuple(n for n in cited_numbers(text) if n in numbers), tuple(progress.hits), True,
                        progress.query, timings, citations=CitationReport(checks, 0.0),
                        model_stopped=stopped.reason)
        yield with_verdict(self._with_alternative(answer, progress.scored, progress.hits, warning), progress.analysis)

    def _search(self, parts: Sequence[str], k: int, scoped) -> list[Hit]:
        """The passages for a question: its own top `k`, or for a question in several
        parts each part's top `k`, taken in turn (each part's best first), no passage twice."""
        if len(parts) == 1:
            return self.retriever.search(parts[0], k, scope=scoped)
        ranked = [self.retriever.search(p, k, scope=scoped) for p in parts]
        hits: list[Hit] = []
        seen: set[str] = set()
        for rank in range(k):
            for part_hits in ranked:
                if rank < len(part_hits) and part_hits[rank].passage.id not in seen:
                    seen.add(part_hits[rank].passage.id)
                    hits.append(replace(part_hits[rank], rank=len(hits) + 1))
        return hits

    def _confirms(self) -> bool:
        """Is the answer to be confirmed by the model? Only by a local model that can
        be asked (a server gives no probabilities) and is large enough to judge (a
        model under a billion parameters is not)."""
        generator = self.generator
        if self.settings.min_answer_confidence <= 0 or generator is None or not generator.can_judge:
            return False
        return generator.parameters is not None and generator.parameters >= SMALL_MODEL_PARAMETERS

    def _byline_answer(self, question: str, query: str, wanted: str, hits: Sequence[Hit], timings: dict,
                       analysis: QuestionAnalysis,
                       scoped: ScopedDocuments | None) -> AnswerStream:
        """Who wrote the best-matching document, or when it was published, quoting its
        byline or date line (read at ingest) and citing the passage that holds it; or
        that the document does not say."""
        source, title = self._document_meant(question, hits, scoped)
        entry = self.retriever.index.manifest.files.get(source)
        field = getattr(entry.byline, wanted) if entry is not None else None
        passage = None
        if field is not None:
            passage = next((h.passage for h in hits if h.passage.id == field.passage_id), None) \
                or self.retriever.index.store.get([field.passage_id]).get(field.passage_id)
        if passage is None:
            what = {"author": "who wrote it", "published": "when it was published",
                    "publisher": "who published it"}[wanted]
            text = f'The document "{title}" does not say {what}.'
            sources: tuple[Source, ...] = ()
        else:
            assert field is not None  # the passage is the one that holds it
            text = f"{field.quote} [1]"
            sources = (Source(1, passage, passage.text),)
        timings["byline"] = wanted
        report = yield from self._say(text, sources, timings)
        yield with_verdict(Answer(question, text, Mode.EXTRACTIVE, None, sources, tuple(cited_numbers(text)),
                                  tuple(hits), True, query, timings, citations=report,
                                  declined=passage is None), analysis)

    def _say(self, text: str, sources: Sequence[Source], timings: dict,
             by_word: bool = True) -> collections.abc.Generator[str | SentenceCheck, None, CitationReport]:
        """Yield a text made without a model (word by word, as a model streams, so UIs
        have one code path; a refusal in one piece) and its sentences' checks; return
        the check report."""
        for piece in re.findall(r"\S+\s*", text) if by_word else (text,):
            yield piece
        checking = _Checking(self.checker, sources, ())
        yield from checking.advance(text, final=True)
        return checking.report(timings)

    def _document_meant(self, question: str, hits: Sequence[Hit],
                        scoped: ScopedDocuments | None = None) -> tuple[str, str]:
        """(source, title) of the document a question about "the article about X"
        means: the one whose title is closest to X, since people describe an article
        by its headline, which its passages do not repeat (all five demo articles are
        about Starmer and Trump: retrieval alone cannot tell them apart). Every title
        in the index is compared, up to `TITLES_COMPARED`; beyond that, the titles of
        the retrieved documents."""
        files = self.retriever.index.manifest.files
        if scoped is not None:
            files = {source: files[source] for source in scoped.sources}
        if len(files) <= TITLES_COMPARED:
            candidates = [(source, entry.title) for source, entry in files.items()]
        else:
            candidates = list(dict.fromkeys((h.passage.source, h.passage.title) for h in hits))
        if len(candidates) <= 1:
            return candidates[0] if candidates else (hits[0].passage.source, hits[0].passage.title)
        embedder = self.selector.embedder  # the cache: titles are embedded once
        similarities = embedder.embed([t for _, t in candidates]) @ embedder.embed_query(document_topic(question))
        return candidates[int(similarities.argmax())]

    def _with_alternative(self, answer: Answer, scored: Sequence[ScoredSentence], hits: Sequence[Hit],
                          warning: str) -> Answer:
        """The model's answer with a warning and, beside it, the extractive answer
        numbered in the same series as the model's sources (a passage the model was
        given keeps its number; the others follow)."""
        numbers = {s.passage.id: s.number for s in answer.sources}
        next_number = max(numbers.values(), default=0)
        for hit in hits:
            if hit.passage.id not in numbers:
                next_number += 1
                numbers[hit.passage.id] = next_number
        chosen = choose(scored)
        text = compose(chosen, lambda i: numbers[hits[i].passage.id])
        cited = sorted({numbers[hits[c.hit_index].passage.id]: hits[c.hit_index].passage for c in chosen}.items())
        ordered = tuple(Source(n, passage, passage.text) for n, passage in cited)
        checking = _Checking(self.checker, ordered, ())
        checking.advance(text, final=True)
        alternative = Answer(answer.question, text, Mode.EXTRACTIVE, None, ordered, tuple(cited_numbers(text)),
                             answer.hits, True, answer.search_query, {}, citations=checking.report({}))
        return replace(answer, warning=warning, alternative=alternative)


def not_mentioned(terms: Sequence[KeyTerm]) -> str:
    """The refusal that names what the documents lack: "The documents do not mention Xi Jinping."."""
    names = [t.text for t in terms]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"The documents do not mention {listed}."


def with_verdict(answer: Answer, analysis: QuestionAnalysis) -> Answer:
    """The answer with "answers the question": whether a sentence of it (not a
    refusal) holds what the question asks for. Unknown (None) for questions whose
    answer type cannot be checked, and for declined answers."""
    if not analysis.missing_words or answer.declined or not answer.citations:
        return answer
    claims = [c.sentence.text for c in answer.citations.checks if c.verdict != NO_CLAIM]
    if not claims:
        return answer
    gives = any(gives_answer(text, analysis) for text in claims)
    return replace(answer, answers_question=gives, missing="" if gives else analysis.missing_words)


SMALL_MODEL_PARAMETERS = 1_000_000_000
# Questions about a document's byline compare the question with this many titles at
# most (one embedding each, cached): a library's worth, at a few seconds the first time.
TITLES_COMPARED = 5000


def system_prompt(settings: Settings) -> str:
    """The instructions every prompt opens with (constant, so its cache is reused)."""
    from rag.answer import prompt

    return prompt.SYSTEM_PROMPT


def prompt_sentences(settings: Settings, generator: Generator | None) -> int:
    """How many source sentences go into the prompt: fewer for a small model (its
    parameter count is known for a local GGUF; a server's model counts as large)."""
    parameters = generator.parameters if generator is not None else None
    if parameters is not None and parameters < SMALL_MODEL_PARAMETERS:
        return min(settings.prompt_sentences, settings.small_model_prompt_sentences)
    return settings.prompt_sentences


def too_little_supported(report: CitationReport, min_share: float) -> bool:
    """Is so little of the answer supported that a reader should see the sources'
    own words instead? An answer with no claim at all (and no refusal) counts."""
    if not report.claims:
        return True
    return report.count(SUPPORTED) / report.claims < min_share


_PARTIAL_MARKER = re.compile(r"\[\^?[\d,\s\-–^]*$")


class _Progress:
    """How far an answer has come, for the answer given when the model stops mid-way."""

    def __init__(self) -> None:
        self.question = self.query = ""
        self.hits: list[Hit] | None = None
        self.scored: list[ScoredSentence] = []
        self.analysis: QuestionAnalysis | None = None
        self.timings: dict[str, Any] = {}
        self.mode: Mode = Mode.EXTRACTIVE
        self.model: str | None = None
        self.sources: Sequence[Source] = ()
        self.draft: _Draft | None = None

    def started(self, question: str, query: str, hits: list[Hit], scored: list[ScoredSentence],
                analysis: QuestionAnalysis, timings: dict[str, Any], mode: Mode, model: str | None) -> None:
        self.question, self.query, self.hits, self.scored = question, query, hits, scored
        self.analysis, self.timings, self.mode, self.model = analysis, timings, mode, model


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

    def advance_unrepeated(self, text: str, final: bool) -> collections.abc.Generator[SentenceCheck, None, int | None]:
        """Like `advance`, yielding each new check, but a sentence that repeats an
        earlier one (a small model's loop) ends the answer: it is dropped, with
        what follows it, and its start offset is returned (None when none repeats)."""
        said = {_comparable(c.sentence.text) for c in self.checks}
        for check in self.advance(text, final):
            if _comparable(check.sentence.text) in said:
                self.checks = self.checks[:self.checks.index(check)]
                return check.sentence.start
            said.add(_comparable(check.sentence.text))
            yield check
        return None

    def advance_report(self, text: str, timings: dict) -> CitationReport:
        """Every sentence of a finished text checked at once, and the report."""
        self.advance(text, final=True)
        return self.report(timings)

    def report(self, timings: dict) -> CitationReport:
        timings["check_ms"] = round(self.milliseconds, 2)
        return CitationReport(tuple(self.checks), round(self.milliseconds, 2))


class _Draft:
    """One answer being written: the model's pieces passed on as they come, each
    sentence checked as soon as it is complete, a repeated sentence ending it. With
    `hold_refusal`, pieces that may still become the refusal sentence are held back,
    so that a refusal can be reconsidered before the reader sees it (`withheld`)."""

    def __init__(self, checker: CitationChecker, sources: Sequence[Source], extra: Sequence):
        self.checking = _Checking(checker, sources, extra)
        self.pieces: list[str] = []
        self.shown = 0  # pieces passed on
        self.repeated: int | None = None
        self.withheld = False
        self.first_piece_at: float | None = None

    @property
    def text(self) -> str:
        text = "".join(self.pieces).strip()
        return text[:self.repeated].strip() if self.repeated is not None else text

    def write(self, stream, hold_refusal: bool) -> Iterator[str | SentenceCheck]:
        holding = hold_refusal
        for piece in stream:
            self.pieces.append(piece)
            so_far = "".join(self.pieces).lstrip()
            if holding and NOT_COVERED.startswith(so_far):
                continue
            holding = False
            yield from self._show()
            self.repeated = yield from self.checking.advance_unrepeated(so_far, final=False)
            if self.repeated is not None:
                # A small model that starts saying the same sentence again has nothing
                # more to say: stop it, and leave the repeat out of the answer.
                stream.close()
                return
        if holding and self.pieces:
            self.withheld = True
            return
        yield from self._finish()

    def release(self, instead: str | None = None) -> Iterator[str | SentenceCheck]:
        """The held-back text passed on after all, or `instead` of it."""
        if instead is not None:
            self.pieces = [instead]
        self.withheld = False
        yield from self._finish()

    def _finish(self) -> Iterator[str | SentenceCheck]:
        """The rest shown, and the last sentence checked now that it is complete."""
        yield from self._show()
        self.repeated = yield from self.checking.advance_unrepeated("".join(self.pieces).strip(), final=True)

    def _show(self) -> Iterator[str]:
        if self.shown < len(self.pieces):
            if self.first_piece_at is None:
                self.first_piece_at = time.perf_counter()
            yield "".join(self.pieces[self.shown:])
            self.shown = len(self.pieces)


def _comparable(sentence: str) -> str:
    return " ".join(sentence.lower().split())

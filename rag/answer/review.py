"""The answer path's last stage: the written answer reviewed before the reader
relies on it. Each sentence was checked as it was written; here a sentence
stated by another source it was given is cited to that one, the model is asked to
confirm that the cited passages answer exactly this question, and an answer that
declines, or that too little of is supported, gets the documents' own sentences
beside it. A stricter review of each sentence is a change to this module."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

from rag.answer.assemble import assemble
from rag.answer.extractive import choose, compose
from rag.answer.prompt import NOT_COVERED, judge_messages
from rag.answer.retrieval import Retrieved
from rag.answer.write import Checking, Written
from rag.check.checker import CitationChecker, cited_numbers, is_refusal, repointed
from rag.config import Settings
from rag.retrieve.question import QuestionAnalysis, gives_answer
from rag.types.answers import Answer, Mode, Source, Timings
from rag.types.citations import NO_CLAIM, SUPPORTED, CitationReport

if TYPE_CHECKING:
    from rag.answer.generate import Generator


class Reviewer:
    """Reviews a model's written answer (`review`); offers the extractive answer
    beside one that needs it (`with_alternative`)."""

    def __init__(self, checker: CitationChecker, settings: Settings, generator: Generator | None, *,
                 confirms: bool):
        self.checker = checker
        self.settings = settings
        self.generator = generator
        self.confirms = confirms  # ask the model whether the cited passages answer the question

    def review(self, retrieved: Retrieved, written: Written, model: str | None, started: float) -> Answer:
        timings = retrieved.timings.merged(written.timings).with_(total_s=round(time.perf_counter() - started, 3))
        # A sentence stated by another source it was given is cited to that one: the
        # reader gets a true citation, and the answer says how many it corrected.
        text, report, corrected = repointed(written.text, written.report)
        if corrected:
            timings = timings.with_(markers_corrected=corrected)
        declined = bool(report.checks) and all(c.verdict == NO_CLAIM for c in report.checks) \
            and any(is_refusal(c.sentence.text) for c in report.checks)
        unconfirmed = None
        if not declined and text and self.confirms:
            confidence = self._confidence(retrieved.question, text, written.sources)
            timings = timings.with_(answer_confidence=round(confidence, 4),
                                    total_s=round(time.perf_counter() - started, 3))
            if confidence < self.settings.min_answer_confidence:
                # The model, shown the passages its answer cites and asked whether they
                # answer exactly this question, says no: they are about the question's
                # topic but do not answer it. The draft is kept in the timings.
                timings = timings.with_(unconfirmed_draft=text)
                unconfirmed, text, declined = confidence, NOT_COVERED, True
                checking = Checking(self.checker, (), ())
                checking.advance(text, final=True)
                report = checking.report()
                timings = timings.with_(check_ms=report.milliseconds)
        assert self.generator is not None  # a written answer is the model's
        answer = assemble(retrieved.question, retrieved.query, retrieved.hits, text=text, mode=self.generator.mode,
                          model=model, sources=written.sources, citations=report, timings=timings,
                          declined=declined, user_message=written.user_message)
        return with_verdict(self._fallback(answer, retrieved, report, unconfirmed), retrieved.analysis)

    def _confidence(self, question: str, text: str, sources: Sequence[Source]) -> float:
        assert self.generator is not None
        cited = set(cited_numbers(text))
        passages = [s.text for s in sources if s.number in cited] or [sources[0].text]
        return self.generator.judge(judge_messages(question, passages))

    def _fallback(self, answer: Answer, retrieved: Retrieved, report: CitationReport,
                  unconfirmed: float | None) -> Answer:
        if self.settings.min_supported_share <= 0:
            return answer
        if answer.declined:
            # Retrieval found close sentences (the coverage gate passed) but the model
            # saw no answer in them: a small model often declines too readily, so the
            # reader gets the closest sentences, labelled as such.
            why = ("the model found no answer in the passages it was given" if unconfirmed is None else
                   f"the model could not confirm that its sources answer this (confidence {unconfirmed:.2f})")
            return self.with_alternative(answer, retrieved, why)
        if too_little_supported(report, self.settings.min_supported_share):
            warning = (f"only {report.count(SUPPORTED)} of {report.claims} sentences of this answer are "
                       f"supported by the documents" if report.claims
                       else "the model's answer makes no checkable claim")
            return self.with_alternative(answer, retrieved, warning)
        return answer

    def with_alternative(self, answer: Answer, retrieved: Retrieved, warning: str) -> Answer:
        """The model's answer with a warning and, beside it, the extractive answer
        numbered in the same series as the model's sources (a passage the model was
        given keeps its number; the others follow)."""
        hits = retrieved.hits
        numbers = {s.passage.id: s.number for s in answer.sources}
        next_number = max(numbers.values(), default=0)
        for hit in hits:
            if hit.passage.id not in numbers:
                next_number += 1
                numbers[hit.passage.id] = next_number
        chosen = choose(retrieved.scored)
        text = compose(chosen, lambda i: numbers[hits[i].passage.id])
        cited = sorted({numbers[hits[c.hit_index].passage.id]: hits[c.hit_index].passage for c in chosen}.items())
        ordered = tuple(Source(n, passage, passage.text) for n, passage in cited)
        checking = Checking(self.checker, ordered, ())
        checking.advance(text, final=True)
        alternative = assemble(answer.question, answer.search_query, answer.hits, text=text, mode=Mode.EXTRACTIVE,
                               model=None, sources=ordered, citations=checking.report(),
                               timings=Timings())
        return replace(answer, warning=warning, alternative=alternative)


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


def too_little_supported(report: CitationReport, min_share: float) -> bool:
    """Is so little of the answer supported that a reader should see the sources'
    own words instead? An answer with no claim at all (and no refusal) counts."""
    if not report.claims:
        return True
    return report.count(SUPPORTED) / report.claims < min_share

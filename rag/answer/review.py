"""The answer path's last stage: the written answer reviewed before the reader
relies on it. Each sentence was checked as it was written; here a sentence
stated by another source it was given is cited to that one, the model is asked to
confirm that the sources answer exactly this question (in the answer's own prompt
first, then, where it is not sure, afresh of the cited passages: no declines the
answer, a lean to no leaves its sentences "?" unsure; so does an answer that gives no
number where one is asked, or only says the question back: rag/answer/question_fit.py), each supported
sentence with a number or name is re-read with it blanked (rag/answer/cloze.py: ✗
where the cited passage gives another in its place; a re-pointed sentence with
nothing to blank is "?" unless the model says its new source states it), and an answer
that declines, or that too little of is supported, gets the documents' own
sentences beside it."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

from rag.answer.assemble import assemble
from rag.answer.cloze import Reading, Refill, key_slot, refill, stated_in, statement_messages
from rag.answer.extractive import choose, compose
from rag.answer.prompt import NOT_COVERED, confirm_messages, judge_messages
from rag.answer.question_fit import gives_no_asked_number, restates_the_question
from rag.answer.retrieval import Retrieved
from rag.answer.write import Checking, Written
from rag.check.checker import CitationChecker, cited_numbers, is_refusal, repointed
from rag.config import Settings
from rag.retrieve.question import ORGANISATION, PERSON, PLACE, QuestionAnalysis, gives_answer
from rag.types.answers import Answer, Mode, Source, Timings
from rag.types.citations import (
    CONTRADICTED, NO_CLAIM, SUPPORTED, UNSURE, WRONG_SOURCE, CitationReport, SentenceCheck,
)

if TYPE_CHECKING:
    from rag.answer.generate import Generator


class Reviewer:
    """Reviews a model's written answer (`review`); offers the extractive answer
    beside one that needs it (`with_alternative`)."""

    def __init__(self, checker: CitationChecker, settings: Settings, generator: Generator | None, *,
                 judges: bool):
        self.checker = checker
        self.settings = settings
        self.generator = generator
        # A model that can judge (local, a billion parameters or more) is asked whether
        # the cited passages answer the question, and re-reads the supported sentences.
        self.confirms = judges and settings.min_answer_confidence > 0
        self.rereads = judges and settings.review_sentences > 0

    def review(self, retrieved: Retrieved, written: Written, model: str | None, started: float) -> Answer:
        timings = retrieved.timings.merged(written.timings).with_(total_s=round(time.perf_counter() - started, 3))
        # A sentence stated by another source it was given is cited to that one: the
        # reader gets a true citation, and the answer says how many it corrected.
        text, report, corrected = repointed(written.text, written.report)
        if corrected:
            timings = timings.with_(markers_corrected=corrected)
        declined = bool(report.checks) and all(c.verdict == NO_CLAIM for c in report.checks) \
            and any(is_refusal(c.sentence.text) for c in report.checks)
        unconfirmed, doubt = None, None  # doubt: why an answer shown is not ✓, for its warning
        if not declined and text and self.confirms:
            confidence, confirming = self._confidence(retrieved.question, text, written)
            timings = timings.merged(confirming).with_(total_s=round(time.perf_counter() - started, 3))
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
            elif confidence < self.settings.sure_answer_confidence:
                # Both readings lean to no: shown, but not with a ✓ a reader would keep.
                report = doubtful(report, f"asked whether its sources answer exactly this question, the model "
                                          f"leans to no (P(yes) {confidence:.2f})")
                doubt = f"the model is not sure that its sources answer this question (confidence {confidence:.2f})"
        if not declined and text and gives_no_asked_number(report, retrieved.analysis):
            what = retrieved.analysis.missing_words
            report = doubtful(report, f"it gives no {what.split(' ', 1)[1]}, which the question asks for")
            doubt = f"none of its sentences gives {what}, which the question asks for"
        elif not declined and text and restates_the_question(report, retrieved.analysis):
            report = doubtful(report, "it only restates the question")
            doubt = "its sentences only restate the question: they add nothing that answers it"
        if not declined and text and self.rereads:
            # The sentences the checker just re-pointed: their old verdict was "wrong source".
            moved = frozenset(c.sentence.index for c in written.report.checks if c.verdict == WRONG_SOURCE)
            report, reread = self._reread(report, written, retrieved.question, retrieved.analysis.answer_type,
                                          moved)
            timings = timings.merged(reread).with_(total_s=round(time.perf_counter() - started, 3))
        assert self.generator is not None  # a written answer is the model's
        answer = assemble(retrieved.question, retrieved.query, retrieved.hits, text=text, mode=self.generator.mode,
                          model=model, sources=written.sources, citations=report, timings=timings,
                          declined=declined, user_message=written.user_message)
        return with_verdict(self._fallback(answer, retrieved, report, unconfirmed, doubt), retrieved.analysis)

    def _reread(self, report: CitationReport, written: Written, question: str, asked: str,
                moved: frozenset[int]) -> tuple[CitationReport, Timings]:
        """Each supported sentence with a number, or a name the question asks for, re-read
        with it blanked and filled again from the sources (up to `review_sentences`). A
        sentence whose citation the checker corrected needs a proof beyond its words:
        without a slot to re-read, the model is asked whether its new source states it."""
        assert self.generator is not None
        started = time.perf_counter()
        checks = list(report.checks)
        fills: list[str] = []
        yes: list[float] = []
        asks_name = asked in (PERSON, PLACE, ORGANISATION)  # the question's answer type, read at retrieval
        for i, check in enumerate(checks):
            if check.verdict != SUPPORTED or not check.sentence.cited or quoted(check):
                continue
            if len(fills) + len(yes) >= self.settings.review_sentences:
                break
            cited = [s.text for s in written.sources if s.number in check.sentence.cited]
            slot = key_slot(check.sentence.text, question, asks_name)
            if slot is not None:
                found = refill(self.generator, written.messages, check.sentence.text, slot)
                fills.append(found.fill)
                checks[i] = reviewed(check, found, cited)
            elif check.sentence.index in moved:
                p_yes = self.generator.judge(statement_messages(written.messages, check.sentence.text,
                                                                check.sentence.cited))
                yes.append(round(p_yes, 4))
                checks[i] = affirmed(check, p_yes, self.settings.min_statement_confidence)
        timings = Timings(reread=len(fills) + len(yes), reread_s=round(time.perf_counter() - started, 3),
                          reread_fills=tuple(fills), reread_yes=tuple(yes))
        return CitationReport(tuple(checks), report.milliseconds), timings

    def _confidence(self, question: str, text: str, written: Written) -> tuple[float, Timings]:
        """P(yes): do the sources answer exactly this question? Asked first in the
        answer's own prompt (its prefix is in the model's cache: only the new words are
        read); where the model is not sure there, asked afresh of the passages the answer
        cites, the reading that separates right from wrong answers better."""
        assert self.generator is not None
        started = time.perf_counter()
        in_prompt = self.generator.judge(confirm_messages(written.messages))
        confidence = in_prompt
        if in_prompt < self.settings.confirm_in_prompt_at:
            cited = set(cited_numbers(text))
            passages = [s.text for s in written.sources if s.number in cited] or [written.sources[0].text]
            confidence = self.generator.judge(judge_messages(question, passages))
        return confidence, Timings(answer_confidence=round(confidence, 4),
                                   answer_confidence_in_prompt=round(in_prompt, 4),
                                   confirm_s=round(time.perf_counter() - started, 3))

    def _fallback(self, answer: Answer, retrieved: Retrieved, report: CitationReport,
                  unconfirmed: float | None, doubt: str | None) -> Answer:
        if self.settings.min_supported_share <= 0:
            return answer
        if answer.declined:
            # Retrieval found close sentences (the coverage gate passed) but the model
            # saw no answer in them: a small model often declines too readily, so the
            # reader gets the closest sentences, labelled as such.
            why = ("the model found no answer in the passages it was given" if unconfirmed is None else
                   f"the model could not confirm that its sources answer this (confidence {unconfirmed:.2f})")
            return self.with_alternative(answer, retrieved, why)
        if doubt is not None:
            return self.with_alternative(answer, retrieved, doubt)
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


def can_review(generator: Generator | None) -> bool:
    """Can the model review (confirm an answer, re-read sentences)? Only a local model
    that can be asked (a server gives no probabilities) and is large enough to judge
    (a model under a billion parameters is not)."""
    from rag.answer.write import SMALL_MODEL_PARAMETERS

    return generator is not None and generator.can_judge and generator.parameters is not None \
        and generator.parameters >= SMALL_MODEL_PARAMETERS


def review_draft(report: CitationReport, generator: Generator) -> tuple[CitationReport, int]:
    """A person's draft re-read (`rag check`): each supported sentence with a number has
    it blanked and filled again by the model from the passage sentences that support it;
    as for an answer, another number that they state in its place contradicts it. Returns
    the report and how many sentences were re-read."""
    from rag.answer.prompt import build_messages

    checks, reread = list(report.checks), 0
    for i, check in enumerate(checks):
        evidence = check.evidence
        if check.verdict != SUPPORTED or evidence is None or quoted(check):
            continue
        slot = key_slot(check.sentence.text, "", asks_name=False)
        if slot is None:
            continue
        # The passage's sentences that support it (a few dozen tokens, where a cited
        # whole document would be thousands), numbered as the draft numbers them, with
        # the sentence's own words as the question.
        number = evidence.number or (check.sentence.cited[0] if check.sentence.cited else 1)
        messages = build_messages(slot.blanked(check.sentence.text), [Source(number, evidence.passage,
                                                                            evidence.text)])
        found = refill(generator, messages, check.sentence.text, slot)
        checks[i] = reviewed(check, found, [evidence.text])
        reread += 1
    return CitationReport(tuple(checks), report.milliseconds), reread


def quoted(check: SentenceCheck) -> bool:
    """Is the sentence its passage's own words (support score 1.0)? Then the passage
    states exactly it, numbers in their places: there is nothing to re-read."""
    return check.score is not None and check.score >= 1.0


def reviewed(check: SentenceCheck, found: Refill, cited: Sequence[str]) -> SentenceCheck:
    """A supported sentence's verdict after its re-reading: contradicted where the
    sources fill the blank with another number or name that its cited passage states;
    kept otherwise. A blank the model fills with nothing, or with words the passage
    does not hold, proves nothing: made unsure, such blanks cost as many right answers
    as they caught wrong ones on questions we had not read ("The Battle of Hastings took
    place in ___" → "none"; bench/RESULTS.md, "The review")."""
    if found.reading != Reading.DIFFERS or not stated_in(found.fill, cited):
        return check
    where = "".join(f"[{n}]" for n in check.sentence.cited)
    return replace(check, verdict=CONTRADICTED, reason=f"{check.reason}; but re-read as “{found.blanked}”, "
                                                       f"{where} gives “{found.fill}”, not “{found.slot.text}”")


def affirmed(check: SentenceCheck, p_yes: float, threshold: float) -> SentenceCheck:
    """A supported sentence without a slot to blank, after the model was asked whether
    its cited source states it: unsure below `threshold`."""
    if p_yes >= threshold:
        return check
    where = "".join(f"[{n}]" for n in check.sentence.cited)
    return replace(check, verdict=UNSURE, reason=f"{check.reason}; but asked whether {where} states it, the model "
                                                 f"says no (P(yes) {p_yes:.2f}): the meaning is not confirmed")


def doubtful(report: CitationReport, why: str) -> CitationReport:
    """The supported sentences of an answer that may not answer its question made
    unsure: their words are in the passage, but they may answer a neighbouring one."""
    return CitationReport(tuple(replace(c, verdict=UNSURE, reason=f"{c.reason}; but {why}")
                                if c.verdict == SUPPORTED else c for c in report.checks), report.milliseconds)


def with_verdict(answer: Answer, analysis: QuestionAnalysis) -> Answer:
    """The answer with "answers the question": whether a sentence of it (not a
    refusal) holds what the question asks for; not where the review found the cited
    passage giving another answer. Unknown (None) for questions whose answer type
    cannot be checked, and for declined answers."""
    if answer.declined or not answer.citations:
        return answer
    if any(c.verdict == CONTRADICTED for c in answer.citations.checks):
        # Re-read, the cited passage put another number or name in the answer's place.
        return replace(answer, answers_question=False, missing="the answer its cited passage gives")
    if not analysis.missing_words:
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

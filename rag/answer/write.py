"""The answer path's third stage: the answer written, and each sentence checked
as soon as it is complete. `ModelWriter` asks the model (a prompt of the best
sentences, the cited form held token by token, a refusal held back and
reconsidered, a repeated sentence ending it); `say` passes on a text written
without one (extractive, a refusal, a byline), word by word as a model streams."""
from __future__ import annotations

import collections.abc
import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from rag.answer.prompt import NOT_COVERED, Prompt, fit_prompt, insisting, judge_messages
from rag.answer.retrieval import Retrieved
from rag.answer.shape import AnswerShape
from rag.check.checker import CitationChecker, parse_answer
from rag.config import Settings
from rag.retrieve.question import analyse
from rag.retrieve.select_sentences import ScoredSentence, SentenceSelector, pick
from rag.text.sentences import sentence_spans
from rag.text.words import looks_like_instruction
from rag.types.answers import Source, Timings, Turn
from rag.types.citations import CitationReport, SentenceCheck
from rag.types.corpus import Hit, Passage

if TYPE_CHECKING:
    from rag.answer.generate import Generator

SMALL_MODEL_PARAMETERS = 1_000_000_000

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


_PARTIAL_MARKER = re.compile(r"\[\^?[\d,\s\-–^]*$")


_ECHO_WORDS = 5  # words a sentence of the instructions must have to count as repeating them


class Checking:
    """Checks an answer's sentences as they are written. While a model writes, a
    sentence is complete once the next one has begun (its markers come after its
    full stop); at the end, all are."""

    def __init__(self, checker: CitationChecker, sources: Sequence[Source], extra: Sequence, told: str = ""):
        self.checker = checker
        self.sources = sources
        self.extra = extra
        self.told = _comparable(told)  # the model's instructions: a sentence of them is not an answer
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
        earlier one (a small model's loop) or its instructions ("If no source states
        the answer, write just: …", written once after an answer on SQuAD) ends the
        answer: it is dropped, with what follows it, and its start offset is
        returned (None when none repeats)."""
        said = {_comparable(c.sentence.text) for c in self.checks}
        for check in self.advance(text, final):
            sentence = _comparable(check.sentence.text)
            if sentence in said or self._repeats_instructions(sentence):
                self.checks = self.checks[:self.checks.index(check)]
                return check.sentence.start
            said.add(sentence)
            yield check
        return None

    def report(self) -> CitationReport:
        return CitationReport(tuple(self.checks), round(self.milliseconds, 2))

    def _repeats_instructions(self, sentence: str) -> bool:
        """Is `sentence` (already made comparable) words of the model's instructions?"""
        # The refusal is in the instructions too, and is an answer; so may a few words be.
        return len(sentence.split()) >= _ECHO_WORDS and sentence != _REFUSAL and sentence in self.told


class Draft:
    """One answer being written: the model's pieces passed on as they come, each
    sentence checked as soon as it is complete, a repeated sentence ending it. With
    `hold_refusal`, pieces that may still become the refusal sentence are held back,
    so that a refusal can be reconsidered before the reader sees it (`withheld`)."""

    def __init__(self, checker: CitationChecker, sources: Sequence[Source], extra: Sequence, told: str = ""):
        self.checking = Checking(checker, sources, extra, told)
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


_REFUSAL = _comparable(NOT_COVERED)


@dataclass(frozen=True)
class Written:
    """What the write stage hands on to the review."""

    text: str
    report: CitationReport  # each sentence's check, as written
    sources: tuple[Source, ...]  # what the model was given, numbered
    extra: tuple[Passage, ...]  # retrieved but left out of the prompt: a fix may still point at them
    timings: Timings
    user_message: str | None = None
    messages: tuple[dict, ...] = ()  # the prompt: the reviewer's questions extend it, so its cache is reused


def say(text: str, checker: CitationChecker, sources: Sequence[Source],
        by_word: bool = True) -> collections.abc.Generator[str | SentenceCheck, None, CitationReport]:
    """Yield a text made without a model (word by word, as a model streams, so UIs
    have one code path; a refusal in one piece) and its sentences' checks; return
    the check report."""
    for piece in re.findall(r"\S+\s*", text) if by_word else (text,):
        yield piece
    checking = Checking(checker, sources, ())
    yield from checking.advance(text, final=True)
    return checking.report()


class ModelWriter:
    """The model's answer. `draft` is the answer so far, for the answer given when the
    model's process stops mid-way; `timings` what the stage has measured so far."""

    def __init__(self, generator: Generator, checker: CitationChecker, selector: SentenceSelector,
                 settings: Settings, *, confirms: bool):
        self.generator = generator
        self.checker = checker
        self.selector = selector
        self.settings = settings
        self.confirms = confirms  # the review asks the model to confirm: a refusal is held back too
        self.draft: Draft | None = None
        self.sources: tuple[Source, ...] = ()
        self.timings = Timings()

    def prompt(self, retrieved: Retrieved, history: Sequence[Turn], max_tokens: int | None) -> Prompt:
        """The best sentences (each part of a two-part question picks its own, cheaply:
        the passages' sentence embeddings are cached) fitted to the context."""
        settings, parts = self.settings, retrieved.parts
        by_part = [self.selector.score(p, list(retrieved.hits), analysis=analyse(p)) for p in parts] \
            if len(parts) > 1 else []
        candidates = compact_sources(retrieved.hits, retrieved.scored, prompt_sentences(settings, self.generator),
                                     settings.prompt_neighbours, by_part)
        return fit_prompt(retrieved.question, candidates, self.generator.count, self.generator.n_ctx,
                          max_tokens or settings.max_tokens, history, system=system_prompt(settings))

    def write(self, retrieved: Retrieved, history: Sequence[Turn], *, max_tokens: int | None = None,
              temperature: float | None = None, grammar: str | None = None,
              should_stop: Callable[[], bool] | None = None
              ) -> collections.abc.Generator[str | SentenceCheck, None, Written]:
        settings = self.settings
        prompt = self.prompt(retrieved, history, max_tokens)
        given = {s.passage.id for s in prompt.sources}
        extra = tuple(h.passage for h in retrieved.hits if h.passage.id not in given)
        # The cited form: checked token by token for a local model, a grammar for a server.
        shape = AnswerShape.over([s.number for s in prompt.sources], settings.answer_sentences) \
            if grammar is None and settings.constrain_answers else None
        # `should_stop` (a UI's cancel) goes to the model, which asks it before every token.
        options: dict[str, Any] = {"temperature": settings.temperature if temperature is None else temperature,
                                   "grammar": grammar, "should_stop": should_stop}
        self.sources = tuple(prompt.sources)
        self.draft = Draft(self.checker, prompt.sources, extra, told=prompt.messages[0]["content"])
        writing = time.perf_counter()
        yield from self.draft.write(self.generator.stream(prompt.messages, prompt.max_answer_tokens, shape=shape,
                                                          **options),
                                    hold_refusal=shape is not None and self.confirms)
        if self.draft.withheld and shape is not None:  # only a shaped answer holds its refusal back
            yield from self._reconsider(retrieved.question, prompt, shape, extra, options)
        draft = self.draft
        self.timings = self._measured(prompt, draft)
        if self.timings.refusal_doubt is not None and draft.first_piece_at is not None:
            # What the reader waited for: the first words shown, after the held-back draft.
            self.timings = self.timings.with_(time_to_first_token_s=round(draft.first_piece_at - writing, 4))
        return Written(draft.text, draft.checking.report(), self.sources, extra, self.timings,
                       prompt.messages[-1]["content"], tuple(prompt.messages))

    def _reconsider(self, question: str, prompt: Prompt, shape: AnswerShape, extra: tuple[Passage, ...],
                    options: dict[str, Any]) -> Iterator[str | SentenceCheck]:
        """The model declined. Its refusal was held back: a small model declines too
        readily, often with the answer in its prompt. Asked afresh whether the passages
        answer the question, it is usually sure when they do (bench/RESULTS.md): then
        it writes again, an answer now required."""
        assert self.draft is not None
        doubt = self.generator.judge(judge_messages(question, [s.text for s in prompt.sources]))
        self.timings = self.timings.with_(refusal_doubt=round(doubt, 4))
        if doubt < self.settings.answer_despite_refusal:
            yield from self.draft.release()
            return
        self.timings = self.timings.with_(refused_draft=self.draft.text)
        self.draft = Draft(self.checker, prompt.sources, extra, told=prompt.messages[0]["content"])
        yield from self.draft.write(self.generator.stream(
            insisting(prompt.messages), prompt.max_answer_tokens,
            shape=replace(shape, refusal="", banned=REFUSAL_OPENINGS), **options), hold_refusal=True)
        if self.draft.withheld:  # it wrote nothing but the refusal's opening again: the refusal stands
            yield from self.draft.release(instead=NOT_COVERED)

    def _measured(self, prompt: Prompt, draft: Draft) -> Timings:
        stats = self.generator.last_stats
        return self.timings.with_(
            prompt_tokens=stats.prompt_tokens, reused_prompt_tokens=stats.reused_prompt_tokens,
            answer_tokens=stats.answer_tokens,
            time_to_first_token_s=None if stats.time_to_first_token_s is None
            else round(stats.time_to_first_token_s, 4),
            tokens_per_second=None if stats.tokens_per_second is None else round(stats.tokens_per_second, 2),
            stopped_by="repetition" if draft.repeated is not None else stats.stopped_by,
            sources_dropped_for_budget=prompt.dropped_sources, check_ms=draft.checking.report().milliseconds)


"""A model that plays back a script: the test double for the branches of the answer path.

A real model declines, repeats itself, doubts its sources or crashes only by chance, so
the tests of what the assistant does then use this instead (through the same
`open_assistant` as a real model). It is a `Generator`: each `stream` call writes the
next scripted answer, word by word as a model streams, asking `should_stop` before
every piece; each `judge` call returns the next scripted probability. A scripted answer
may be a function of the prompt's numbered sources ({number: text}), so that a test can
copy the sentence that states something, whatever number retrieval gave it. Every piece
is held to the `shape` the assistant passes, as the real model is: a script a real model
could not write fails the test that wrote it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from rag.answer.generate import GenerationStats
from rag.types.answers import Mode
from rag.types.errors import ModelStoppedError

Script = str | Callable[[dict[int, str]], str]
_SOURCE_LINE = re.compile(r"^\[(\d+)\] (.*)$", re.M)


def prompt_sources(messages: Sequence[dict]) -> dict[int, str]:
    """The numbered sources of the prompt's last message."""
    return {int(n): text for n, text in _SOURCE_LINE.findall(messages[-1]["content"])}


@dataclass
class Call:
    kind: str  # "stream" or "judge"
    messages: list[dict]
    shape: object = None
    pieces: list[str] = field(default_factory=list)  # what a stream wrote before it ended
    closed_early: bool = False  # the assistant stopped reading it


class ScriptedModel:
    mode = Mode.LOCAL
    can_judge = True
    runtime = None
    name = "scripted-model"

    def __init__(self, answers: Sequence[Script] = (), judgements: Sequence[float] = (),
                 parameters: int = 1_500_000_000, n_ctx: int = 4096,
                 crash_after_pieces: int | None = None, crash_in_judge: bool = False):
        self.answers = list(answers)
        self.judgements = list(judgements)
        self.parameters = parameters
        self.n_ctx = n_ctx
        self.crash_after_pieces = crash_after_pieces  # the first stream's runner dies after so many pieces
        self.crash_in_judge = crash_in_judge
        self.calls: list[Call] = []
        self.last_stats = GenerationStats()

    def count(self, messages: Sequence[dict]) -> int:
        return sum(len(m["content"]) // 4 + 4 for m in messages)

    def judge(self, messages: Sequence[dict]) -> float:
        self.calls.append(Call("judge", list(messages)))
        if self.crash_in_judge:
            raise ModelStoppedError("signal 11, SIGSEGV")
        assert self.judgements, "the assistant asked the model more often than the script says"
        return self.judgements.pop(0)

    def stream(self, messages: Sequence[dict], max_tokens: int, temperature: float, grammar: str | None = None,
               should_stop: Callable[[], bool] | None = None, shape=None) -> Iterator[str]:
        assert self.answers, "the assistant asked for more answers than the script holds"
        script = self.answers.pop(0)
        text = script(prompt_sources(messages)) if callable(script) else script
        call = Call("stream", list(messages), shape)
        self.calls.append(call)
        stats = self.last_stats = GenerationStats(prompt_tokens=self.count(messages), stopped_by="stop",
                                                  time_to_first_token_s=0.01, tokens_per_second=20.0)
        states = shape.start() if shape is not None else None
        try:
            for piece in re.findall(r"\S+\s*", text):
                if should_stop is not None and should_stop():
                    stats.stopped_by = "cancelled"
                    return
                if self.crash_after_pieces is not None and len(call.pieces) == self.crash_after_pieces:
                    self.crash_after_pieces = None  # once: the runner started again runs clean
                    raise ModelStoppedError("signal 11, SIGSEGV")
                if states is not None:
                    states = shape.feed(states, piece)
                    assert states, f"the script leaves the answer's form at {piece!r}: {text!r}"
                call.pieces.append(piece)
                stats.answer_tokens += 1
                yield piece
        except GeneratorExit:
            call.closed_early = True
            stats.stopped_by = "cancelled"
            raise

    @property
    def streams(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "stream"]

    @property
    def judged(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "judge"]


def sentence_with(sources: dict[int, str], words: str) -> tuple[int, str]:
    """(number, sentence) of the first source sentence that holds `words`."""
    from rag.text.sentences import split_sentences

    for number, text in sorted(sources.items()):
        for sentence in split_sentences(text):
            if words in sentence:
                return number, sentence.strip()
    raise AssertionError(f"no source of the prompt says {words!r}: {sources}")


def number_beside(sources: dict[int, str], words: str) -> str:
    """Another number that the source holding `words` gives: the fill of a blank that
    puts a number in the wrong place (not the sentence's own, nor the question's 2027)."""
    from rag.check.facts import number_spans, numbers

    number, sentence = sentence_with(sources, words)
    text, own = sources[number], numbers(sentence) - numbers("2027")
    return next(text[a:b] for a, b in number_spans(text) if not numbers(text[a:b]) & (own | {"2027"}))


def reworded(sentence: str) -> str:
    """A source sentence not in its own words (a verbatim quote is not re-read: its
    passage states exactly it), its facts where they were."""
    return "In short, " + sentence[0].lower() + sentence[1:]

"""What the assistant says: numbered sources, the answer with its checks, earlier turns."""
from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from rag.types.citations import CitationReport, SentenceCheck
from rag.types.corpus import Hit, Passage


class Mode(StrEnum):
    """How an answer was written; the values are what `--json` and saved
    conversations have always held."""

    LOCAL = "local"  # a GGUF model through llama.cpp
    REMOTE = "remote"  # an OpenAI-compatible server
    EXTRACTIVE = "extractive"  # the documents' own sentences, no model


class SourceState(StrEnum):
    """What became of a passage a saved answer cites, judged against today's index
    (rag.chat.session.source_states)."""

    CHANGED = "changed"  # its document is still indexed, but no longer holds this passage as it was
    GONE = "gone"  # its document is no longer in the index


CHANGED = SourceState.CHANGED
GONE = SourceState.GONE

# What asking yields, in order: the answer's text piece by piece, a check for each
# sentence as it completes, and last the `Answer`. Closing it stops the model.
AnswerStream = Generator["str | SentenceCheck | Answer", None, None]


@dataclass(frozen=True)
class Timings(Mapping[str, Any]):
    """What an answer cost and measured on its way, stage by stage. Frozen: each stage
    returns its own, and `with_` gives a new record. Read as a mapping of the fields
    that were measured (None: not measured), which is what `--json` and saved
    conversations hold, so readers keep `timings["prompt_tokens"]`."""

    # retrieve
    retrieval_ms: float | None = None
    selection_ms: float | None = None
    best_similarity: float | None = None
    best_overlap: float | None = None
    term_coverage: float | None = None
    answer_type: str | None = None
    byline: str | None = None  # a question about a document's author or date, answered from its byline
    # write
    refusal_doubt: float | None = None  # P(the passages answer it), asked when the model declined
    refused_draft: str | None = None  # the refusal that was reconsidered
    prompt_tokens: int | None = None
    reused_prompt_tokens: int | None = None
    answer_tokens: int | None = None
    time_to_first_token_s: float | None = None
    tokens_per_second: float | None = None
    stopped_by: str | None = None
    sources_dropped_for_budget: int | None = None
    model_stopped: str | None = None  # the model's process ended mid-answer: how
    # review
    check_ms: float | None = None
    markers_corrected: int | None = None
    answer_confidence: float | None = None  # P(the cited passages answer it): what decided
    answer_confidence_in_prompt: float | None = None  # the same asked first, in the answer's prompt
    confirm_s: float | None = None  # both confirmations together
    unconfirmed_draft: str | None = None  # the answer the confirmation turned down
    reread: int | None = None  # sentences re-read with their key slot blanked (rag/answer/cloze.py)
    reread_s: float | None = None
    reread_fills: tuple[str, ...] | None = None  # what the model filled each blank with
    reread_yes: tuple[float, ...] | None = None  # P(yes): does the cited source state it (no blank)
    total_s: float | None = None

    def with_(self, **changes: Any) -> "Timings":
        return replace(self, **changes)

    def merged(self, later: "Timings") -> "Timings":
        """These timings with what a later stage measured added."""
        return replace(self, **dict(later))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Timings":
        """From what `to_json` wrote; keys of another version are left out."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return dict(self)

    def _measured(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key: str) -> Any:
        value = getattr(self, key, None) if not key.startswith("_") else None
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._measured())

    def __len__(self) -> int:
        return len(self._measured())


@dataclass(frozen=True)
class Source:
    """A passage as numbered for an answer, with the text shown for it (the whole
    passage, or the sentences of it that bear on the question)."""

    number: int
    passage: Passage
    text: str

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        return {"number": self.number, "id": p.id, "title": p.title, **p.place_json(),
                "label": p.label, "text": p.text}


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation. `user_message` is what the model was
    sent (sources and question): sending it again verbatim makes the follow-up's
    prompt extend the previous one, so a model can reuse its cached prefix."""

    question: str
    answer: str
    user_message: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the assistant says, with everything needed to show and check it."""

    question: str
    text: str
    mode: Mode
    model: str | None
    sources: tuple[Source, ...]  # numbered as the answer cites them
    cited: tuple[int, ...]  # the numbers the text cites, first appearance first
    hits: tuple[Hit, ...]  # everything retrieval returned
    covered: bool  # False: the documents do not cover the question; no model was called
    search_query: str
    timings: Timings = field(default_factory=Timings)
    user_message: str | None = None  # the final user message sent to the model, if one was
    citations: CitationReport | None = None  # each sentence checked against what it cites
    dropped_sentences: int = 0  # --strict: unsupported and uncited sentences removed
    declined: bool = False  # the answer says the documents do not cover the question
    # When too little of a model's answer is supported: why (for the reader), and the
    # extractive answer offered beside it, numbered like this answer's sources.
    warning: str | None = None
    alternative: "Answer | None" = None
    # Does the answer hold what the question asks for (a number for "how many", a date
    # for "when", a name for "who")? None when that cannot be told (other questions,
    # refusals); `missing` then names what it lacks ("a number").
    answers_question: bool | None = None
    missing: str = ""
    # The model's process ended while it wrote this (a crash in llama.cpp): how
    # ("signal 11, SIGSEGV"). `text` is what it had finished; `alternative` the answer
    # without a model, `warning` says so.
    model_stopped: str | None = None

    def to_turn(self) -> Turn:
        return Turn(self.question, self.text, self.user_message)

    @property
    def cited_sources(self) -> tuple[Source, ...]:
        by_number = {s.number: s for s in self.sources}
        return tuple(by_number[n] for n in self.cited if n in by_number)

    @property
    def summary(self) -> str:
        """The check's one line, and whether the answer gives what was asked:
        "2 of 2 sentences supported; none gives a number"."""
        line = self.citations.summary() if self.citations else ""
        if self.model_stopped and not (self.citations and self.citations.claims):
            line = "the model stopped before it finished a sentence"
        if self.answers_question is False and self.missing:
            line += f"; none gives {self.missing}"
        return line

    @property
    def warning_line(self) -> str:
        """The words that introduce the extractive alternative, wherever it is shown."""
        return f"{self.warning}. What the documents themselves say:"

    @property
    def shown_checks(self) -> tuple[SentenceCheck, ...]:
        """The checks of the answer's sentences, then of its alternative's."""
        own = self.citations.checks if self.citations else ()
        other = self.alternative.citations.checks if self.alternative and self.alternative.citations else ()
        return tuple(own) + tuple(other)

    @property
    def shown_sources(self) -> tuple[Source, ...]:
        """The sources cited by the answer, then those only its extractive
        alternative cites (one numbering for both), each in order of citation."""
        found = {s.number: s for s in self.cited_sources}
        if self.alternative is not None:
            for source in self.alternative.cited_sources:
                found.setdefault(source.number, source)
        return tuple(found.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "mode": self.mode,
            "model": self.model,
            "covered": self.covered,
            "search_query": self.search_query,
            "cited_sources": [s.to_json() for s in self.cited_sources],
            "citations": self.citations.to_json() if self.citations else None,
            "dropped_sentences": self.dropped_sentences,
            "declined": self.declined,
            "answers_question": self.answers_question,
            "missing": self.missing or None,
            "summary": self.summary,
            "warning": self.warning,
            "alternative": self.alternative.to_json() if self.alternative else None,
            "model_stopped": self.model_stopped,
            "retrieved": [h.to_json() for h in self.hits],
            "timings": self.timings.to_json(),
        }

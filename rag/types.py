"""Frozen dataclasses that flow between modules, and the library's error types.

Everything here is plain data: no I/O, no heavy imports, so any module (and the
CLI's `--help`) can import it for free.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from rag.byline import Byline


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Passage:
    """One retrievable unit: a paragraph (or a sentence-aligned piece of a long one).

    `start`/`end` are character offsets into the decoded file text, so a citation
    can point at the exact place; `text` is what lies there, less any debris lines
    that were removed from between its pieces.
    """

    id: str  # "<doc_id>:<ordinal>:<content hash>", stable while the content is
    doc_id: str
    source: str  # absolute path of the file (or a dataset id for benchmarks)
    title: str
    ordinal: int  # 0-based position among the document's passages
    start: int
    end: int
    text: str
    page: int | None = None  # 1-based page the passage starts on (paged formats: PDF)
    last_page: int | None = None  # the page it ends on, when it runs onto the next
    section: str = ""  # heading path, "Methods › Data", where the format has headings

    @property
    def paragraph(self) -> int:
        """1-based paragraph number within the document, as a person counts."""
        return self.ordinal + 1

    @property
    def pages(self) -> str:
        """"4" or "4–5"; empty for formats without pages."""
        if self.page is None:
            return ""
        if self.last_page is not None and self.last_page != self.page:
            return f"{self.page}–{self.last_page}"
        return str(self.page)

    @property
    def place(self) -> str:
        """Where in the document: "p. 4, ¶12", "§Methods, ¶3" or "¶6"."""
        parts = []
        if self.page is not None:
            parts.append(f"pp. {self.pages}" if "–" in self.pages else f"p. {self.pages}")
        elif self.section:
            parts.append(f"§{self.section}")
        parts.append(f"¶{self.paragraph}")
        return ", ".join(parts)

    @property
    def label(self) -> str:
        """Human citation label: "Title, p. 4, ¶12" (paged), "Title, §Heading, ¶3"
        (with sections) or "Title, ¶6"."""
        return f"{self.title}, {self.place}"

    def to_metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (Chroma takes str/int/float/bool only;
        a key without a value is left out)."""
        meta: dict[str, Any] = {
            "doc_id": self.doc_id,
            "source": self.source,
            "title": self.title,
            "ordinal": self.ordinal,
            "start": self.start,
            "end": self.end,
        }
        if self.page is not None:
            meta["page"] = self.page
            meta["last_page"] = self.last_page if self.last_page is not None else self.page
        if self.section:
            meta["section"] = self.section
        return meta

    def place_json(self) -> dict[str, Any]:
        """The fields that say where a passage lies, for JSON output."""
        return {"source": self.source, "page": self.page, "last_page": self.last_page,
                "section": self.section or None, "paragraph": self.paragraph}

    @classmethod
    def from_metadata(cls, passage_id: str, text: str, meta: Mapping[str, Any]) -> "Passage":
        return cls(
            id=passage_id,
            doc_id=str(meta["doc_id"]),
            source=str(meta["source"]),
            title=str(meta["title"]),
            ordinal=int(meta["ordinal"]),
            start=int(meta["start"]),
            end=int(meta["end"]),
            text=text,
            # Indexes written before pages and sections existed have neither key.
            page=int(meta["page"]) if meta.get("page") is not None else None,
            last_page=int(meta["last_page"]) if meta.get("last_page") is not None else None,
            section=str(meta.get("section") or ""),
        )


@dataclass(frozen=True)
class Document:
    """A file read into passages."""

    doc_id: str
    source: str
    title: str
    content_hash: str  # sha256 of the file's bytes: the manifest's change detector
    passages: tuple[Passage, ...]
    warnings: tuple[str, ...] = ()  # read, but with something a person should know ("3 pages have no text")
    byline: Byline = field(default_factory=Byline)  # who wrote it and when, as its text says


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and how each retriever ranked it."""

    passage: Passage
    score: float
    rank: int  # 1-based rank in the fused list
    dense_rank: int | None = None  # 1-based; None when the dense retriever missed it
    lexical_rank: int | None = None
    dense_score: float | None = None  # cosine similarity
    lexical_score: float | None = None  # BM25

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "label": p.label,
            "id": p.id,
            "title": p.title,
            **p.place_json(),
            "start": p.start,
            "end": p.end,
            "text": p.text,
            "dense_rank": self.dense_rank,
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "lexical_rank": self.lexical_rank,
            "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 6),
        }


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


# Citation verdicts, one per answer sentence (rag/cite.py).
SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
WRONG_SOURCE = "wrong source"
UNCITED = "uncited"
NO_CLAIM = "no claim"  # a refusal or connective sentence: needs no citation
VERDICT_MARKS = {SUPPORTED: "✓", UNSUPPORTED: "✗", WRONG_SOURCE: "↪", UNCITED: "?", NO_CLAIM: "·"}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the source numbers its markers name."""

    index: int
    start: int  # offsets in the answer; `end` includes the sentence's markers
    end: int
    text: str  # without markers, whitespace collapsed
    cited: tuple[int, ...]


@dataclass(frozen=True)
class Evidence:
    """The sentence (or two) of a passage that best matches an answer sentence."""

    number: int | None  # the passage's number in the answer; None when it was not numbered
    passage: Passage
    start: int  # offsets into passage.text
    end: int
    similarity: float

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]

    @property
    def where(self) -> str:
        """How a reader finds it: "[3]" when the answer numbered it, else its label."""
        return f"[{self.number}]" if self.number is not None else self.passage.label

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.passage.id, "label": self.passage.label,
                "source": self.passage.source, "sentence": self.text, "start": self.start, "end": self.end,
                "similarity": round(self.similarity, 4)}


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one answer sentence, with the reason and the evidence."""

    sentence: AnswerSentence
    verdict: str  # SUPPORTED, UNSUPPORTED, WRONG_SOURCE, UNCITED or NO_CLAIM
    reason: str
    evidence: Evidence | None  # best match in what it cites (uncited: in any passage)
    supported_by: Evidence | None = None  # wrong source / uncited: the passage that states it
    invalid: tuple[int, ...] = ()  # markers naming no source that was given
    score: float | None = None  # calibrated support score against what it cites (1.0: quoted verbatim)
    unsupported_parts: tuple[str, ...] = ()  # the clauses of a long sentence that are not stated

    @property
    def mark(self) -> str:
        return VERDICT_MARKS[self.verdict]

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence.text, "cited": list(self.sentence.cited), "verdict": self.verdict,
                "reason": self.reason, "invalid_citations": list(self.invalid),
                "support_score": None if self.score is None else round(self.score, 4),
                "unsupported_parts": list(self.unsupported_parts),
                "evidence": self.evidence.to_json() if self.evidence else None,
                "supported_by": self.supported_by.to_json() if self.supported_by else None}


@dataclass(frozen=True)
class CitationReport:
    """Every sentence of an answer checked."""

    checks: tuple[SentenceCheck, ...]
    milliseconds: float = 0.0

    def count(self, verdict: str) -> int:
        return sum(1 for c in self.checks if c.verdict == verdict)

    @property
    def claims(self) -> int:
        """Sentences that needed a source (all but refusals and connectives)."""
        return sum(1 for c in self.checks if c.verdict != NO_CLAIM)

    @property
    def all_supported(self) -> bool:
        return self.count(SUPPORTED) == self.claims

    def summary(self) -> str:
        """One line: "4 of 5 sentences supported (1 uncited)"."""
        if not self.claims:
            return "no claims to check"
        problems = [f"{self.count(v)} {v}" for v in (UNSUPPORTED, WRONG_SOURCE, UNCITED) if self.count(v)]
        noun = "sentence" if self.claims == 1 else "sentences"
        return f"{self.count(SUPPORTED)} of {self.claims} {noun} supported" + (
            f" ({', '.join(problems)})" if problems else "")

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "supported": self.count(SUPPORTED), "claims": self.claims,
                "milliseconds": self.milliseconds, "sentences": [c.to_json() for c in self.checks]}


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
    mode: str  # "local", "remote" or "extractive"
    model: str | None
    sources: tuple[Source, ...]  # numbered as the answer cites them
    cited: tuple[int, ...]  # the numbers the text cites, first appearance first
    hits: tuple[Hit, ...]  # everything retrieval returned
    covered: bool  # False: the documents do not cover the question; no model was called
    search_query: str
    timings: Mapping[str, Any] = field(default_factory=dict)
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
            "retrieved": [h.to_json() for h in self.hits],
            "timings": dict(self.timings),
        }


@dataclass(frozen=True)
class FileProblem:
    """A file that could not be ingested, and why (one line, for a person)."""

    path: str
    reason: str

    def __str__(self) -> str:
        # A file name may hold a line break: written as \n, the problem stays one line.
        name = self.path.replace("\n", "\\n").replace("\r", "\\r")
        return f"{name}: {self.reason}"


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    problems: tuple[FileProblem, ...] = ()
    warnings: tuple[FileProblem, ...] = ()  # files read with a caveat (not failures)
    skipped_types: Mapping[str, int] = field(default_factory=dict)  # ".pdf" -> count
    passages_embedded: int = 0
    passages_resumed: int = 0  # stored by an interrupted ingest, kept rather than embedded again
    passages_total: int = 0
    documents_total: int = 0
    seconds: float = 0.0
    location: str = ""  # where the vectors are: the Chroma folder or server URL

    @property
    def failed(self) -> bool:
        return bool(self.problems)


# --------------------------------------------------------------------------- errors


class RagError(Exception):
    """Base of every error the library raises on purpose; the message is for a person."""


class ConfigError(RagError):
    """A setting, flag or config file is invalid."""


class DocumentError(RagError):
    """A file cannot be read into passages (missing, binary, not UTF-8, …)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EmbeddingModelError(RagError):
    """The embedding model cannot be found or loaded."""


class ModelMismatchError(RagError):
    """The index was built with another embedding model than the one requested."""


class IndexBusyError(RagError):
    """Another ingest holds the index's write lock."""


class IndexNotFoundError(RagError):
    """No index exists yet where one was expected."""


class IndexCorruptError(RagError):
    """The index's files are unreadable or disagree with each other."""


class StoreError(RagError):
    """The vector store (embedded Chroma or a Chroma server) failed."""


class IndexWriteError(RagError):
    """The environment stops the index from being written: a full disk, a read-only
    folder, no permission, an index path that is a file."""

    def __init__(self, index_dir: str, problem: str, advice: str):
        super().__init__(f"{index_dir}: {problem}; {advice}")
        self.index_dir = index_dir
        self.problem = problem
        self.advice = advice


class QueryError(RagError):
    """A question that cannot be searched (empty, whitespace only)."""


class EvalFileError(RagError):
    """An evaluation file is malformed."""

"""What documents become: passages, documents, retrieval hits, and what an ingest reports."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping, Sequence

from rag.types.errors import Remedy


class Caveat(str):
    """Something a person should know about a file that was read ("3 pages have no
    text layer"): the words, which compare as the plain string, and what they can
    do about it (worded by the front end, rag/cli/advice.py)."""

    remedies: tuple[Remedy, ...]

    def __new__(cls, text: str, *remedies: Remedy) -> "Caveat":
        caveat = super().__new__(cls, text)
        caveat.remedies = remedies
        return caveat

    def __reduce__(self):  # through a worker process's pipe, with its remedies
        return (Caveat, (str(self), *self.remedies))


@dataclass(frozen=True)
class BylineField:
    """One fact of a byline, with the line that states it (rag/ingest/byline.py finds them)."""

    value: str  # "Pippa Crerar", "Feb, 26 2025 22:30"
    quote: str  # the line as the document writes it
    passage_id: str  # the passage that holds the line


@dataclass(frozen=True)
class Byline:
    author: BylineField | None = None
    published: BylineField | None = None
    publisher: BylineField | None = None

    def __bool__(self) -> bool:
        return any(f is not None for f in (self.author, self.published, self.publisher))

    def describe(self) -> str:
        """One line for people: "by Pippa Crerar · published Feb, 26 2025 · The Guardian"."""
        parts = (f"by {self.author.value}" if self.author else "",
                 f"published {self.published.value}" if self.published else "",
                 self.publisher.value if self.publisher else "")
        return " · ".join(part for part in parts if part)

    def to_json(self) -> dict[str, Any]:
        return {key: {"value": f.value, "quote": f.quote, "passage": f.passage_id}
                for key, f in (("author", self.author), ("published", self.published),
                               ("publisher", self.publisher)) if f is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "Byline":
        data = data or {}
        fields = {key: BylineField(d["value"], d["quote"], d["passage"]) for key, d in data.items()
                  if key in ("author", "published", "publisher")}
        return cls(**fields)


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
    ocr_pages: int = 0  # pages whose text came from OCR
    pages: int = 0  # pages read (PDF); 0 for formats without pages


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
class FileProblem:
    """A file that could not be ingested, and why (one line, for a person)."""

    path: str
    reason: str
    remedies: tuple[Remedy, ...] = ()
    # Set when the file was not read again: unchanged since it failed, under the same
    # readers and settings, at this time (UTC, ISO 8601).
    tried_at: str = ""

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
    wrote: bool = True  # False: nothing had changed, and nothing of the index was written

    @property
    def failed(self) -> bool:
        return bool(self.problems)


class FileState(StrEnum):
    """Where a file the index knows stands; the values are what `rag status --files
    --json` writes."""

    INDEXED = "indexed"  # its passages are searchable and it is as it was read
    SKIPPED = "skipped"  # the last ingest that met it could not read it (`reason`)
    CHANGED = "changed"  # changed on disk since it was read (or skipped): the next ingest reads it
    GONE = "gone"  # no longer on disk: the next ingest of its folder removes it


@dataclass(frozen=True)
class FileStatus:
    """One file of `rag status --files`. Counts are None where an index made before
    they were recorded does not know them."""

    source: str
    state: FileState
    title: str = ""
    passages: int = 0  # searchable passages (a skipped file may keep an earlier reading's)
    pages: int | None = None
    ocr_pages: int | None = None
    reader: int | None = None  # the version of the readers that read it
    read_at: str = ""  # when it was read (or tried), UTC
    size: int | None = None
    reason: str = ""  # why it was skipped
    remedies: tuple[Remedy, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "state": str(self.state), "title": self.title, "passages": self.passages,
                "pages": self.pages, "ocr_pages": self.ocr_pages, "reader": self.reader, "read_at": self.read_at or None,
                "size": self.size, "reason": self.reason or None}


def state_counts(statuses: Sequence[FileStatus]) -> dict[str, int]:
    """{"indexed": n, "skipped": n, "changed": n, "gone": n}, every state present."""
    counts = Counter(s.state for s in statuses)
    return {str(state): counts.get(state, 0) for state in FileState}

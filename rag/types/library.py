"""What the library service (rag/library.py) tells its front ends about the index
and the model it holds: plain records, so that a front end shows them without
reaching below the service."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rag.types.corpus import Byline, FileStatus, Passage, state_counts
from rag.types.runtime import ModelRuntime


@dataclass(frozen=True)
class LoadedModel:
    """The answering model a library has loaded."""

    name: str
    mode: str  # a `Mode`: local or remote
    runtime: ModelRuntime | None  # None: a server's model


@dataclass(frozen=True)
class IndexOverview:
    """The index a library has open."""

    documents: int
    passages: int
    embed_model: str
    server: str = ""  # the Chroma server's URL; empty: the store is in the index folder
    notice: str = ""  # how it was opened, when a person should know (a read-only copy)


@dataclass(frozen=True)
class ShownDocument:
    """One ingested file, every passage in order (`rag show`)."""

    source: str
    title: str
    byline: Byline
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class LibraryStatus:
    """What `rag status` reports: the index, its files, and the model answers would use."""

    index_dir: str
    store: str
    collection: str
    embed_model: str
    embed_precision: str
    dimension: int
    documents: int
    passages: int
    generation: int
    files: tuple[FileStatus, ...]
    records_files: bool  # False: an index made before skipped files and sizes were recorded
    model: str  # the model answers would use, in words
    llama_cpp: dict[str, Any] | None  # what llama.cpp would run it with here (`ModelRuntime.to_json`)

    def to_json(self) -> dict[str, Any]:
        """What `rag status --json` prints."""
        return {"index_dir": self.index_dir, "store": self.store, "collection": self.collection,
                "embed_model": self.embed_model, "embed_precision": self.embed_precision,
                "dimension": self.dimension, "documents": self.documents, "passages": self.passages,
                "generation": self.generation, "files": state_counts(self.files), "model": self.model,
                "llama_cpp": self.llama_cpp}

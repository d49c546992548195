"""The library's error types. Each carries what went wrong as fields; its message is a default
wording, and the front ends (rag/cli, tui/) decide what a person reads."""
from __future__ import annotations


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
    """No index exists yet where one was expected (`index_dir`); `is_file` when the
    path names a file instead of a folder."""

    def __init__(self, index_dir: str, is_file: bool = False):
        self.index_dir = index_dir
        self.is_file = is_file
        super().__init__(
            f"{index_dir} is a file, not an index folder; point --index-dir (or RAG_INDEX_DIR) at a folder"
            if is_file else
            f"no index in {index_dir}; build one with `rag ingest PATH …` (e.g. `rag ingest seeds/`)")


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


class ScopeError(QueryError):
    """An `--only` pattern that picks no document in the index."""

    def __init__(self, pattern: str, some_titles: tuple[str, ...], documents: int):
        self.pattern = pattern
        self.some_titles = some_titles
        self.documents = documents
        listed = "; ".join(f"“{t}”" for t in some_titles)
        more = f" and {documents - len(some_titles)} more" if documents > len(some_titles) else ""
        super().__init__(f"'{pattern}' matches no document (a glob on the path, or a word of the path or title)"
                         + (f"; the {documents} documents include {listed}{more}" if documents else
                            "; the index holds no documents"))


class HistoryError(RagError):
    """The saved conversations cannot be read or written."""

    def __init__(self, path: str, problem: str, advice: str = ""):
        self.path = path
        self.problem = problem
        self.advice = advice
        super().__init__(f"{path}: {problem}" + (f"; {advice}" if advice else ""))

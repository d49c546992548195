"""The library's error types. Each carries what went wrong as fields; its message says
the problem in words, and what a person can do about it travels as `Remedy` values
that name settings, never flags: the front ends (rag/cli/advice.py, used by the
command line and the chat app) word them as the flags or config keys their user has."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Fix(StrEnum):
    """The kinds of thing a person can do about a problem."""

    RAISE = "raise"  # raise the limit `setting`
    LOWER = "lower"  # lower `setting` (now `value`)
    USE = "use"  # set `setting` to `value`
    LEAVE_OUT = "leave out"  # unset `setting`, so that the index's own applies
    TURN_ON = "turn on"  # a setting that is off (`ocr`, `history`, `allow_download`)
    CHOOSE_ANOTHER = "choose another"  # another `setting` (a collection name)
    REBUILD = "rebuild"  # rebuild the index, with `settings` as (setting, value) pairs
    BUILD = "build"  # no index yet: build one
    MOVE_INDEX = "move index"  # a writable index folder (`value`: the current one, when it must be copied)
    INSTALL_MODEL = "install model"  # put a GGUF model in `value` (the models folder)
    INGEST = "ingest"  # a file not in the index (`value`): ingest it, or see what is


@dataclass(frozen=True)
class Remedy:
    """One thing a person can do about an error, by setting name (a `Settings`
    field, which is also its key in rag.toml); `note` is plain words that finish it
    ("while online", "to the server's context size")."""

    fix: Fix
    setting: str = ""
    value: str = ""
    settings: tuple[tuple[str, str], ...] = ()
    note: str = ""


class RagError(Exception):
    """Base of every error the library raises on purpose; the message is the problem
    in words, for a person; `remedies` what they can do about it."""

    remedies: tuple[Remedy, ...] = ()

    def __init__(self, message: str = "", *remedies: Remedy):
        super().__init__(message)
        self.remedies = remedies


class ConfigError(RagError):
    """A setting, flag or config file is invalid."""


class DocumentError(RagError):
    """A file cannot be read into passages (missing, binary, not UTF-8, …)."""

    def __init__(self, path: str, reason: str, *remedies: Remedy):
        super().__init__(f"{path}: {reason}", *remedies)
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
        if is_file:
            super().__init__(f"{index_dir} is a file, not an index folder", Remedy(Fix.MOVE_INDEX, "index_dir"))
        else:
            super().__init__(f"no index in {index_dir}", Remedy(Fix.BUILD))


class IndexCorruptError(RagError):
    """The index's files are unreadable or disagree with each other."""


class StoreError(RagError):
    """The vector store (embedded Chroma or a Chroma server) failed."""


class IndexWriteError(RagError):
    """The environment stops the index from being written: a full disk, a read-only
    folder, no permission, an index path that is a file."""

    def __init__(self, index_dir: str, problem: str, advice: str = "", *remedies: Remedy):
        super().__init__(f"{index_dir}: {problem}" + (f"; {advice}" if advice else ""), *remedies)
        self.index_dir = index_dir
        self.problem = problem
        self.advice = advice


class QueryError(RagError):
    """A question that cannot be searched (empty, whitespace only)."""


class EvalFileError(RagError):
    """An evaluation file is malformed."""


class ScopeError(QueryError):
    """A scope pattern (`only`) that picks no document in the index."""

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

    def __init__(self, path: str, problem: str, advice: str = "", *remedies: Remedy):
        self.path = path
        self.problem = problem
        self.advice = advice
        super().__init__(f"{path}: {problem}" + (f"; {advice}" if advice else ""), *remedies)


class ModelStoppedError(RagError):
    """The model's process ended in the middle of a request (a crash in llama.cpp's
    native code, a kill): `reason` says how ("signal 11, SIGSEGV"), `detail` holds its
    last words on stderr. The next request loads the model again."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"the model stopped unexpectedly ({reason})")
        self.reason = reason
        self.detail = detail

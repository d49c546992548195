"""The index folder: a manifest that names one consistent generation of the index.

    .rag/
      manifest.json      the commit point: model, collection, BM25 folder, files → passage ids
      chroma/            the embedded Chroma store (absent with --chroma-url)
      bm25/gen-000007/   the BM25 index of generation 7, with its passage ids
      ingest.lock        held (flock) by the one ingest allowed at a time

Readers see exactly the passages the manifest lists. An ingest writes new
records and a new BM25 folder first, then replaces the manifest atomically, then
collects garbage, so a failure at any moment leaves the previous generation whole.
"""
from __future__ import annotations

import errno
import hashlib
import fcntl
import json
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from rag.types.corpus import Byline
from rag.config import Settings
from rag.index.bm25 import LexicalIndex
from rag.index.chroma import FullDiskStoreError, ReadOnlyStoreError, VectorStore, forget_client, open_client, open_read_only_copy, open_store
from rag.types.errors import (
    Fix, IndexBusyError, IndexCorruptError, IndexNotFoundError, IndexWriteError, ModelMismatchError, Remedy,
    StoreError,
)

MANIFEST = "manifest.json"
FORMAT = 1

FileStat = tuple[int, int]  # a file's size in bytes and modification time in ns


def content_hash(data: bytes) -> str:
    """A file's bytes as the manifest records them (sha256): what tells a changed file
    from one merely touched."""
    return hashlib.sha256(data).hexdigest()


def file_stat(path: str | Path) -> FileStat | None:
    """(size, modification time in ns) of a file now; None when it cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)


@dataclass(frozen=True)
class FileEntry:
    hash: str
    doc_id: str
    title: str
    passages: tuple[str, ...]
    byline: Byline = field(default_factory=Byline)
    # The version of the readers that read the file (rag.ingest.passages.READER_VERSION):
    # an older one is read again at the next ingest, though its bytes are unchanged.
    reader: int = 1
    ocr_pages: int = 0  # pages of it read by OCR
    # What the file was when it was read: size and modification time decide cheaply
    # whether it changed (its hash is compared only when they differ). None in an
    # index made before they were recorded.
    size: int | None = None
    mtime_ns: int | None = None
    pages: int = 0  # pages read (PDF)
    read_at: str = ""  # when it was read, UTC, ISO 8601

    def to_json(self) -> dict[str, Any]:
        return {"hash": self.hash, "doc_id": self.doc_id, "title": self.title, "passages": list(self.passages),
                "reader": self.reader, **({"byline": self.byline.to_json()} if self.byline else {}),
                **({"ocr_pages": self.ocr_pages} if self.ocr_pages else {}),
                **({"pages": self.pages} if self.pages else {}),
                **({"size": self.size, "mtime_ns": self.mtime_ns} if self.size is not None else {}),
                **({"read_at": self.read_at} if self.read_at else {})}

    @classmethod
    def from_json(cls, e: dict[str, Any]) -> "FileEntry":
        return cls(e["hash"], e["doc_id"], e["title"], tuple(e["passages"]), Byline.from_json(e.get("byline")),
                   int(e.get("reader", 1)), int(e.get("ocr_pages", 0)),
                   None if e.get("size") is None else int(e["size"]),
                   None if e.get("mtime_ns") is None else int(e["mtime_ns"]),
                   int(e.get("pages", 0)), str(e.get("read_at", "")))


@dataclass(frozen=True)
class SkippedEntry:
    """A file the last ingest that met it could not read, and why; the size and
    time of the file then, so a change since can be told."""

    reason: str
    remedies: tuple[Remedy, ...] = ()
    size: int | None = None
    mtime_ns: int | None = None
    at: str = ""  # when it was tried, UTC, ISO 8601
    # What the reading depended on (reader version, size limit, OCR, time limits): the
    # same file under the same conditions fails the same way, so it is not read again.
    reading: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "size": self.size, "mtime_ns": self.mtime_ns, "at": self.at,
                **({"remedies": [_remedy_json(r) for r in self.remedies]} if self.remedies else {}),
                **({"reading": self.reading} if self.reading else {})}

    @classmethod
    def from_json(cls, e: dict[str, Any]) -> "SkippedEntry":
        return cls(str(e["reason"]), tuple(_remedy_from(r) for r in e.get("remedies", ())),
                   e.get("size"), e.get("mtime_ns"), str(e.get("at", "")), str(e.get("reading", "")))


def _remedy_json(remedy: Remedy) -> dict[str, Any]:
    return {"fix": str(remedy.fix), "setting": remedy.setting, "value": remedy.value,
            "settings": [list(pair) for pair in remedy.settings], "note": remedy.note}


def _remedy_from(data: dict[str, Any]) -> Remedy:
    return Remedy(Fix(data["fix"]), data.get("setting", ""), data.get("value", ""),
                  tuple((str(a), str(b)) for a, b in data.get("settings", ())), data.get("note", ""))


@dataclass(frozen=True)
class Manifest:
    embed_model: str
    dimension: int
    collection: str  # the Chroma collection holding this index's vectors
    generation: int = 0
    lexical_dir: str = ""  # relative to the index folder
    files: dict[str, FileEntry] = field(default_factory=dict)
    chroma_url: str | None = None  # the Chroma server holding the vectors; None: embedded
    # "float32" (either backend computes the same vectors) or "int8" (ONNX Runtime's
    # quantized graph, whose vectors differ a little): queries must match it.
    embed_precision: str = "float32"
    skipped: dict[str, SkippedEntry] = field(default_factory=dict)  # files met but not read
    # False for an index made before files' sizes, pages and skipped files were
    # recorded: its status shows what it has, and a re-ingest fills the rest.
    records_files: bool = True

    @property
    def live_ids(self) -> frozenset[str]:
        return frozenset(pid for entry in self.files.values() for pid in entry.passages)

    @property
    def passage_count(self) -> int:
        return sum(len(entry.passages) for entry in self.files.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "embed_model": self.embed_model,
            "embed_precision": self.embed_precision,
            "dimension": self.dimension,
            "collection": self.collection,
            "generation": self.generation,
            "lexical_dir": self.lexical_dir,
            "chroma_url": self.chroma_url,
            "files": {src: e.to_json() for src, e in sorted(self.files.items())},
            "skipped": {src: e.to_json() for src, e in sorted(self.skipped.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Manifest":
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r}")
        return cls(
            embed_model=data["embed_model"],
            dimension=int(data["dimension"]),
            collection=data["collection"],
            generation=int(data["generation"]),
            lexical_dir=data["lexical_dir"],
            files={src: FileEntry.from_json(e) for src, e in data["files"].items()},
            chroma_url=data.get("chroma_url"),
            embed_precision=data.get("embed_precision", "float32"),  # manifests from before int8
            skipped={src: SkippedEntry.from_json(e) for src, e in data.get("skipped", {}).items()},
            records_files="skipped" in data,  # manifests from before per-file status
        )


def new_collection_name(base: str) -> str:
    # A fresh name per build, so a rebuild never touches the collection that
    # readers use until the new manifest points away from it.
    return f"{base}-{secrets.token_hex(4)}"


def read_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: unreadable ({exc})", Remedy(Fix.REBUILD)) from None
    try:
        return Manifest.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: malformed ({exc})", Remedy(Fix.REBUILD)) from None


def manifest_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Identifies the manifest file's version: a commit replaces the file (a new inode)."""
    try:
        info = (index_dir / MANIFEST).stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: write aside, flush to disk, rename."""
    path = index_dir / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest.to_json(), handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class IngestLock:
    """An exclusive, non-blocking lock on the index folder for the length of an ingest.

    flock is released by the kernel when the process dies, so a crashed ingest
    never leaves a stale lock behind."""

    def __init__(self, index_dir: Path, holder: str = ""):
        self.path = index_dir / "ingest.lock"
        self.holder = holder  # who holds it, for the refusal another process reads
        self._handle: IO[str] | None = None

    def __enter__(self) -> "IngestLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise IndexBusyError(
                f"another ingest is running on {self.path.parent} ({holder}); wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{self.holder}, pid {os.getpid()}" if self.holder else f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc_info) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def check_model_matches(manifest: Manifest, settings: Settings, index_dir: Path) -> None:
    """An index answers only queries embedded by the model that built it, at the
    precision it was built with. Unset settings take the index's own."""
    if settings.embed_model is not None:
        from rag.embedding.base import resolve_model

        name = resolve_model(settings.embed_model).name
        if name != manifest.embed_model:
            raise ModelMismatchError(
                f"the index in {index_dir} was built with {manifest.embed_model} "
                f"({manifest.dimension}-d vectors), not {name}",
                Remedy(Fix.LEAVE_OUT, "embed_model", note="to use it"),
                Remedy(Fix.REBUILD, settings=(("embed_model", str(settings.embed_model)),)))
    check_precision_matches(manifest, settings, index_dir)


def check_precision_matches(manifest: Manifest, settings: Settings, index_dir: Path) -> None:
    held = manifest.embed_precision
    wanted = settings.embed_precision or held
    if settings.embed_backend == "torch" and settings.embed_precision is None:
        wanted = "float32"  # all that sentence-transformers computes
    if wanted != held:
        how = ((("embed_backend", settings.embed_backend), ("embed_precision", wanted))
               if settings.embed_backend == "torch" else (("embed_precision", wanted),))
        keep = (Remedy(Fix.USE, "embed_backend", "onnx", note="(the default) to use it")
                if settings.embed_backend == "torch" else Remedy(Fix.LEAVE_OUT, "embed_precision", note="to use it"))
        raise ModelMismatchError(f"the index in {index_dir} holds {held} vectors, not {wanted}",
                                 keep, Remedy(Fix.REBUILD, settings=how))


@dataclass
class Index:
    """One generation of the index, opened for reading."""

    settings: Settings
    manifest: Manifest
    store: VectorStore
    lexical: LexicalIndex
    notice: str = ""  # what a person should know about how it was opened (a read-only copy)
    # The manifest file as it was when read (inode, mtime, size): `is_current` compares.
    stamp: tuple[int, int, int] | None = None

    @classmethod
    def open(cls, settings: Settings) -> "Index":
        if settings.index_dir.exists() and not settings.index_dir.is_dir():
            raise IndexNotFoundError(str(settings.index_dir), is_file=True)
        stamp = manifest_stamp(settings.index_dir)
        manifest = read_manifest(settings.index_dir)
        if manifest is None:
            raise IndexNotFoundError(str(settings.index_dir))
        check_model_matches(manifest, settings, settings.index_dir)
        # The index remembers where its vectors are; a flag may point elsewhere (a moved server).
        settings = settings.replace(chroma_url=settings.chroma_url or manifest.chroma_url)
        notice = ""
        try:
            client, location = open_client(settings.index_dir, settings.chroma_url)
        except FullDiskStoreError:
            client, location, notice = open_read_only_copy(settings.index_dir, "is on a full disk")
        except ReadOnlyStoreError:
            client, location, notice = open_read_only_copy(settings.index_dir)
        try:
            store = open_store(client, location, manifest.collection, manifest.embed_model,
                               manifest.dimension, create=False, precision=manifest.embed_precision)
        except StoreError as exc:
            built_at = manifest.chroma_url or f"the embedded store in {settings.index_dir / 'chroma'}"
            raise StoreError(f"{exc} (the index in {settings.index_dir} keeps its vectors in {built_at})",
                             *exc.remedies) from None
        lexical = LexicalIndex.load(settings.index_dir / manifest.lexical_dir)
        if len(lexical.ids) != manifest.passage_count:
            raise IndexCorruptError(
                f"the BM25 index in {settings.index_dir / manifest.lexical_dir} disagrees with the manifest",
                Remedy(Fix.REBUILD))
        return cls(settings, manifest, store, lexical, notice, stamp)

    def is_current(self) -> bool:
        """False once another ingest (say, `rag ingest` in a second terminal) has
        committed a newer generation: one stat, no read."""
        return manifest_stamp(self.settings.index_dir) == self.stamp

    @classmethod
    def reopen(cls, settings: Settings) -> "Index":
        """The index's newest generation, in a process that had opened an older one.
        Chroma keeps one client per store folder per process, with the view of the
        store it loaded first: a search through it after another process wrote
        fails with "Error finding id". That client is dropped first."""
        manifest = read_manifest(settings.index_dir)
        if not settings.chroma_url and not (manifest is not None and manifest.chroma_url):
            forget_client(settings.index_dir)  # a server's client has no such stale view
        return cls.open(settings)

    @cached_property
    def live_ids(self) -> frozenset[str]:
        return frozenset(self.lexical.ids)


def index_write_error(index_dir: Path, exc: OSError) -> IndexWriteError | None:
    """What an OS error met while writing the index means for a person, or None when
    it is not one the environment causes (then it is a bug, reported as such)."""
    where = str(index_dir)
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return IndexWriteError(where, "the disk is full", "free some space and run the ingest again; the index "
                               "is as it was before this ingest")
    if exc.errno == errno.EROFS:
        return IndexWriteError(where, "the index is on a read-only file system", "",
                               Remedy(Fix.MOVE_INDEX, "index_dir"))
    if exc.errno in (errno.EACCES, errno.EPERM):
        return IndexWriteError(where, f"permission denied ({exc.filename or where})",
                               "ingest into a folder you may write, or fix its permissions")
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and index_dir.exists() and not index_dir.is_dir():
        return IndexWriteError(where, "is a file, not an index folder", "", Remedy(Fix.MOVE_INDEX, "index_dir"))
    return None

"""Chroma: the embedded `PersistentClient` by default, `HttpClient` for a Chroma server.

We always supply our own vectors: collections are created and opened with
`embedding_function=None`, so Chroma's default model can never run, and the
store is never asked to embed text. Telemetry is off. chromadb is imported
lazily, inside `open_store`.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import urlparse

import numpy as np

from rag.types.corpus import Passage
from rag.types.errors import Fix, ModelMismatchError, Remedy, StoreError


class ReadOnlyStoreError(StoreError):
    """The embedded store's folder cannot be written, which Chroma needs even to read it."""


class FullDiskStoreError(ReadOnlyStoreError):
    """The disk holding the embedded store is full: Chroma cannot write, so cannot open it."""


def _says_full(message: str) -> bool:
    return "disk is full" in message or "No space left" in message


class VectorStore:
    """One Chroma collection of passages: ids, vectors, texts and metadata."""

    def __init__(self, client, collection, location: str):
        self._client = client
        self._collection = collection
        self.location = location
        try:
            self._max_batch = int(client.get_max_batch_size())
        except Exception:  # older servers do not report it
            self._max_batch = 5000

    @property
    def name(self) -> str:
        return self._collection.name

    @property
    def metadata(self) -> dict:
        return dict(self._collection.metadata or {})

    def count(self) -> int:
        return _call(self._collection.count, self.location)

    def check_model(self, model: str, dimension: int, precision: str = "float32") -> None:
        meta = self.metadata
        held = meta.get("embed_precision", "float32")  # collections from before int8 hold float32
        if (meta.get("embed_model") not in (None, model) or meta.get("dimension") not in (None, dimension)
                or held != precision):
            raise ModelMismatchError(
                f"collection '{self.name}' at {self.location} holds {held} vectors of "
                f"{meta.get('embed_model')} ({meta.get('dimension')}-d), not {precision} ones of {model} "
                f"({dimension}-d)", Remedy(Fix.REBUILD), Remedy(Fix.CHOOSE_ANOTHER, "collection"))

    def upsert(self, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        for lo in range(0, len(passages), self._max_batch):
            batch = passages[lo:lo + self._max_batch]
            _call(lambda: self._collection.upsert(
                ids=[p.id for p in batch],
                embeddings=vectors[lo:lo + len(batch)],
                documents=[p.text for p in batch],
                metadatas=[p.to_metadata() for p in batch],
            ), self.location)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for lo in range(0, len(ids), self._max_batch):
            _call(lambda: self._collection.delete(ids=ids[lo:lo + self._max_batch]), self.location)

    def stored(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` the collection holds (ids only: nothing else is read)."""
        if not ids:
            return set()
        return set(_call(lambda: self._collection.get(ids=list(ids), include=[]), self.location)["ids"])

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        page = 10_000
        offset = 0
        while True:
            got = _call(lambda: self._collection.get(include=[], limit=page, offset=offset), self.location)
            ids.update(got["ids"])
            if len(got["ids"]) < page:
                return ids
            offset += page

    def query(self, vector: np.ndarray, n: int, live: frozenset[str] | None = None,
              where: dict | None = None) -> list[tuple[str, float]]:
        """Up to `n` (id, cosine similarity) pairs, best first, among the `live` ids
        (and the records matching the metadata filter `where`, when one is given).

        Records outside `live` (left by an interrupted ingest, or not yet
        committed by a running one) are skipped; we ask for more when they crowd
        out live ones.
        """
        # No count() round trip per search: the live set bounds what can be found,
        # and a reply shorter than asked means the collection is exhausted.
        want = min(n, len(live)) if live is not None else n
        ask = max(1, want)
        while True:
            got = _call(lambda: self._collection.query(
                query_embeddings=[vector], n_results=ask, include=["distances"], where=where), self.location)
            returned = got["ids"][0]
            pairs = [(pid, 1.0 - float(d)) for pid, d in zip(returned, got["distances"][0])
                     if live is None or pid in live]
            if len(pairs) >= want or len(returned) < ask:
                return pairs[:n]
            ask = ask * 2 + 10

    def get(self, ids: Sequence[str]) -> dict[str, Passage]:
        if not ids:
            return {}
        got = _call(lambda: self._collection.get(ids=list(ids), include=["documents", "metadatas"]), self.location)
        return {pid: Passage.from_metadata(pid, text, meta)
                for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = _call(lambda: self._collection.get(ids=list(ids), include=["embeddings"]), self.location)
        return {pid: np.asarray(vec, dtype=np.float32) for pid, vec in zip(got["ids"], got["embeddings"])}

    def drop_collection(self, name: str) -> None:
        try:
            self._client.delete_collection(name)
        except Exception:
            pass  # already gone: dropping is only garbage collection


def _call(fn, location: str):
    try:
        return fn()
    except StoreError:
        raise
    except Exception as exc:
        message = _one_line(exc)
        # SQLite under Chroma says so in words when the disk fills up mid-write.
        if _says_full(message):
            raise StoreError(f"vector store at {location}: the disk is full; free some space and run the "
                             "ingest again (the index is as it was before this ingest)") from exc
        if _says_read_only(message):
            raise StoreError(f"vector store at {location} is read-only", Remedy(Fix.MOVE_INDEX, "index_dir")) from exc
        raise StoreError(f"vector store at {location} failed: {message}") from exc


def _says_read_only(message: str) -> bool:
    """Does an error from Chroma (or the SQLite under it) say its folder cannot be written?"""
    return "readonly database" in message or "Read-only file system" in message


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _chroma_settings():
    # Telemetry is off for the whole process too (rag/environment.py), before chromadb loads.
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def open_client(index_dir: Path, chroma_url: str | None):
    """(client, location text) for the embedded store in `index_dir`, or a server."""
    import chromadb

    if chroma_url:
        parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not parsed.hostname:
            raise StoreError(f"the Chroma server address '{chroma_url}' is not a URL such as http://127.0.0.1:8000")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https",
                                         settings=_chroma_settings())
            client.heartbeat()
        except Exception as exc:
            raise StoreError(f"cannot reach the Chroma server at {chroma_url}: {_one_line(exc)}") from None
        return client, chroma_url
    path = index_dir / "chroma"
    try:
        # Absolute: chromadb keeps one client per path string in a process, so a relative
        # ".rag/chroma" opened from two working folders would share the first one's store.
        client = chromadb.PersistentClient(path=str(path.resolve()), settings=_chroma_settings())
    except Exception as exc:
        message = _one_line(exc)
        if _says_full(message):
            raise FullDiskStoreError(f"the disk holding the index in {index_dir} is full, and its vector store "
                                     "(Chroma) must write to open it") from None
        if _says_read_only(message) or "Permission denied" in message:
            # Chroma writes to its store even to read it; Index.open then searches a copy.
            raise ReadOnlyStoreError(f"the index in {index_dir} is read-only, and its vector store (Chroma) must "
                                     "write to open it", Remedy(Fix.MOVE_INDEX, "index_dir", str(index_dir))) from None
        raise StoreError(f"cannot open the Chroma store in {path}: {message}") from None
    return client, str(path)


def forget_client(index_dir: Path) -> None:
    """Drop this process's client for the embedded store in `index_dir`, so the next
    `open_client` loads the store as it is now. chromadb shares one client per path
    in a process and offers no public way to refresh it: this reaches into its
    shared-client registry (chromadb 1.x, pinned in pyproject.toml)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:
        return
    identifier = str((index_dir / "chroma").resolve())
    system = SharedSystemClient._identifier_to_system.pop(identifier, None)
    SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    if system is not None:
        try:
            system.stop()
        except Exception:
            pass  # its files are closed or gone already: nothing to release


# Where a copy of the store may go when its own folder cannot be written: the
# temporary folder, else memory (a RAM-backed folder), for when the temporary folder
# is on the same full disk as the index, as it usually is on a laptop.
RAM_FOLDERS = (Path("/dev/shm"),)


def _copy_places(size: int) -> list[Path]:
    """Folders with room for a copy of `size` bytes (and some to spare), best first."""
    places = []
    # TMPDIR as the user set it: Python's own choice skips a folder it cannot write to
    # (a full one) for /tmp, which is on that same full disk more often than not.
    for folder in (Path(os.environ.get("TMPDIR") or tempfile.gettempdir()), *RAM_FOLDERS):
        try:
            if folder.is_dir() and shutil.disk_usage(folder).free > size * 1.2 + 4 * 2**20:
                places.append(folder)
        except OSError:
            continue
    return places


def open_read_only_copy(index_dir: Path, why: str = "is read-only") -> tuple[object, str, str]:
    """(client, location, notice) for an embedded store whose folder cannot be written
    (read-only, or on a full disk; `why` says which).

    Chroma writes to its SQLite file even to read it, and has no read-only mode
    (chroma-core/chroma#1438); past 1,000 records its vectors live only in its own
    HNSW files. So such an index is searched from a copy of its `chroma/` folder in
    the temporary folder, or in memory when that has no room, removed when the
    process exits: the one write outside the index folder, made only when the
    index folder cannot be written.
    """
    import chromadb

    source = index_dir / "chroma"
    started = time.perf_counter()
    size = sum(f.stat().st_size for f in source.rglob("*") if f.is_file())
    problems = []
    for place in _copy_places(size) or [Path(tempfile.gettempdir())]:
        try:
            copy = Path(tempfile.mkdtemp(prefix="rag-read-only-", dir=place))
        except OSError as exc:
            problems.append(f"{place}: {_one_line(exc)}")
            continue
        atexit.register(shutil.rmtree, copy, ignore_errors=True)
        try:
            shutil.copytree(source, copy / "chroma", copy_function=shutil.copyfile)
            client = chromadb.PersistentClient(path=str(copy / "chroma"), settings=_chroma_settings())
        except Exception as exc:
            shutil.rmtree(copy, ignore_errors=True)
            problems.append(f"{place}: {_one_line(exc)}")
            continue
        where = "memory" if place in RAM_FOLDERS else "the temporary folder"
        notice = (f"the index in {index_dir} {why}, so its vector store was copied to {where} to be searched "
                  f"({size / 2**20:.1f} MB in {time.perf_counter() - started:.1f} s; removed on exit)")
        return client, str(source), notice
    raise ReadOnlyStoreError(f"the index in {index_dir} {why}, and copying its vector store for searching "
                             f"failed ({'; '.join(problems)})", Remedy(Fix.MOVE_INDEX, "index_dir", str(index_dir)))


def open_store(client, location: str, name: str, model: str, dimension: int, create: bool,
               precision: str = "float32") -> VectorStore:
    """Open (or create) collection `name`, never with an embedding function."""
    try:
        if create:
            collection = client.get_or_create_collection(
                name, embedding_function=None,
                metadata={"embed_model": model, "dimension": dimension, "embed_precision": precision},
                configuration={"hnsw": {"space": "cosine"}},
            )
        else:
            collection = client.get_collection(name, embedding_function=None)
    except Exception as exc:
        raise StoreError(f"cannot open collection '{name}' at {location}: {_one_line(exc)}") from None
    store = VectorStore(client, collection, location)
    store.check_model(model, dimension, precision)
    return store

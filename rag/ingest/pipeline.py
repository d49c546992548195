"""Bring the index in step with a set of files, as one all-or-nothing update.

The order of the steps is what keeps the previous index usable whatever happens:
1. read and split the files, embed the new passages (no writes yet);
2. upsert the new records into Chroma (invisible: no manifest lists them);
3. write a new BM25 folder for the new set of live passages;
4. replace the manifest atomically: the commit point;
5. collect garbage: records and BM25 folders that no manifest lists.
An ingest interrupted before step 4 leaves orphans that readers ignore and the
next ingest removes; one interrupted in step 5 has already committed.
"""
from __future__ import annotations

import os
import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from rag.config import Settings
from rag.ingest.passages import (
    READER_VERSION, TokenCounter, build_document, discover, over_size_limit, read_bytes,
)
from rag.ingest.readers import ReadOptions, format_for, size_limit_mb
from rag.ingest.readers import read as read_format
from rag.ingest.pool import ReadOutcome, default_workers, read_in_workers
from rag.embedding.base import Embedder, default_precision, resolve_model
from rag.index.manifest import (
    FileEntry, FileStat, IngestLock, Manifest, SkippedEntry, check_model_matches, index_write_error,
    content_hash, file_stat, new_collection_name, read_manifest, write_manifest,
)
from rag.index.bm25 import LexicalIndex
from rag.index.chroma import open_client, open_store
from rag.types.corpus import Caveat, Document, FileProblem, IngestReport, Passage
from rag.types.errors import DocumentError

# (stage, done, total): stages are "reading", "embedding", "indexing".
ProgressCallback = Callable[[str, int, int], None]
EmbedderFactory = Callable[[str, str], Embedder]  # (model name, precision) -> loaded embedder


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class Plan:
    """What an ingest will do, worked out before anything is read in full."""

    to_read: tuple[str, ...]  # new or changed files
    hashes: dict[str, str]  # their content hashes ("" for a new file: its reader hashes what it reads)
    known: frozenset[str]  # sources the previous index holds
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    problems: tuple[FileProblem, ...]
    skipped_types: dict[str, int]
    # Every file met, as (size, modification time in ns) when planned; and the
    # unchanged ones whose size or time moved though their bytes did not.
    stats: dict[str, FileStat] = field(default_factory=dict)
    refreshed: dict[str, FileStat] = field(default_factory=dict)
    walked: tuple[Path, ...] = ()  # the folders walked: a file under one and not met is gone


@dataclass(frozen=True)
class Changes:
    """What an ingest did: the files read (parsed) and what became of the others."""

    documents: tuple[Document, ...]  # new or changed files, parsed
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    problems: tuple[FileProblem, ...]
    skipped_types: dict[str, int]
    warnings: tuple[FileProblem, ...] = ()  # files read with a caveat


# A file modified this recently may change again within its clock's tick, unseen
# by size and time: its bytes are hashed (git calls this the "racy" case).
RACY_S = 2.0


def reading_conditions(settings: Settings) -> str:
    """What decides whether a file can be read, besides its bytes: the readers' version
    and the settings that limit them. A file skipped under the same conditions and
    unchanged since would fail again the same way."""
    return (f"reader {READER_VERSION}; max_file_mb {settings.max_file_mb:g}; ocr {'on' if settings.ocr else 'off'}; "
            f"read_timeout_s {settings.read_timeout_s:g}; ocr_page_timeout_s {settings.ocr_page_timeout_s:g}")


def plan(paths: Sequence[Path], manifest: Manifest | None, max_file_mb: float = Settings.max_file_mb,
         retry_skipped: bool = True, reading: str = "") -> Plan:
    """Compare the files under `paths` with the manifest: by size and modification
    time first, by content hash when they differ. Files that fail to read keep
    their previous passages; files gone from a walked folder are removed. A file
    skipped before and unchanged since (by size and time) is skipped again for the
    same reason without being read when it was skipped under the same `reading`
    conditions (reading_conditions), or whatever they were without `retry_skipped`
    (`rag watch`'s updates)."""
    files, problems, other_types = discover(paths)
    problems = list(problems)
    known = manifest.files if manifest else {}
    skipped_before = {source: entry for source, entry in (manifest.skipped if manifest else {}).items()
                      if not retry_skipped or (reading and entry.reading == reading)}
    to_read, hashes, unchanged = [], {}, []
    stats: dict[str, FileStat] = {}
    refreshed: dict[str, FileStat] = {}
    now_ns = time.time_ns()
    for path in files:
        source = str(path)
        entry = known.get(source)
        # A file read by older readers is read again (its unchanged passages keep
        # their vectors: ids are content hashes), so an upgrade's new reading
        # (bylines, for one) reaches indexes built before it.
        current = entry is not None and entry.reader >= READER_VERSION
        stat = file_stat(path)  # None: read_bytes says why
        if (current and entry is not None and stat is not None and (entry.size, entry.mtime_ns) == stat
                and now_ns - stat[1] > RACY_S * 1e9):
            unchanged.append(source)
            stats[source] = stat
            continue
        before = skipped_before.get(source)
        if before is not None and stat is not None and (before.size, before.mtime_ns) == stat:
            problems.append(FileProblem(source, before.reason, before.remedies, tried_at=before.at))
            stats[source] = stat
            continue
        if entry is None and stat is not None:
            # A new file: nothing to compare its hash with, so its bytes are read once,
            # by its reader, which hashes them (a library's first ingest reads each file once).
            stats[source] = stat
            too_big = over_size_limit(path, stat[0], size_limit_mb(str(path), max_file_mb))
            if too_big is not None:
                problems.append(FileProblem(too_big.path, too_big.reason, too_big.remedies))
            else:
                to_read.append(source)
                hashes[source] = ""
            continue
        try:
            file_hash = content_hash(read_bytes(path, size_limit_mb(str(path), max_file_mb)))
        except DocumentError as exc:
            problems.append(FileProblem(exc.path, exc.reason, exc.remedies))
            if stat is not None:
                stats[source] = stat
            continue
        if stat is not None:
            stats[source] = stat
        if current and entry is not None and entry.hash == file_hash:
            unchanged.append(source)
            if stat is not None and (entry.size, entry.mtime_ns) != stat:
                refreshed[source] = stat
        else:
            to_read.append(source)
            hashes[source] = file_hash
    seen = {str(f) for f in files}
    # Files are known by the path they were found by; an index built before that
    # knew them by their resolved path, so both forms of a walked folder count.
    roots = tuple(root for p in paths if p.is_dir() for root in {Path(os.path.abspath(p)), p.resolve()})
    removed = [
        source for source in known
        if source not in seen and any(Path(source).is_relative_to(root) for root in roots)
    ]
    return Plan(tuple(to_read), hashes, frozenset(known), tuple(sorted(removed)), tuple(unchanged),
                tuple(problems), dict(sorted(other_types.items())), stats, refreshed, roots)


def skipped_after(previous: Manifest | None, the_plan: Plan, problems: Sequence[FileProblem],
                  reading: str = "") -> dict[str, SkippedEntry]:
    """The manifest's skipped files after an ingest: those this ingest met are
    judged again (read now, or skipped for this reason now), those gone from a
    walked folder are forgotten, the rest kept as they were."""
    skipped = {source: entry for source, entry in (previous.skipped if previous else {}).items()
               if source not in the_plan.stats
               and not any(Path(source).is_relative_to(root) for root in the_plan.walked)}
    at = utc_now()
    for problem in problems:
        if problem.path in the_plan.stats:
            size, mtime_ns = the_plan.stats[problem.path]
            before = previous.skipped.get(problem.path) if previous else None
            # Not read again (rag watch, or the same conditions): the conditions it failed under stand.
            tried = before.reading if problem.tried_at and before is not None else reading
            entry = SkippedEntry(problem.reason, problem.remedies, size, mtime_ns, at, tried)
            # Skipped again, unchanged, for the same reason: the entry (its time) stands,
            # so an ingest that changes nothing writes no manifest.
            skipped[problem.path] = before if before is not None and replace(before, at=at) == entry else entry
    return skipped


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_documents(
    plan: Plan,
    count_tokens: Callable[[], TokenCounter],
    settings: Settings,
    problems: list[FileProblem],
    progress: ProgressCallback = _no_progress,
) -> Iterator[Document]:
    """The plan's files as Documents, as they are read: plain text in this process,
    other formats in worker processes with a time limit each (`rag/ingest/pool.py`).
    Files that cannot be read are appended to `problems` and not yielded."""
    isolated_sources = {s for s in plan.to_read if (found := format_for(s)) is not None and found.isolated}
    in_process = [s for s in plan.to_read if s not in isolated_sources]
    isolated = [s for s in plan.to_read if s in isolated_sources]
    total, done = len(plan.to_read), 0
    options = ReadOptions(ocr=settings.ocr, ocr_page_timeout_s=settings.ocr_page_timeout_s)
    pages: dict[str, tuple[int, int]] = {}

    def on_page(path: str, read: int, of: int) -> None:
        pages[path] = (read, of)
        progress("pages", sum(r for r, _ in pages.values()), sum(o for _, o in pages.values()))

    def outcomes() -> Iterator[ReadOutcome]:
        for source in in_process:
            try:
                data = read_bytes(Path(source), max_mb=float("inf"))  # its size was checked by the plan
                yield ReadOutcome(source, read_format(data, source, options=options), "", content_hash(data))
            except DocumentError as exc:
                yield ReadOutcome(source, None, exc.reason, remedies=exc.remedies)
        if isolated:
            yield from read_in_workers(isolated, settings.read_workers or default_workers(),
                                       settings.read_timeout_s, on_page, options)

    for outcome in outcomes():
        source = outcome.path
        done += 1
        progress("reading", done, total)
        if outcome.result is None:
            problems.append(FileProblem(source, outcome.problem, outcome.remedies))
            continue
        try:
            # The hash of what was read, not of what was planned: a file written to
            # meanwhile is recorded as read, so the next ingest sees it changed again.
            yield build_document(outcome.result, source, count_tokens(), settings.max_passage_tokens,
                                 outcome.content_hash or plan.hashes[source])
        except DocumentError as exc:
            problems.append(FileProblem(exc.path, exc.reason, exc.remedies))


def plan_changes(
    paths: Sequence[Path],
    manifest: Manifest | None,
    count_tokens: Callable[[], TokenCounter],
    max_tokens: int,
    progress: ProgressCallback = _no_progress,
    settings: Settings | None = None,
) -> Changes:
    """Plan and read in one go (no embedding): what `rag ingest` would do."""
    settings = (settings or Settings()).replace(max_passage_tokens=max_tokens)
    the_plan = plan(paths, manifest, settings.max_file_mb)
    problems = list(the_plan.problems)
    documents = tuple(read_documents(the_plan, count_tokens, settings, problems, progress))
    return _changes(the_plan, documents, problems)


def _changes(the_plan: Plan, documents: Sequence[Document], problems: Sequence[FileProblem]) -> Changes:
    read = {d.source for d in documents}
    order = {source: i for i, source in enumerate(the_plan.to_read)}
    documents = tuple(sorted(documents, key=lambda d: order[d.source]))
    added = tuple(s for s in the_plan.to_read if s in read and s not in the_plan.known)
    updated = tuple(s for s in the_plan.to_read if s in read and s in the_plan.known)
    return Changes(documents, added, updated, the_plan.removed, the_plan.unchanged, tuple(problems),
                   the_plan.skipped_types,
                   tuple(FileProblem(d.source, w, w.remedies if isinstance(w, Caveat) else ()) for d in documents for w in d.warnings))


def ingest_paths(
    paths: Sequence[Path],
    settings: Settings,
    embedder_factory: EmbedderFactory,
    progress: ProgressCallback = _no_progress,
    rebuild: bool = False,
    lock_held: bool = False,
    retry_skipped: bool = True,
) -> IngestReport:
    """Ingest files and folders into the index of `settings`. Raises IndexBusyError
    when another ingest holds the lock, ModelMismatchError when the index was
    built with another embedding model (unless `rebuild`), IndexWriteError when
    the environment stops the index from being written (disk full, read-only).
    `lock_held`: the caller holds the index's `IngestLock` already (`rag watch`
    holds it for as long as it follows the folders). `retry_skipped`: see `plan`."""
    try:
        return _ingest_paths(paths, settings, embedder_factory, progress, rebuild, lock_held, retry_skipped)
    except OSError as exc:
        problem = index_write_error(settings.index_dir, exc)
        if problem is None:
            raise
        raise problem from None


def _ingest_paths(paths: Sequence[Path], settings: Settings, embedder_factory: EmbedderFactory,
                  progress: ProgressCallback, rebuild: bool, lock_held: bool = False,
                  retry_skipped: bool = True) -> IngestReport:
    started = time.perf_counter()
    index_dir = settings.index_dir
    with nullcontext() if lock_held else IngestLock(index_dir):
        manifest = read_manifest(index_dir)
        previous = None if rebuild else manifest
        if previous is not None:
            check_model_matches(previous, settings, index_dir)  # as a search checks it
        if previous is not None and settings.chroma_url is None:
            settings = settings.replace(chroma_url=previous.chroma_url)  # where its vectors are
        # An existing index keeps its own model and precision; a new one takes the configured ones.
        model_name = previous.embed_model if previous else resolve_model(settings.embed_model).name
        precision = (previous.embed_precision if previous
                     else settings.embed_precision or default_precision(settings.embed_backend))

        embedder: Embedder | None = None

        def get_embedder() -> Embedder:
            nonlocal embedder
            if embedder is None:  # loaded only when some file has changed
                embedder = embedder_factory(model_name, precision)
            return embedder

        reading = reading_conditions(settings)
        the_plan = plan(paths, previous, settings.max_file_mb, retry_skipped, reading)
        if not the_plan.to_read and (previous is None or not the_plan.removed):
            noted = previous
            if previous is not None:
                noted = _note_files(index_dir, previous, the_plan, skipped_after(previous, the_plan,
                                                                                 the_plan.problems, reading))
            return replace(_report(_changes(the_plan, (), the_plan.problems), noted, 0, started, index_dir),
                           wrote=noted is not previous)

        problems = list(the_plan.problems)
        documents: list[Document] = []

        def read_and_keep() -> Iterator[Document]:
            for document in read_documents(the_plan, lambda: get_embedder().count_tokens, settings,
                                           problems, progress):
                documents.append(document)
                yield document

        old_collection = manifest.collection if (manifest and rebuild) else None
        new_manifest, embedded, resumed = apply_documents(
            settings, previous, read_and_keep(), the_plan.removed, get_embedder(), progress, in_use=old_collection,
            the_plan=the_plan, skipped=lambda: skipped_after(previous, the_plan, problems, reading))
        collect_garbage(settings, new_manifest, old_collection)
        return _report(_changes(the_plan, documents, problems), new_manifest, embedded, started, index_dir,
                       resumed)


def apply_documents(
    settings: Settings,
    previous: Manifest | None,
    documents: Iterable[Document],
    removed: Iterable[str],
    embedder: Embedder,
    progress: ProgressCallback = _no_progress,
    in_use: str | None = None,
    the_plan: Plan | None = None,
    skipped: Callable[[], dict[str, SkippedEntry]] = dict,
) -> tuple[Manifest, int, int]:
    """Steps 2–4 of an ingest: store new records, write BM25, commit the manifest.
    `documents` may be a stream: passages are embedded as they arrive, so reading
    (in worker processes) overlaps with embedding. Returns the committed manifest,
    how many passages were embedded, and how many were found already stored by an
    ingest that was interrupted (resumed, not embedded again). `in_use`: a
    collection a reader may still use (the one a rebuild replaces), never resumed.
    `the_plan` gives each file's size and time; `skipped`, called once the
    documents are read, the files that could not be."""
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    client, location = open_client(index_dir, settings.chroma_url)
    collection = (previous.collection if previous
                  else _unfinished_collection(client, settings, embedder, avoid=in_use)
                  or new_collection_name(settings.collection))
    store = open_store(client, location, collection, embedder.name, embedder.dimension, create=True,
                       precision=embedder.precision)

    files = _refreshed(previous.files, the_plan) if previous else {}
    for source in removed:
        files.pop(source, None)
    already_stored = previous.live_ids if previous else frozenset()
    stats = the_plan.stats if the_plan else {}
    read_at = utc_now()

    def fresh_passages() -> Iterator[Passage]:
        seen: set[str] = set()
        for doc in documents:
            size, mtime_ns = stats.get(doc.source, (None, None))
            files[doc.source] = FileEntry(doc.content_hash, doc.doc_id, doc.title,
                                          tuple(p.id for p in doc.passages), doc.byline, READER_VERSION,
                                          doc.ocr_pages, size, mtime_ns, doc.pages, read_at)
            for passage in doc.passages:
                # A passage whose id (content hash included) is already live needs no new vector.
                if passage.id not in already_stored and passage.id not in seen:
                    seen.add(passage.id)
                    yield passage

    embedded, resumed = _embed_and_store(fresh_passages(), embedder, store, progress)

    live = [pid for entry in files.values() for pid in entry.passages]
    texts = _texts_for(live, embedded + resumed, store)
    progress("indexing", 0, 1)
    generation = (previous.generation if previous else 0) + 1
    # A token in the name keeps a rebuild (which restarts the count) from writing
    # into the folder that the current manifest still points at.
    lexical_dir = f"bm25/gen-{generation:06d}-{secrets.token_hex(3)}"
    LexicalIndex.build(live, [texts[pid] for pid in live]).save(index_dir / lexical_dir)
    progress("indexing", 1, 1)

    manifest = Manifest(embedder.name, embedder.dimension, collection, generation, lexical_dir, files,
                        settings.chroma_url, embed_precision=embedder.precision, skipped=skipped())
    write_manifest(index_dir, manifest)  # the commit point
    return manifest, len(embedded), len(resumed)


def _refreshed(files: dict[str, FileEntry], the_plan: Plan | None) -> dict[str, FileEntry]:
    """The entries of unchanged files, with the size and time they have now."""
    files = dict(files)
    for source, (size, mtime_ns) in (the_plan.refreshed if the_plan else {}).items():
        if source in files:
            files[source] = replace(files[source], size=size, mtime_ns=mtime_ns)
    return files


def _note_files(index_dir: Path, manifest: Manifest, the_plan: Plan,
                skipped: dict[str, SkippedEntry]) -> Manifest:
    """An ingest that changed no passages may still have met files it could not
    read, or unchanged files with a new time: a new manifest says so (nothing
    else of the index is written)."""
    if skipped == manifest.skipped and not the_plan.refreshed and manifest.records_files:
        return manifest
    noted = replace(manifest, files=_refreshed(manifest.files, the_plan), skipped=skipped,
                    generation=manifest.generation + 1, records_files=True)
    write_manifest(index_dir, noted)
    return noted


def _unfinished_collection(client, settings: Settings, embedder: Embedder, avoid: str | None) -> str | None:
    """A collection that an interrupted first ingest (or rebuild) left in the
    embedded store, with this model's vectors at this precision: resuming it skips what it holds.
    No manifest names it, so no reader uses it. None on a server, which others share."""
    if settings.chroma_url:
        return None
    try:
        collections = client.list_collections()
    except Exception:
        return None
    for item in collections:
        name = item if isinstance(item, str) else item.name
        if name == avoid or not name.startswith(f"{settings.collection}-"):
            continue
        try:
            meta = client.get_collection(name, embedding_function=None).metadata or {}
        except Exception:
            continue
        if (meta.get("embed_model") == embedder.name
                and meta.get("embed_precision", "float32") == embedder.precision):
            return name
    return None


def _embed_and_store(passages: Iterable[Passage], embedder: Embedder, store,
                     progress: ProgressCallback) -> tuple[list[Passage], list[Passage]]:
    """Embed in chunks as passages arrive and hand each chunk to Chroma on a second
    thread, so that writing one chunk overlaps with embedding the next (the
    model's runtime releases the GIL). Within a chunk, passages go longest first,
    so batches pad little. A passage the store already holds (written by an
    ingest that was interrupted before its commit: ids are content hashes) is not
    embedded again. Returns (passages embedded, passages found stored)."""
    chunk = 512  # passages per hand-over to the store
    embedded: list[Passage] = []
    resumed: list[Passage] = []
    progress("embedding", 0, 0)
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None

        def flush(batch: list[Passage]) -> None:
            nonlocal pending
            stored = store.stored([p.id for p in batch])
            resumed.extend(p for p in batch if p.id in stored)
            batch = [p for p in batch if p.id not in stored]
            if not batch:
                return
            batch.sort(key=lambda p: len(p.text), reverse=True)
            base, total = len(embedded), len(embedded) + len(batch)
            vectors = embedder.embed([p.text for p in batch],
                                     lambda d, _n: progress("embedding", base + d, total))
            if pending is not None:
                pending.result()  # surfaces a store error before more work is done
            pending = writer.submit(store.upsert, list(batch), vectors)
            embedded.extend(batch)

        buffer: list[Passage] = []
        for passage in passages:
            buffer.append(passage)
            if len(buffer) >= chunk:
                flush(buffer)
                buffer = []
        if buffer:
            flush(buffer)
        if pending is not None:
            pending.result()
    return embedded, resumed


def _texts_for(live: list[str], fresh: list[Passage], store) -> dict[str, str]:
    texts = {p.id: p.text for p in fresh}
    missing = [pid for pid in live if pid not in texts]
    for lo in range(0, len(missing), 5000):
        for pid, passage in store.get(missing[lo:lo + 5000]).items():
            texts[pid] = passage.text
    lost = [pid for pid in live if pid not in texts]
    if lost:
        from rag.types.errors import Fix, IndexCorruptError, Remedy

        raise IndexCorruptError(f"{len(lost)} passages listed in the manifest are missing from the vector "
                                "store", Remedy(Fix.REBUILD))
    return texts


def collect_garbage(settings: Settings, manifest: Manifest, old_collection: str | None = None) -> None:
    """Remove what no manifest lists: orphan records and old BM25 folders.
    Best effort: a failure here leaves only unused data behind."""
    try:
        client, location = open_client(settings.index_dir, manifest.chroma_url)
        store = open_store(client, location, manifest.collection, manifest.embed_model,
                           manifest.dimension, create=False, precision=manifest.embed_precision)
        orphans = store.all_ids() - manifest.live_ids
        store.delete(orphans)
        if old_collection and old_collection != manifest.collection:
            store.drop_collection(old_collection)
    except Exception:
        pass
    bm25_root = settings.index_dir / "bm25"
    if bm25_root.is_dir():
        for folder in bm25_root.iterdir():
            if folder.name != Path(manifest.lexical_dir).name:
                shutil.rmtree(folder, ignore_errors=True)


def _report(changes: Changes, manifest: Manifest | None, embedded: int, started: float,
            index_dir: Path, resumed: int = 0) -> IngestReport:
    return IngestReport(
        passages_resumed=resumed,
        added=changes.added,
        updated=changes.updated,
        removed=changes.removed,
        unchanged=changes.unchanged,
        problems=changes.problems,
        warnings=changes.warnings,
        skipped_types=changes.skipped_types,
        passages_embedded=embedded,
        passages_total=manifest.passage_count if manifest else 0,
        documents_total=len(manifest.files) if manifest else 0,
        seconds=time.perf_counter() - started,
        location=(manifest.chroma_url if manifest else None) or str(index_dir / "chroma"),
    )

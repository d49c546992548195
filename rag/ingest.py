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

import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from rag.config import Settings
from rag.documents import TokenCounter, discover, parse_document, read_text
from rag.embed import Embedder, resolve_model
from rag.index import FileEntry, IngestLock, Manifest, new_collection_name, read_manifest, write_manifest
from rag.lexical import LexicalIndex
from rag.store import open_client, open_store
from rag.types import Document, DocumentError, FileProblem, IngestReport, ModelMismatchError, Passage

# (stage, done, total): stages are "reading", "embedding", "indexing".
ProgressCallback = Callable[[str, int, int], None]
EmbedderFactory = Callable[[str], Embedder]  # model name -> loaded embedder


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class Changes:
    """What an ingest will do, worked out before anything is written."""

    documents: tuple[Document, ...]  # new or changed files, parsed
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    problems: tuple[FileProblem, ...]
    skipped_types: dict[str, int]


def plan_changes(
    paths: Sequence[Path],
    manifest: Manifest | None,
    count_tokens: Callable[[], TokenCounter],
    max_tokens: int,
    progress: ProgressCallback = _no_progress,
) -> Changes:
    """Compare the files under `paths` with the manifest. Files that fail to read
    keep their previous passages; files gone from a walked folder are removed."""
    files, problems, other_types = discover(paths)
    problems = list(problems)
    known = manifest.files if manifest else {}
    documents, added, updated, unchanged = [], [], [], []
    counter: TokenCounter | None = None
    for done, path in enumerate(files, 1):
        source = str(path)
        try:
            text, file_hash = read_text(path)
            if source in known and known[source].hash == file_hash:
                unchanged.append(source)
            else:
                counter = counter or count_tokens()
                documents.append(parse_document(text, source, counter, max_tokens, file_hash))
                (updated if source in known else added).append(source)
        except DocumentError as exc:
            problems.append(FileProblem(exc.path, exc.reason))
        progress("reading", done, len(files))

    seen = {str(f) for f in files}
    roots = [p.resolve() for p in paths if p.is_dir()]
    removed = [
        source for source in known
        if source not in seen and any(Path(source).is_relative_to(root) for root in roots)
    ]
    return Changes(tuple(documents), tuple(added), tuple(updated), tuple(sorted(removed)),
                   tuple(unchanged), tuple(problems), dict(sorted(other_types.items())))


def ingest_paths(
    paths: Sequence[Path],
    settings: Settings,
    embedder_factory: EmbedderFactory,
    progress: ProgressCallback = _no_progress,
    rebuild: bool = False,
) -> IngestReport:
    """Ingest files and folders into the index of `settings`. Raises IndexBusyError
    when another ingest holds the lock, ModelMismatchError when the index was
    built with another embedding model (unless `rebuild`)."""
    started = time.perf_counter()
    index_dir = settings.index_dir
    with IngestLock(index_dir):
        manifest = read_manifest(index_dir)
        previous = None if rebuild else manifest
        if previous is not None and settings.embed_model is not None:
            wanted = resolve_model(settings.embed_model).name
            if wanted != previous.embed_model:
                raise ModelMismatchError(
                    f"the index in {index_dir} was built with {previous.embed_model}, not {wanted}; "
                    f"rebuild it with `rag ingest --rebuild --embed-model {settings.embed_model} PATH …`"
                )
        if previous is not None and settings.chroma_url is None:
            settings = settings.replace(chroma_url=previous.chroma_url)  # where its vectors are
        # An existing index keeps its own model; a new one takes the configured one.
        model_name = previous.embed_model if previous else resolve_model(settings.embed_model).name

        embedder: Embedder | None = None

        def get_embedder() -> Embedder:
            nonlocal embedder
            if embedder is None:  # loaded only when some file has changed
                embedder = embedder_factory(model_name)
            return embedder

        changes = plan_changes(paths, previous, lambda: get_embedder().count_tokens,
                               settings.max_passage_tokens, progress)
        if not changes.documents and (previous is None or not changes.removed):
            return _report(changes, previous, 0, started, index_dir)  # nothing to write

        new_manifest, embedded = apply_documents(
            settings, previous, changes.documents, changes.removed, get_embedder(), progress
        )
        old_collection = manifest.collection if (manifest and rebuild) else None
        collect_garbage(settings, new_manifest, old_collection)
        return _report(changes, new_manifest, embedded, started, index_dir)


def apply_documents(
    settings: Settings,
    previous: Manifest | None,
    documents: Sequence[Document],
    removed: Iterable[str],
    embedder: Embedder,
    progress: ProgressCallback = _no_progress,
) -> tuple[Manifest, int]:
    """Steps 2–4 of an ingest: store new records, write BM25, commit the manifest.
    Returns the committed manifest and how many passages were embedded."""
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    collection = previous.collection if previous else new_collection_name(settings.collection)
    client, location = open_client(index_dir, settings.chroma_url)
    store = open_store(client, location, collection, embedder.name, embedder.dimension, create=True)

    files = dict(previous.files) if previous else {}
    for source in removed:
        files.pop(source, None)
    already_stored = previous.live_ids if previous else frozenset()
    to_embed: list[Passage] = []
    for doc in documents:
        files[doc.source] = FileEntry(doc.content_hash, doc.doc_id, doc.title, tuple(p.id for p in doc.passages))
        # A passage whose id (content hash included) is already live needs no new vector.
        to_embed.extend(p for p in doc.passages if p.id not in already_stored)
    to_embed = list({p.id: p for p in to_embed}.values())

    _embed_and_store(to_embed, embedder, store, progress)

    live = [pid for entry in files.values() for pid in entry.passages]
    texts = _texts_for(live, to_embed, store)
    progress("indexing", 0, 1)
    generation = (previous.generation if previous else 0) + 1
    # A token in the name keeps a rebuild (which restarts the count) from writing
    # into the folder that the current manifest still points at.
    lexical_dir = f"bm25/gen-{generation:06d}-{secrets.token_hex(3)}"
    LexicalIndex.build(live, [texts[pid] for pid in live]).save(index_dir / lexical_dir)
    progress("indexing", 1, 1)

    manifest = Manifest(embedder.name, embedder.dimension, collection, generation, lexical_dir, files,
                        settings.chroma_url)
    write_manifest(index_dir, manifest)  # the commit point
    return manifest, len(to_embed)


def _embed_and_store(passages: list[Passage], embedder: Embedder, store, progress: ProgressCallback) -> None:
    """Embed in chunks and hand each chunk to Chroma on a second thread, so that
    writing one chunk overlaps with embedding the next (torch releases the GIL)."""
    total = len(passages)
    progress("embedding", 0, total)
    if not total:
        return
    chunk = 512  # passages per hand-over to the store
    ordered = sorted(passages, key=lambda p: len(p.text), reverse=True)
    done = 0
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for lo in range(0, total, chunk):
            batch = ordered[lo:lo + chunk]
            vectors = embedder.embed([p.text for p in batch],
                                     lambda d, _n, base=done: progress("embedding", base + d, total))
            if pending is not None:
                pending.result()  # surfaces a store error before more work is done
            pending = writer.submit(store.upsert, batch, vectors)
            done += len(batch)
        pending.result()


def _texts_for(live: list[str], fresh: list[Passage], store) -> dict[str, str]:
    texts = {p.id: p.text for p in fresh}
    missing = [pid for pid in live if pid not in texts]
    for lo in range(0, len(missing), 5000):
        for pid, passage in store.get(missing[lo:lo + 5000]).items():
            texts[pid] = passage.text
    lost = [pid for pid in live if pid not in texts]
    if lost:
        from rag.types import IndexCorruptError

        raise IndexCorruptError(f"{len(lost)} passages listed in the manifest are missing from the vector "
                                "store; rebuild with `rag ingest --rebuild …`")
    return texts


def collect_garbage(settings: Settings, manifest: Manifest, old_collection: str | None = None) -> None:
    """Remove what no manifest lists: orphan records and old BM25 folders.
    Best effort: a failure here leaves only unused data behind."""
    try:
        client, location = open_client(settings.index_dir, manifest.chroma_url)
        store = open_store(client, location, manifest.collection, manifest.embed_model,
                           manifest.dimension, create=False)
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
            index_dir: Path) -> IngestReport:
    return IngestReport(
        added=changes.added,
        updated=changes.updated,
        removed=changes.removed,
        unchanged=changes.unchanged,
        problems=changes.problems,
        skipped_types=changes.skipped_types,
        passages_embedded=embedded,
        passages_total=manifest.passage_count if manifest else 0,
        documents_total=len(manifest.files) if manifest else 0,
        seconds=time.perf_counter() - started,
        location=(manifest.chroma_url if manifest else None) or str(index_dir / "chroma"),
    )

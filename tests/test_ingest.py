"""Incremental, all-or-nothing ingest into a real Chroma store with the real model."""
import shutil
from pathlib import Path

import pytest

from rag.cli.advice import explain

import rag.ingest.pipeline as ingest_module
from rag.index.manifest import Index, IngestLock, read_manifest
from rag.ingest.pipeline import ingest_paths
from rag.index.chroma import open_client, open_store
from rag.types.errors import IndexBusyError, IndexNotFoundError, ModelMismatchError
from rag.wiring import open_retriever

from conftest import make_settings

QUESTION = "What did David Lammy tell MPs about sending troops?"


def search_texts(settings, embedder, question=QUESTION, k=3):
    index = Index.open(settings)
    return [h.passage.text for h in open_retriever(settings, index=index, embedder=embedder).search(question, k)]


def stored_ids(settings, manifest):
    client, location = open_client(settings.index_dir, None)
    store = open_store(client, location, manifest.collection, manifest.embed_model, manifest.dimension, False,
                       precision=manifest.embed_precision)
    return store.all_ids()


def test_first_ingest_then_nothing_to_do(tmp_path, seeds_copy, embedder_factory):
    settings = make_settings(tmp_path / "idx")
    report = ingest_paths([seeds_copy], settings, embedder_factory)
    assert len(report.added) == 5 and report.documents_total == 5
    assert report.passages_embedded == report.passages_total > 80
    manifest = read_manifest(settings.index_dir)
    assert stored_ids(settings, manifest) == manifest.live_ids

    calls = []
    again = ingest_paths([seeds_copy], settings, lambda name, precision: calls.append(name))
    assert len(again.unchanged) == 5 and again.passages_embedded == 0
    assert calls == []  # the model is not even loaded when nothing changed
    assert read_manifest(settings.index_dir).generation == manifest.generation


def test_an_index_read_by_older_readers_is_read_again_without_embedding(tmp_path, seeds_copy, embedder_factory):
    """An index built before bylines were read (its manifest has no reader version):
    the next ingest reads its unchanged files again, embeds nothing, and learns them."""
    import json

    settings = make_settings(tmp_path / "idx")
    ingest_paths([seeds_copy], settings, embedder_factory)
    path = settings.index_dir / "manifest.json"
    old = json.loads(path.read_text(encoding="utf-8"))
    for entry in old["files"].values():
        entry.pop("reader"), entry.pop("byline", None)
    path.write_text(json.dumps(old), encoding="utf-8")
    assert not any(e.byline for e in read_manifest(settings.index_dir).files.values())

    report = ingest_paths([seeds_copy], settings, embedder_factory)
    assert len(report.updated) == 5 and report.passages_embedded == 0
    bylines = [e.byline.author.value for e in read_manifest(settings.index_dir).files.values() if e.byline]
    assert bylines == ["Pippa Crerar"]
    assert len(ingest_paths([seeds_copy], settings, embedder_factory).unchanged) == 5


def test_changed_file_is_replaced_and_deleted_file_removed(tmp_path, seeds_copy, embedder, embedder_factory):
    settings = make_settings(tmp_path / "idx")
    ingest_paths([seeds_copy], settings, embedder_factory)
    before = read_manifest(settings.index_dir)

    changed = seeds_copy / "000_a91ecfca0f80e680.txt"
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("challenging decision", "perilous undertaking"), encoding="utf-8")
    (seeds_copy / "002_1d232bd1e832b10d.txt").unlink()

    report = ingest_paths([seeds_copy], settings, embedder_factory)
    assert [Path(p).name for p in report.updated] == ["000_a91ecfca0f80e680.txt"]
    assert [Path(p).name for p in report.removed] == ["002_1d232bd1e832b10d.txt"]
    assert len(report.unchanged) == 3
    assert report.passages_embedded == 1  # only the edited paragraph needs a new vector

    after = read_manifest(settings.index_dir)
    assert len(after.files) == 4
    assert stored_ids(settings, after) == after.live_ids  # old records collected
    texts = search_texts(settings, embedder)
    assert any("perilous undertaking" in t for t in texts)
    assert not any("challenging decision" in t for t in texts)
    index = Index.open(settings)
    live_texts = [p.text for p in index.store.get(index.lexical.ids).values()]
    assert sum("perilous undertaking" in t for t in live_texts) == 1
    assert not any("challenging decision" in t for t in live_texts)
    (top_id, _), = index.lexical.top("perilous undertaking", 1)
    assert "perilous undertaking" in index.store.get([top_id])[top_id].text
    assert before.collection == after.collection


def test_a_file_that_turns_unreadable_keeps_its_passages(tmp_path, seeds_copy, embedder_factory):
    settings = make_settings(tmp_path / "idx")
    ingest_paths([seeds_copy], settings, embedder_factory)
    before = read_manifest(settings.index_dir)
    broken = seeds_copy / "003_3377007ccdf28ba1.txt"
    broken.write_bytes(b"\x00\x01binary now")
    report = ingest_paths([seeds_copy], settings, embedder_factory)
    assert [Path(p.path).name for p in report.problems] == ["003_3377007ccdf28ba1.txt"]
    assert read_manifest(settings.index_dir).files[str(broken.resolve())] == before.files[str(broken.resolve())]


@pytest.mark.parametrize("fail_at", ["embedding", "lexical", "manifest"])
def test_an_interrupted_ingest_leaves_the_previous_index_whole(fail_at, tmp_path, seeds_copy, embedder,
                                                               embedder_factory, monkeypatch):
    """The interruption is injected (a KeyboardInterrupt raised from inside the
    step), since a real Ctrl-C cannot be timed to land in a given step."""
    settings = make_settings(tmp_path / "idx")
    ingest_paths([seeds_copy], settings, embedder_factory)
    before = read_manifest(settings.index_dir)
    results_before = search_texts(settings, embedder)

    # A change that adds records, so a half-done ingest would show.
    extra = seeds_copy / "new.txt"
    extra.write_text("Planted Notes\nDavid Lammy told MPs that sending troops was a grave step.\n", encoding="utf-8")
    (seeds_copy / "004_c47a76e7acbef03d.txt").unlink()

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if fail_at == "embedding":
        monkeypatch.setattr(embedder, "embed", interrupt)
    elif fail_at == "lexical":
        monkeypatch.setattr(ingest_module.LexicalIndex, "build", interrupt)
    else:
        monkeypatch.setattr(ingest_module, "write_manifest", interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([seeds_copy], settings, embedder_factory)
    monkeypatch.undo()

    assert read_manifest(settings.index_dir) == before
    assert search_texts(settings, embedder) == results_before  # orphans, if any, are invisible
    # The next ingest finishes the job and collects what the failed one left.
    report = ingest_paths([seeds_copy], settings, embedder_factory)
    assert [Path(p).name for p in report.added] == ["new.txt"] and len(report.removed) == 1
    after = read_manifest(settings.index_dir)
    assert stored_ids(settings, after) == after.live_ids
    assert len(list((settings.index_dir / "bm25").iterdir())) == 1


def test_a_second_ingest_at_the_same_time_is_refused(tmp_path, seeds_copy, embedder_factory):
    settings = make_settings(tmp_path / "idx")
    with IngestLock(settings.index_dir):
        with pytest.raises(IndexBusyError, match="another ingest is running"):
            ingest_paths([seeds_copy], settings, embedder_factory)
    assert ingest_paths([seeds_copy], settings, embedder_factory).documents_total == 5  # released


def test_another_embedding_model_is_a_clear_error_with_the_rebuild_command(tmp_path, seeds_copy, embedder,
                                                                         embedder_factory):
    settings = make_settings(tmp_path / "idx")
    ingest_paths([seeds_copy], settings, embedder_factory)
    # The same weights in another folder count as another model: only the name is compared.
    other = tmp_path / "other-model"
    shutil.copytree(embedder.location.path, other)
    other_settings = settings.replace(embed_model=str(other))

    with pytest.raises(ModelMismatchError) as info:
        Index.open(other_settings)
    assert "all-MiniLM-L6-v2" in str(info.value) and "--rebuild" in explain(info.value)
    with pytest.raises(ModelMismatchError) as info:
        ingest_paths([seeds_copy], other_settings, embedder_factory)
    assert "--rebuild" in explain(info.value)

    report = ingest_paths([seeds_copy], other_settings, embedder_factory, rebuild=True)
    assert report.documents_total == 5
    manifest = read_manifest(settings.index_dir)
    assert manifest.embed_model == str(other.resolve())
    assert Index.open(other_settings).manifest.embed_model == manifest.embed_model


def test_opening_a_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexNotFoundError) as info:
        Index.open(make_settings(tmp_path / "nothing"))
    assert "rag ingest" in explain(info.value)


def test_a_folder_of_thousands_of_tiny_files(tmp_path, embedder_factory):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(2000):
        (folder / f"note{i:04d}.txt").write_text(f"Note {i}\nItem {i} costs {i} pounds.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    report = ingest_paths([folder], settings, embedder_factory)
    assert len(report.added) == 2000 and report.passages_total == 2000 and not report.problems
    again = ingest_paths([folder], settings, embedder_factory)
    assert len(again.unchanged) == 2000 and again.passages_embedded == 0


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0


def test_an_ingest_killed_mid_way_leaves_a_usable_index(tmp_path, seeds_copy, embedder, embedder_factory):
    """A real `rag ingest` process is killed with SIGKILL once it has started writing
    records to Chroma. Wherever the kill lands, the index must be either the
    previous generation, untouched, or the new one, complete."""
    import os
    import signal
    import subprocess
    import sys

    from helpers import wait_until

    settings = make_settings(tmp_path / "idx")
    ingest_paths([seeds_copy], settings, embedder_factory)
    before = read_manifest(settings.index_dir)
    results_before = search_texts(settings, embedder)

    more = seeds_copy / "more"
    more.mkdir()
    for i in range(1500):  # several embedding chunks, so the kill lands between writes
        (more / f"n{i:04d}.txt").write_text(f"Memo {i}\nThe depot on street {i} stores {i * 7} crates of "
                                            "spare parts for the regional rail network.\n", encoding="utf-8")
    chroma_dir = settings.index_dir / "chroma"
    size_before = _folder_size(chroma_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    proc = subprocess.Popen([sys.executable, "-m", "launcher", "ingest", str(seeds_copy), "--index-dir",
                             str(settings.index_dir)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: proc.poll() is not None or _folder_size(chroma_dir) > size_before, 300,
                   "the ingest to start writing records")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)

    after = read_manifest(settings.index_dir)
    assert after == before or len(after.files) == 1505
    if after == before:
        assert search_texts(settings, embedder) == results_before
    assert Index.open(settings).manifest == after  # opens, BM25 and manifest agree

    report = ingest_paths([seeds_copy], settings, embedder_factory)
    final = read_manifest(settings.index_dir)
    assert len(final.files) == 1505 and not report.problems
    assert stored_ids(settings, final) == final.live_ids


def test_the_same_relative_index_dir_in_two_working_folders_stays_apart(tmp_path, embedder, embedder_factory,
                                                                         monkeypatch):
    """chromadb keeps one client per path string in a process: a relative ".rag"
    opened from two folders must still reach two stores. Here the second folder
    holds a copy of the first index (same collection name, as the chat app's tests
    make), then ingests a file of its own."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    (a / "a.txt").write_text("Alpacas graze on the high plateau.\n", encoding="utf-8")
    monkeypatch.chdir(a)
    settings = make_settings(Path(".rag"))
    ingest_paths([Path("a.txt")], settings, embedder_factory)
    open_retriever(settings, embedder=embedder).search("alpacas", 1)  # the client is cached now
    shutil.copytree(a, b)
    (b / "b.txt").write_text("Barges carry coal down the canal.\n", encoding="utf-8")
    monkeypatch.chdir(b)
    ingest_paths([Path("b.txt")], settings, embedder_factory)
    index = Index.open(settings)
    assert index.store.all_ids() >= set(index.manifest.live_ids)
    hits = open_retriever(settings, index=index, embedder=embedder).search("Which boats carry coal on the canal?", 1, method="dense")
    assert hits and hits[0].passage.text == "Barges carry coal down the canal."
    monkeypatch.chdir(a)  # and the first folder's index never saw the second one's file
    assert len(Index.open(settings).store.all_ids()) == 1


def test_an_interrupted_ingest_is_resumed_not_started_over(tmp_path, embedder, embedder_factory):
    """The first ingest of a folder stops (Ctrl-C) while its second chunk of 512
    passages is embedded, after the first chunk was stored; nothing is committed.
    Run again, it keeps the 512 stored passages and embeds only the rest."""
    folder = tmp_path / "memos"
    folder.mkdir()
    for i in range(600):
        (folder / f"m{i:03d}.txt").write_text(f"Memo {i}\nThe depot on street {i} stores {i * 7} crates.\n",
                                             encoding="utf-8")

    class StopsAtSecondChunk:
        def __init__(self, inner):
            self.inner, self.calls = inner, 0
            self.name, self.dimension, self.count_tokens = inner.name, inner.dimension, inner.count_tokens
            self.precision = inner.precision

        def embed(self, texts, progress=None):
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return self.inner.embed(texts, progress)

    settings = make_settings(tmp_path / "idx")
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([folder], settings, lambda name, precision: StopsAtSecondChunk(embedder))
    assert read_manifest(settings.index_dir) is None  # nothing committed

    report = ingest_paths([folder], settings, embedder_factory)
    assert (report.passages_resumed, report.passages_embedded) == (512, 88)
    final = read_manifest(settings.index_dir)
    assert len(final.files) == 600 and stored_ids(settings, final) == final.live_ids
    hits = search_texts(settings, embedder, "Which depot stores 2100 crates?")
    assert any("street 300 " in text for text in hits)

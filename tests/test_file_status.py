"""Where each file stands (`rag status --files`): indexed, skipped and why, changed
on disk since, or gone; decided by size and modification time, by hash only when
they differ. Real ingests into a real store; the statuses read from the manifest."""
from __future__ import annotations

import json
import os

from rag.cli import main
from rag.index.file_status import file_statuses
from rag.types.corpus import state_counts
from rag.index.manifest import MANIFEST, content_hash, read_manifest
from rag.ingest.pipeline import ingest_paths
from rag.ingest.passages import READER_VERSION

from conftest import make_settings


def states(settings) -> dict[str, str]:
    manifest = read_manifest(settings.index_dir)
    return {os.path.basename(s.source): str(s.state) for s in file_statuses(manifest)}


def test_changed_gone_and_touched_files(tmp_path, embedder_factory):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("High tide at Brest is at 06:12 on Monday.\n", encoding="utf-8")
    (docs / "ferry.txt").write_text("The ferry to Ushant leaves at nine.\n", encoding="utf-8")
    (docs / "blank.txt").write_text("   \n", encoding="utf-8")
    settings = make_settings(tmp_path)
    ingest_paths([docs], settings, embedder_factory)
    assert states(settings) == {"tides.txt": "indexed", "ferry.txt": "indexed", "blank.txt": "skipped"}
    entry = read_manifest(settings.index_dir).files[str(docs / "tides.txt")]
    assert entry.reader == READER_VERSION and entry.size == (docs / "tides.txt").stat().st_size and entry.read_at

    # Touched with the same bytes: still indexed (the hash decides when the time moved).
    os.utime(docs / "tides.txt", ns=(10**18, 10**18))
    (docs / "ferry.txt").write_text("The ferry to Ushant now leaves at ten.\n", encoding="utf-8")
    (docs / "blank.txt").unlink()
    assert states(settings) == {"tides.txt": "indexed", "ferry.txt": "changed", "blank.txt": "gone"}
    counts = state_counts(file_statuses(read_manifest(settings.index_dir)))
    assert counts == {"indexed": 1, "skipped": 0, "changed": 1, "gone": 1}

    # The next ingest brings it in step and forgets the skipped file that is gone.
    report = ingest_paths([docs], settings, embedder_factory)
    assert report.updated == (str(docs / "ferry.txt"),) and report.passages_embedded == 1
    assert states(settings) == {"tides.txt": "indexed", "ferry.txt": "indexed"}
    # The touched file's new time was recorded, so it is not hashed again.
    assert read_manifest(settings.index_dir).files[str(docs / "tides.txt")].mtime_ns == 10**18

    # A file that stays unreadable keeps its entry (when it was first tried); `rag
    # watch`'s updates (retry_skipped=False) do not read it again, and write nothing.
    (docs / "broken.txt").write_bytes(b"\x00\x01binary")
    ingest_paths([docs], settings, embedder_factory)
    noted = read_manifest(settings.index_dir)
    again = ingest_paths([docs], settings, embedder_factory)
    assert again.problems and read_manifest(settings.index_dir).skipped == noted.skipped
    noted = read_manifest(settings.index_dir)
    watched = ingest_paths([docs], settings, embedder_factory, retry_skipped=False)
    assert [p.reason for p in watched.problems] == ["binary file (contains NUL bytes)"]
    assert read_manifest(settings.index_dir).generation == noted.generation


def test_an_index_made_before_shows_what_it_has_and_says_so(tmp_path, embedder_factory, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("High tide at Brest is at 06:12 on Monday.\n", encoding="utf-8")
    settings = make_settings(tmp_path)
    ingest_paths([docs], settings, embedder_factory)
    path = settings.index_dir / MANIFEST
    old = json.loads(path.read_text(encoding="utf-8"))
    old.pop("skipped")
    for entry in old["files"].values():
        for key in ("size", "mtime_ns", "pages", "read_at"):
            entry.pop(key, None)
    path.write_text(json.dumps(old), encoding="utf-8")

    assert main(["status", "--files", "--json", "--index-dir", str(settings.index_dir)]) == 0
    out = capsys.readouterr()
    listed = json.loads(out.out)
    assert listed["complete"] is False
    assert [(f["state"], f["passages"], f["read_at"]) for f in listed["files"]] == [("indexed", 1, None)]
    assert "re-ingest" in out.err or "`rag ingest` of its folders again" in out.err

    assert main(["status", "--index-dir", str(settings.index_dir)]) == 0
    assert "`rag ingest` of its folders again records them" in capsys.readouterr().out


def test_an_unreadable_file_is_not_read_again_until_it_or_the_reading_changes(tmp_path, embedder_factory,
                                                                                monkeypatch):
    """`rag ingest` of a folder holding a PDF that cannot be parsed, twice: the second
    run reads nothing (not even the PDF), writes nothing of the index and says so; a
    change to the file, or to a setting that limits reading, has it read again."""
    import rag.ingest.pipeline as pipeline

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("High tide at Brest is at 06:12 on Monday.\n", encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nnot a PDF at all")
    for path in docs.iterdir():  # saved a while ago: a file saved this very second is hashed, to be sure
        os.utime(path, ns=(10**18, 10**18))
    settings = make_settings(tmp_path / "index")
    first = ingest_paths([docs], settings, embedder_factory)
    assert [os.path.basename(p.path) for p in first.problems] == ["broken.pdf"] and first.wrote
    index_files = {p: p.stat().st_mtime_ns for p in (settings.index_dir).rglob("*") if p.name != "ingest.lock"}

    read: list[str] = []
    real_read_bytes = pipeline.read_bytes
    monkeypatch.setattr(pipeline, "read_bytes", lambda path, *a: read.append(path.name) or real_read_bytes(path, *a))
    second = ingest_paths([docs], settings, embedder_factory)
    assert read == [] and not second.wrote
    assert second.problems[0].tried_at == read_manifest(settings.index_dir).skipped[str(docs / "broken.pdf")].at
    assert {p: p.stat().st_mtime_ns for p in index_files} == index_files  # not a byte of the index written

    code = main(["ingest", str(docs), "--index-dir", str(settings.index_dir)])
    assert code != 0 and read == []  # the command line says the same, in words (test_cli checks the words)

    # Another size limit could let it through: tried again (by the PDF reader, in a worker), once.
    bigger = ingest_paths([docs], settings.replace(max_file_mb=128.0), embedder_factory)
    skipped = read_manifest(settings.index_dir).skipped[str(docs / "broken.pdf")]
    assert not bigger.problems[0].tried_at and "max_file_mb 128" in skipped.reading and bigger.wrote
    assert ingest_paths([docs], settings.replace(max_file_mb=128.0), embedder_factory).problems[0].tried_at
    # And a file changed since is tried again.
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nstill not a PDF")
    changed = ingest_paths([docs], settings.replace(max_file_mb=128.0), embedder_factory)
    assert not changed.problems[0].tried_at and changed.problems[0].reason == bigger.problems[0].reason


def test_a_new_file_is_read_once_and_a_new_file_over_the_limit_not_at_all(tmp_path, embedder_factory, monkeypatch):
    """A first ingest reads each new file once (by its reader, which hashes what it
    reads), not once to hash it and again to read it; a new file over the size limit is
    skipped from its size alone. A changed file is still hashed first (touched or
    changed?), so it is read twice."""
    import rag.ingest.pipeline as pipeline

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("High tide at Brest is at 06:12 on Monday.\n", encoding="utf-8")
    (docs / "huge.txt").write_text("word " * 300_000, encoding="utf-8")  # 1.5 MB
    read: list[str] = []
    real_read_bytes = pipeline.read_bytes
    monkeypatch.setattr(pipeline, "read_bytes",
                        lambda path, *a, **k: read.append(path.name) or real_read_bytes(path, *a, **k))
    settings = make_settings(tmp_path / "index", max_file_mb=1.0)
    report = ingest_paths([docs], settings, embedder_factory)
    assert read == ["tides.txt"]
    assert report.added == (str(docs / "tides.txt"),)
    assert [(os.path.basename(p.path), p.reason) for p in report.problems] == \
        [("huge.txt", "1.4 MB, over the limit of 1 MB")]
    entry = read_manifest(settings.index_dir).files[str(docs / "tides.txt")]
    assert entry.hash == content_hash((docs / "tides.txt").read_bytes())  # the reader's hash was recorded

    read.clear()
    (docs / "tides.txt").write_text("High tide at Brest is at 06:40 on Tuesday.\n", encoding="utf-8")
    assert ingest_paths([docs], settings, embedder_factory).updated == (str(docs / "tides.txt"),)
    assert read == ["tides.txt", "tides.txt"]

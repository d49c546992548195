"""`rag watch` as a user runs it: a real subprocess following a real folder with the
real watcher (watchfiles on inotify), real model and real store; each change is
observed the way a user would, by `rag search` in another process."""
from __future__ import annotations

import json
import queue
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from helpers import RAG, rag_env, run

def rag(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run(args, cwd, timeout=300)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watcher:
    """`rag watch` in a subprocess, its output read line by line as it comes."""

    def __init__(self, cwd: Path, *args: str):
        # Started as a shell in a terminal starts it, with Ctrl-C's signal at its default:
        # a test run started in the background (`nohup make test &`) ignores SIGINT, which
        # its children inherit, and Python then never turns SIGINT into KeyboardInterrupt.
        self.process = subprocess.Popen([*RAG, "watch", *args], cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=rag_env(),
                                        preexec_fn=_default_sigint)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")  # end of output

    def line_with(self, *words: str, timeout: float = 120) -> str:
        """The next line holding every one of `words` (lines before it are kept in `seen`)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {words} in {timeout} s; lines so far: {self.seen}") from None
            self.seen.append(line)
            assert line or self.process.poll() is None, f"the watcher ended: {self.seen}"
            if all(word in line for word in words):
                return line

    def updates(self) -> list[str]:
        return [line for line in self.seen if " → " in line]


def sources_found(cwd: Path, query: str) -> set[str]:
    result = rag("search", query, "--json", "-k", "10", "--index-dir", "idx", cwd=cwd)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    return {Path(h["source"]).name for h in hits if query.lower() in h["text"].lower()}


@pytest.fixture
def watched(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferries.txt").write_text("The harbour ferry leaves every forty minutes in summer.\n", encoding="utf-8")
    (docs / "core.txt").write_bytes(b"\x7fELF\x02\x01\x00binary")  # unreadable: named once, at start
    watcher = Watcher(tmp_path, "docs", "--index-dir", "idx")
    yield tmp_path, docs, watcher
    if watcher.process.poll() is None:
        watcher.process.kill()
    watcher.process.wait(timeout=30)


def test_new_changed_renamed_and_deleted_files_reach_the_index(watched):
    root, docs, watcher = watched
    watcher.line_with("watching docs")

    (docs / "quokka.txt").write_text("A quokka lives on Rottnest Island.\n", encoding="utf-8")
    watcher.line_with("added 1", "quokka.txt")
    assert sources_found(root, "quokka") == {"quokka.txt"}

    (docs / "quokka.txt").write_text("A wombat digs burrows in the bush of Victoria.\n", encoding="utf-8")
    watcher.line_with("updated 1", "quokka.txt")
    assert sources_found(root, "wombat") == {"quokka.txt"}
    assert sources_found(root, "quokka") == set()

    (docs / "quokka.txt").rename(docs / "marsupials.txt")
    line = watcher.line_with("marsupials.txt")
    assert "added 1 (docs/marsupials.txt)" in line and "removed 1 (docs/quokka.txt)" in line
    assert sources_found(root, "wombat") == {"marsupials.txt"}

    (docs / "marsupials.txt").unlink()
    watcher.line_with("removed 1", "marsupials.txt")
    assert sources_found(root, "wombat") == set()

    # 200 files copied at once are one update, not one per file.
    batch = root / "batch"
    batch.mkdir()
    for n in range(200):
        (batch / f"note{n:03}.txt").write_text(f"Note {n} records lighthouse keeper shift {n}.\n", encoding="utf-8")
    shutil.copytree(batch, docs / "batch")
    line = watcher.line_with("added 200")
    assert "200 documents" not in line and "201 documents" in line, line
    assert [u for u in watcher.updates() if "note" in u] == [line]

    # One line per change made, none for the file that stays unreadable.
    assert len(watcher.updates()) == 5, watcher.updates()
    assert sum("core.txt" in line for line in watcher.seen) == 1  # "rag: skipped …", at start

    # Another ingest of the same index is refused while the watcher runs, naming it.
    refused = rag("ingest", "docs", "--index-dir", "idx", cwd=root)
    assert refused.returncode != 0 and "rag watch" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


def test_ctrl_c_leaves_the_index_whole(watched):
    root, docs, watcher = watched
    watcher.line_with("watching docs")
    for n in range(40):
        (docs / f"log{n:02}.txt").write_text(f"Entry {n}: the signal box at Crewe was repainted.\n", encoding="utf-8")
    # Interrupted whenever it happens to be (waiting, or in the middle of the update):
    # what the index holds is the last finished update, complete.
    watcher.process.send_signal(signal.SIGINT)
    assert watcher.process.wait(timeout=120) == 0
    watcher.line_with("stopped watching")

    status = rag("status", "--files", "--json", "--index-dir", "idx", cwd=root)
    assert status.returncode == 0, status.stderr
    files = {Path(f["source"]).name: f for f in json.loads(status.stdout)["files"]}
    assert files["ferries.txt"]["state"] == "indexed"
    logs = [name for name in files if name.startswith("log")]
    assert len(logs) in (0, 40), logs  # all of the update or none of it
    assert all(files[name]["state"] == "indexed" and files[name]["passages"] == 1 for name in logs)
    assert sources_found(root, "ferry") == {"ferries.txt"}
    assert bool(sources_found(root, "signal box")) == bool(logs)

    # A new watcher on the same index takes up where the last one stopped.
    again = Watcher(root, "docs", "--index-dir", "idx")
    try:
        first = again.line_with("index:")
        assert ("unchanged 41" in first) if logs else ("added 40" in first), first
    finally:
        again.process.send_signal(signal.SIGINT)
        again.process.wait(timeout=60)

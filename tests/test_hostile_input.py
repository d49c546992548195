"""Hostile input and a hostile environment (issue 14): documents and file names full
of terminal escape sequences, special files in an ingested folder, symlinks that
loop, dangle or lead out, a paragraph of many megabytes, and a run that must write
nothing outside the index folder. The CLI runs as a user runs it (subprocesses);
the chat app through its Pilot. Each case asserts the one line, the exit code and
that the index still answers afterwards."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from rag.config import Settings
from rag.wiring import open_retriever
from helpers import app_on, assert_no_traceback, run

# An OSC that retitles the window, a bell, "clear screen", a C1 CSI, and a bidi override.
ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e")
EVIL_NAME = "keeper\x1b]0;pwned\x07.txt"
EVIL_TEXT = ("The lighthouse keeper \x1b]0;owned\x07counted \x1b[2J4,812 ships passing Cape Wrath in 2023.\n\n"
             "The harbour crane \x9b31mat Leith lifted \u202e300 tonnes in 2019.\n")
SHIPS = "How many ships did the lighthouse keeper count?"


def assert_inert(text: str) -> None:
    found = [repr(c) for c in ESCAPES if c in text]
    assert not found, f"raw {', '.join(found)} in: {text[:300]!r}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A folder with an escape-laden document and name, a named pipe, a symlink
    loop, a dangling link, a link to a file outside, and a 1.2 MB paragraph."""
    root = tmp_path_factory.mktemp("hostile")
    docs = root / "docs"
    docs.mkdir()
    (docs / EVIL_NAME).write_text(EVIL_TEXT, encoding="utf-8")
    (docs / "tides.txt").write_text("Tide tables for Oban were first printed in 1850.\n", encoding="utf-8")
    (docs / "empty\x1b[2J.txt").write_bytes(b"")  # a bad file whose name is an escape sequence
    os.mkfifo(docs / "pipe.txt")
    (docs / "loop.txt").symlink_to("loop.txt")
    (docs / "dangling.txt").symlink_to("nowhere.txt")
    (root / "outside").mkdir()
    (root / "outside" / "bridge.txt").write_text("The Forth Bridge was painted red in 1890.\n", encoding="utf-8")
    (docs / "bridge-link.txt").symlink_to(root / "outside" / "bridge.txt")
    (docs / "dump.txt").write_text("word " * 250_000, encoding="utf-8")  # 1.2 MB, no line break
    # Fuzzed names: a line break, bytes that are not UTF-8, a leading dash, 255 bytes.
    (docs / "new\nline.txt").write_text("The ferry to Mull left Oban at nine in 1901.\n", encoding="utf-8")
    with open(os.fsencode(docs) + b"/bad\xff\xfename.txt", "wb") as bad_name:
        bad_name.write(b"The Crinan canal opened in 1801.\n")
    (docs / "-rf.txt").write_text("The cotton mill at New Lanark was founded in 1786.\n", encoding="utf-8")
    (docs / ("L" * 251 + ".txt")).write_text("Skye's first bridge opened in 1995.\n", encoding="utf-8")
    # A UTF-8 file cut short in the middle of its last character (an interrupted copy).
    (docs / "cut.txt").write_bytes("Düsseldorf's café owners met in 1950.\n\nThey agreed on a price of 2 marks for "
                                   "each cup of coffee sold in the old town, and named it the café".encode()[:-1])
    result = run(["ingest", "docs"], cwd=root)
    return root, result


def test_each_special_file_is_one_line_and_the_rest_is_ingested(hostile):
    root, result = hostile
    assert_no_traceback(result)
    assert result.returncode == 1, result.stderr  # some files skipped
    # The escape-laden file, tides.txt, the link to a file outside, four fuzzed names, the cut file.
    assert "added 7," in result.stdout
    lines = result.stderr.splitlines()
    assert not any(line.startswith("line.txt") for line in lines), lines  # "new\nline.txt" kept on its line
    expected = {"pipe.txt": "a named pipe (FIFO), not a document", "loop.txt": "symlink loop",
                "dangling.txt": "broken symlink", "dump.txt": "1.2 MB of text in one paragraph",
                "empty": "empty file", "bad\\xff\\xfename.txt": "name is not valid UTF-8",
                "cut.txt": "ends in the middle of a character"}
    for name, reason in expected.items():
        assert sum(name in line and reason in line for line in lines) == 1, (name, lines)
    assert_inert(result.stdout + result.stderr)
    assert "empty[2J.txt" in result.stderr  # the name, shown inert


def test_search_ask_and_json_show_no_escape_sequence(hostile):
    root, _ = hostile
    ask = run(["ask", SHIPS], cwd=root)
    assert ask.returncode == 0 and "4,812 ships" in ask.stdout and "✓" in ask.stdout
    assert_inert(ask.stdout + ask.stderr)
    search = run(["search", SHIPS, "-k", "5", "--json"], cwd=root)
    assert_inert(search.stdout + search.stderr)
    hits = json.loads(search.stdout)["hits"]
    keeper = next(h for h in hits if "4,812 ships" in h["text"])
    # JSON keeps the file's real name, its escape written as JSON writes it.
    assert keeper["source"].endswith(EVIL_NAME) and "\\u001b" in search.stdout
    assert_inert(keeper["text"])  # the stored text itself is clean
    # A link to a file outside the folder is known by the link's path, not its target's.
    bridge = run(["search", "When was the Forth Bridge painted red?", "-k", "1", "--json"], cwd=root)
    assert json.loads(bridge.stdout)["hits"][0]["source"] == str(root / "docs" / "bridge-link.txt")


def test_fuzzed_names_and_a_cut_file_are_searchable(hostile, embedder):
    """In process: the command's side of these files is the ingest above."""

    root, _ = hostile
    settings = Settings(index_dir=root / ".rag")
    retriever = open_retriever(settings, embedder=embedder)
    found = retriever.search("When did the Mull ferry and the Lanark mill start? Skye bridge? Düsseldorf café "
                             "owners?", k=8)
    names = {Path(hit.passage.source).name for hit in found}
    assert {"new\nline.txt", "-rf.txt", "L" * 251 + ".txt", "cut.txt"} <= names, names
    hits = retriever.search("a price of 2 marks for each cup of coffee", k=3)
    assert any(h.passage.source.endswith("cut.txt") and h.passage.text.endswith("named it the caf") for h in hits)


def test_a_briefing_is_written_inert():
    from rag.report.briefing import render_markdown
    from rag.types.answers import Answer, Source
    from rag.types.corpus import Passage

    passage = Passage("d:0:x", "d", EVIL_NAME, "Title \x1b[2J", 0, 0, len(EVIL_TEXT), EVIL_TEXT)
    answer = Answer(SHIPS, "The keeper counted \x1b]0;x\x07 4,812 ships. [1]", "local", "m",
                    (Source(1, passage, EVIL_TEXT),), (1,), (), True, SHIPS, {})
    briefing = render_markdown(answer)
    assert "4,812 ships" in briefing and EVIL_NAME.replace("\x1b", "").replace("\x07", "") in briefing
    assert_inert(briefing)


def test_a_link_to_a_file_outside_is_known_by_the_link(hostile, embedder, embedder_factory):
    """Removing the link removes its passages, though the file it named is still
    there. (In process: the command's side of links is the ingest above.)"""
    from rag.ingest.pipeline import ingest_paths

    root, _ = hostile
    link = root / "docs" / "bridge-link.txt"
    link.unlink()
    settings = Settings(index_dir=root / ".rag")
    again = ingest_paths([root / "docs"], settings, embedder_factory)
    assert list(again.removed) == [str(link)] and (root / "outside" / "bridge.txt").exists()
    hits = open_retriever(settings, embedder=embedder).search("Forth Bridge painted red")
    assert hits and all("bridge" not in hit.passage.source for hit in hits)


def test_nothing_is_written_outside_the_index_folder(tmp_path):
    home, temp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for folder in (home, temp, work / "docs"):
        folder.mkdir(parents=True)
    (work / "docs" / "tides.txt").write_text("Tide tables for Oban were first printed in 1850.\n", encoding="utf-8")
    env = {"HOME": str(home), "TMPDIR": str(temp)}
    assert run(["ingest", "docs"], cwd=work, env_extra=env).returncode == 0
    asked = run(["ask", "When were the Oban tide tables printed?"], cwd=work, env_extra=env)  # searches too
    assert asked.returncode == 0 and "1850" in asked.stdout
    assert list(home.iterdir()) == [] and list(temp.iterdir()) == []
    assert sorted(p.name for p in work.iterdir()) == [".rag", "docs"]


def test_the_chat_app_shows_hostile_text_inert(hostile, embedder_factory):
    """The app's answer, sources panel, passage screen and notifications."""
    from tui.screens import PassageScreen
    from tui.widgets import SourcesPanel

    from helpers import app_wait_until as wait_until
    from helpers import ask, notes, wait_for_note

    root, _ = hostile

    async def scenario():
        app = app_on(Settings(index_dir=root / ".rag"), embedder_factory, extractive=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None, what="the index")
            view = await ask(pilot, app, SHIPS)
            assert "4,812 ships" in view.body.source
            assert_inert(view.body.source + str(view.summary.render()))
            panel = app.query_one(SourcesPanel)
            assert_inert(" ".join(str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)))
            await pilot.press("f2", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, PassageScreen), what="the passage screen")
            shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
            assert "4,812 ships" in shown
            assert_inert(shown + app.screen.query_one("#passage-box").border_title)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, PassageScreen), what="back to the chat")
            app.question_input.focus()
            app.question_input.value = f"/ingest {root / 'docs'}"  # unchanged; the bad files again
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.ingesting, what="the ingest")
            await wait_for_note(pilot, app, "empty file")
            assert_inert(" ".join(notes(app)))

    asyncio.run(scenario())


def test_the_index_folder_given_as_a_file_is_one_line(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "tides.txt").write_text("Tide tables for Oban were first printed in 1850.\n", encoding="utf-8")
    (tmp_path / "index").write_text("not a folder", encoding="utf-8")
    for command in (["ingest", "docs"], ["search", "Oban"]):
        result = run(command + ["--index-dir", "index"], cwd=tmp_path)
        assert result.returncode == 2 and "internal error" not in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "is a file, not an index folder" in result.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs: a disk that fills up, and can be made read-only. Needs root."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_and_a_read_only_index_are_one_line_and_lose_nothing(small_disk, tmp_path):
    import random
    import subprocess

    work = tmp_path / "work"
    (work / "docs").mkdir(parents=True)
    (work / "docs" / "tides.txt").write_text("Tide tables for Oban were first printed in 1850.\n", encoding="utf-8")
    rng = random.Random(0)
    words = "alpha harbour tide crane ship keeper lighthouse ferry bridge tonne".split()
    (work / "more").mkdir()
    for i in range(6):
        (work / "more" / f"f{i}.txt").write_text(
            "\n\n".join(" ".join(rng.choice(words) for _ in range(60)) + "." for _ in range(20)), encoding="utf-8")
    index = ["--index-dir", str(small_disk / "idx")]
    assert run(["ingest", "docs"] + index, cwd=work).returncode == 0
    free = os.statvfs(small_disk)
    (small_disk / "ballast").write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - 64 * 1024))

    full = run(["ingest", "docs", "more"] + index, cwd=work)
    said = [line for line in full.stderr.splitlines() if not line.startswith("rag: progress:")]
    assert full.returncode == 2 and len(said) == 1, full.stderr
    assert "the disk is full; free some space" in full.stderr and "internal error" not in full.stderr
    found = run(["search", "When were the Oban tide tables printed?", "-k", "1"] + index, cwd=work)
    assert found.returncode == 0 and "1850" in found.stdout  # the previous generation still answers

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        # Chroma cannot open read-only: a temporary copy of its folder is searched, said in one line.
        search = run(["search", "When were the Oban tide tables printed?", "-k", "1"] + index, cwd=work)
        assert search.returncode == 0 and "1850" in search.stdout, search.stderr
        assert search.stderr.count("\n") == 1 and "is read-only, so its vector store was copied" in search.stderr
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


def test_an_index_on_a_full_disk_is_searched_and_asked_with_one_note(small_disk, tmp_path, default_gguf):
    """The disk holding the index and the temporary folder has not a byte free: Chroma
    cannot open its store (it writes to open it), so the store is copied to memory
    and searched there; `rag search` and `rag ask` answer, and say so in one line."""
    work = tmp_path / "work"
    (work / "docs").mkdir(parents=True)
    (work / "docs" / "tides.txt").write_text("Tide tables for Oban were first printed in 1850.\n", encoding="utf-8")
    index = ["--index-dir", str(small_disk / "idx")]
    assert run(["ingest", "docs"] + index, cwd=work).returncode == 0
    (small_disk / "tmp").mkdir()
    ballast = os.open(small_disk / "ballast", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(ballast, b"\0" * 4096):  # until the disk refuses
            pass
    except OSError:
        pass
    finally:
        os.close(ballast)
    assert os.statvfs(small_disk).f_bavail == 0
    full = {"TMPDIR": str(small_disk / "tmp")}

    found = run(["search", "When were the Oban tide tables printed?", "-k", "1"] + index, cwd=work, env_extra=full)
    assert found.returncode == 0 and "1850" in found.stdout, found.stderr
    assert found.stderr.count("\n") == 1 and "is on a full disk, so its vector store was copied to memory" in \
        found.stderr, found.stderr
    asked = run(["ask", "When were the Oban tide tables printed?", "--model", str(default_gguf)] + index, cwd=work,
                env_extra=full)
    assert asked.returncode == 0 and "1850" in asked.stdout and "[local mode" in asked.stdout, asked.stderr
    assert [line for line in asked.stderr.splitlines() if line.startswith("rag:")] == found.stderr.splitlines()


@pytest.fixture
def silent_server():
    """A model server that accepts connections and then says nothing (hung, or
    overloaded): its URL."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_model_server_that_never_answers_is_given_up_with_a_line(silent_server):
    """Given up after `llm_timeout_s` of silence, named in one line (the CLI prints
    every RagError as `rag: error: …`; the chat app's side is the test below)."""
    from rag.answer.generate import OpenAIGenerator, RemoteModelError

    generator = OpenAIGenerator(silent_server, timeout=1.0)
    with pytest.raises(RemoteModelError) as raised:
        list(generator.stream([{"role": "user", "content": SHIPS}], max_tokens=8, temperature=0.0))
    message = str(raised.value)
    assert "sent nothing for 1 s" in message and "llm_timeout_s" in message and "\n" not in message


def test_the_chat_app_counts_the_wait_for_a_silent_server(hostile, silent_server, embedder_factory):
    """While no word comes, the pending answer says how long it has waited; then
    the timeout's line, and the question goes back into the input."""
    from tui.widgets import AnswerView

    from helpers import app_wait_until as wait_until
    from helpers import wait_for_note

    root, _ = hostile
    settings = Settings(index_dir=root / ".rag", llm_url=silent_server, llm_timeout_s=4.0)

    async def scenario():
        app = app_on(settings, embedder_factory)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                             what="index and model server")
            app.question_input.value = SHIPS
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(app.query(AnswerView)) > 0, what="the answer view")
            view = app.query(AnswerView).last()
            await wait_until(pilot, lambda: "waiting for the model server…" in str(view.summary.render()),
                             timeout=20, what="the wait shown")
            await wait_for_note(pilot, app, "sent nothing for 4 s", "error")
            assert app.question_input.value == SHIPS  # the question is back, to try again

    asyncio.run(scenario())


def test_progress_on_a_pipe_is_plain_lines(capsys, monkeypatch):
    """stderr is not a terminal here (captured): no bar, no escape sequences, a line
    at most every PLAIN_EVERY_S seconds and the last one at 100 %. The interval is
    set to zero so the test needs no clock."""
    from rag.cli.output import ProgressBar

    monkeypatch.setattr(ProgressBar, "PLAIN_EVERY_S", 0.0)
    with ProgressBar() as bar:
        bar("reading", 1, 2)
        bar("embedding", 0, 10)
        bar("reading", 2, 2)
        bar("embedding", 10, 20)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "rag: progress: 1/2 files read" and len(lines) == 4, lines
    assert lines[-1].startswith("rag: progress: 2/2 files read, 10 passages embedded")

    monkeypatch.setattr(ProgressBar, "PLAIN_EVERY_S", 3600.0)
    with ProgressBar() as bar:
        for done in (0, 16, 32):
            bar("embedding", done, 32)
    assert capsys.readouterr().err == ""  # a short ingest prints nothing


def test_the_progress_line_says_files_passages_rate_and_time_left():
    """A clock the test moves: 2 of 8 files read made 100 passages, 50 embedded in
    10 s, so about 400 passages in all, 350 to go at 5/s: 70 s, "1 min"."""
    from rag.report.progress import IngestProgress

    now = [0.0]
    progress = IngestProgress(clock=lambda: now[0])
    assert progress.line() == ""
    progress.update("reading", 2, 8)
    progress.update("embedding", 0, 100)
    now[0] = 10.0
    progress.update("embedding", 50, 100)
    assert progress.line() == "2/8 files read, 50 passages embedded, 5/s, about 1 min left"
    progress.update("reading", 8, 8)
    progress.update("embedding", 400, 400)
    progress.update("indexing", 0, 1)
    assert progress.line() == "8/8 files read, 400 passages embedded, 40/s, writing the word index"


def test_rag_ask_counts_the_wait_for_a_silent_server(seed_index, silent_server, capsys, monkeypatch, tmp_path):
    """On a pipe, a plain line says what it waits for and for how long it will;
    then the timeout's one line. (In process, with the line due at once.)"""
    from rag import cli
    from rag.cli.output import ServerWait

    monkeypatch.setattr(ServerWait, "SHOW_AFTER_S", 0.0)
    (tmp_path / "rag.toml").write_text("llm_timeout_s = 2\n", encoding="utf-8")
    code = cli.main(["ask", "Who will accompany Starmer on his trip to Washington?", "--llm-url", silent_server,
                     "--index-dir", str(seed_index.index_dir), "--config", str(tmp_path / "rag.toml")])
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 2, lines
    assert lines[0].startswith(f"rag: waiting for the model server at {silent_server}: 0 s so far")
    assert "given up after 2 s of silence" in lines[0]
    assert lines[1].startswith("rag: error:") and "sent nothing for 2 s" in lines[1]


def test_files_that_change_or_vanish_during_an_ingest(tmp_path, embedder_factory):
    """A file rewritten after the ingest planned it is recorded as it was read (so
    writing the planned version back is seen as a change), and a folder deleted
    mid-ingest is one line per file, its files' passages removed by the next
    ingest. The changes are made from the progress callback, after the first file
    is read and before the others are: the same moment every run."""
    from rag.index.manifest import content_hash
    from rag.index.manifest import read_manifest
    from rag.ingest.pipeline import ingest_paths

    docs = tmp_path / "docs"
    (docs / "later").mkdir(parents=True)
    first, second, third = docs / "a.txt", docs / "b.txt", docs / "later" / "c.txt"
    first.write_text("The Oban ferry sailed at nine in 1901.\n", encoding="utf-8")
    second.write_text("The Crinan canal opened in 1801.\n", encoding="utf-8")
    third.write_text("The Lanark mill spun cotton from 1786.\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    ingest_paths([docs], settings, embedder_factory)

    for path in (first, second, third):  # all three to be read again
        path.write_text(path.read_text(encoding="utf-8").replace(".\n", " (revised).\n"), encoding="utf-8")
    planned = second.read_bytes()
    rewritten = "The Crinan canal was rebuilt in 1817.\n".encode("utf-8")

    def meanwhile(stage: str, done: int, total: int) -> None:
        if stage == "reading" and done == 1:
            second.write_bytes(rewritten)
            shutil.rmtree(docs / "later")

    report = ingest_paths([docs], settings, embedder_factory, meanwhile)
    assert [(Path(p.path).name, p.reason) for p in report.problems] == [("c.txt", "no such file")]
    manifest = read_manifest(settings.index_dir)
    assert manifest.files[str(second)].hash == content_hash(rewritten)  # what the index holds

    second.write_bytes(planned)
    again = ingest_paths([docs], settings, embedder_factory)
    assert [Path(s).name for s in again.updated] == ["b.txt"]  # not taken for unchanged
    assert [Path(s).name for s in again.removed] == ["c.txt"] and not again.problems


def test_permission_denied_on_a_file_and_on_the_index(tmp_path, embedder_factory):
    """A file the user may not read and an index they may not write. Root reads and
    writes anything, so when the suite runs as root (CI) the command runs without
    the capabilities that let it (setpriv drops DAC override), on files owned by
    `nobody`; otherwise the permission bits are taken away."""
    import shutil as shell
    import subprocess

    from rag.ingest.pipeline import ingest_paths

    docs, theirs = tmp_path / "docs", tmp_path / "theirs"
    docs.mkdir()
    (docs / "tides.txt").write_text("Tide tables for Oban were first printed in 1850.\n", encoding="utf-8")
    secret = docs / "secret.txt"
    secret.write_text("The secret harbour code is 4471.\n", encoding="utf-8")
    ingest_paths([docs], Settings(index_dir=theirs), embedder_factory)  # someone else's index
    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shell.which("setpriv"):
            pytest.skip("root reads every file, and setpriv (util-linux), which drops that power, is missing")
        for path in [secret, theirs, *theirs.rglob("*")]:
            os.chown(path, 65534, 65534, follow_symlinks=False)
        secret.chmod(0o600)
        no_override = "-dac_override,-dac_read_search"
        prefix = ["setpriv", "--bounding-set", no_override, "--inh-caps", no_override]
    else:
        secret.chmod(0o000)
        for path in [theirs, *theirs.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)

    def rag(*args: str) -> subprocess.CompletedProcess:
        return run(args, tmp_path, timeout=300, prefix=prefix)

    mine = rag("ingest", "docs", "--index-dir", "mine")
    assert_no_traceback(mine)
    assert mine.returncode == 1 and "added 1," in mine.stdout, mine.stderr
    assert f"rag: skipped {secret}: cannot read: permission denied" in mine.stderr.splitlines()

    denied = rag("ingest", "docs", "--index-dir", "theirs")
    assert denied.returncode == 2 and denied.stderr.count("\n") == 1, denied.stderr
    assert "permission denied" in denied.stderr and "internal error" not in denied.stderr

    search = rag("search", "When were the Oban tide tables printed?", "-k", "1", "--index-dir", "theirs")
    assert search.returncode == 0 and "1850" in search.stdout, search.stderr
    assert "is read-only, so its vector store was copied" in search.stderr

"""The Textual app driven by its Pilot, with the real pipeline: the seed index on
disk, the real MiniLM model, extractive answers and the tiny GGUF through
llama-cpp-python. Waits poll a condition (`wait_until`), never a fixed sleep."""
from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path


from rag.config import Settings
from tui.app import RagApp
from tui.screens import HelpScreen, PassageScreen
from tui.widgets import AnswerView, SourcesPanel

from helpers import APP_QUESTION as QUESTION
from helpers import app_on, ask, library_on, notes, status_text, wait_for_note
from helpers import app_wait_until as wait_until


def make_app(settings, embedder_factory, generator=None, extractive=False) -> RagApp:
    return app_on(settings, embedder_factory, generator, extractive)


def test_ask_see_the_checked_answer_and_its_sources_then_read_a_passage(index_copy, embedder_factory):
    async def scenario():
        app = make_app(index_copy, embedder_factory, extractive=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None, what="the index")
            assert "extractive" in status_text(app) and "5 documents · 91 passages" in status_text(app)
            assert ".rag" in status_text(app)
            view = await ask(pilot, app, QUESTION)
            assert "93 votes in favor" in view.markdown and "[1] ✓" in view.markdown
            assert "3 of 3 sentences supported" in str(view.summary.render())
            panel = app.query_one(SourcesPanel)
            assert panel.option_count == len(app.answers[-1].cited_sources) >= 1

            await pilot.press("f2")
            assert app.focused is panel
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, PassageScreen), what="the passage screen")
            screen = app.screen
            assert screen.source.number == 1 and screen.source.passage.paragraph == 6
            assert screen.highlighted == [
                "This resolution garnered 93 votes in favor, 18 against—including the US, Russia, Belarus, "
                "and North Korea—and witnessed 65 abstentions."]
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, PassageScreen), what="back to the chat")

            # A mouse click on a source opens it too.
            await pilot.click(SourcesPanel, offset=(3, 1))
            await wait_until(pilot, lambda: isinstance(app.screen, PassageScreen), what="a clicked source")

    asyncio.run(scenario())


def test_a_question_asked_while_the_index_loads_is_answered_when_it_is_in(index_copy, embedder):
    import threading

    release = threading.Event()

    def slow_factory(name, precision):
        release.wait(30)  # the embedding model "loads" until the test lets it
        return embedder

    async def scenario():
        app = make_app(index_copy, slow_factory, extractive=True)
        async with app.run_test(size=(100, 30)) as pilot:
            app.question_input.value = QUESTION
            await pilot.press("enter")
            view = app.query(AnswerView).last()
            assert app.pending is not None and "waiting for the index" in str(view.summary.render())
            assert "loading the index" in status_text(app)
            release.set()
            await wait_until(pilot, lambda: bool(app.answers) and app.answering is None, what="the answer shown")
            assert "93 votes in favor" in view.markdown and app.pending is None

    asyncio.run(scenario())


def test_a_local_model_streams_and_follow_ups_use_the_conversation(index_copy, embedder_factory, tiny_generator,
                                                                    monkeypatch):
    """The tiny GGUF's words are random; what is checked is the streaming, the mode
    and that the second question is sent with the first turn as history."""
    settings = index_copy.replace(max_tokens=120, temperature=0.8)
    app = make_app(settings, embedder_factory, generator=tiny_generator)
    # The tiny model is found through the same factory a real GGUF goes through.
    monkeypatch.setattr("rag.answer.generate.configured_model", lambda s: Path("tiny-test.gguf"))
    progress: list[str] = []
    original = app._answer_progress

    def spy(view, text, checks):
        progress.append(text)
        original(view, text, checks)

    app._answer_progress = spy

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                             what="index and model")
            assert status_text(app).lstrip().startswith("local · tiny-test.gguf")
            view = await ask(pilot, app, "What did Lammy say about troops?")
            answer = app.answers[-1]
            assert answer.mode == "local" and answer.text
            assert len(progress) >= 1 and len(progress[0]) < len(view.text)  # it arrived in pieces
            assert view.text.strip() == answer.text
            assert str(view.summary.render()).startswith(answer.citations.summary())
            await ask(pilot, app, "and what about Macron?")
            assert len(app.session.turns) == 2 and app.session.turns[0].question == "What did Lammy say about troops?"

    asyncio.run(scenario())


def test_a_model_crash_ends_one_answer_and_the_next_question_loads_the_model_again(index_copy, embedder_factory,
                                                                                  smollm2_gguf, monkeypatch):
    """Three questions in the app while the model's process segfaults on the second:
    the app stays up, the second answer ends saying the model stopped and gives the
    extractive answer, the third is the model's again, and the conversation holds all
    three. The crash is staged (RAG_STAGED_MODEL_CRASH=2: the runner reads address 0 on
    its second answer, a real SIGSEGV in native code) since no input is known that makes
    llama.cpp crash on a CPU without AMX. The model is loaded through the app's own
    factory, as `rag chat` loads it: SmolLM2 keeps it quick."""
    from rag.answer.model_process import STAGED_CRASH

    from conftest import CRASH_ANSWER_TOKENS, CRASH_QUESTIONS

    monkeypatch.setenv(STAGED_CRASH, "2")
    settings = index_copy.replace(model=str(smollm2_gguf), max_tokens=int(CRASH_ANSWER_TOKENS[1]))
    app = RagApp(settings, library=library_on(settings, embedder_factory))  # the model through the library's own loader

    async def scenario():
        async with app.run_test(size=(110, 32)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                             timeout=120, what="index and model")
            assert "extra buffers" in status_text(app)  # what llama.cpp runs with, for a crash report
            views = [await ask(pilot, app, question) for question in CRASH_QUESTIONS]
            return views, list(app.answers), app.library.model_starts, len(app.session.turns)

    views, answers, starts, turns = asyncio.run(scenario())
    first, stopped, third = answers
    for answer in (first, third):
        assert answer.mode == "local" and answer.model_stopped is None and answer.text
    assert stopped.model_stopped == "signal 11, SIGSEGV"
    assert "the model stopped unexpectedly (signal 11, SIGSEGV)" in views[1].markdown
    assert stopped.alternative is not None and stopped.alternative.mode == "extractive"
    assert "2.5" in stopped.alternative.text and "2.5" in views[1].markdown
    assert starts == 2 and turns == 3


def test_escape_stops_the_answer_and_gives_the_question_back(index_copy, embedder_factory, tiny_generator,
                                                              monkeypatch):
    # Mechanics only. The random model may pick its end token (or the refusal) at any
    # step, so it answers under a grammar that never completes: only Escape (or the
    # token limit) can end this answer.
    settings = index_copy.replace(max_tokens=1500, temperature=0.8, n_ctx=2048)
    app = make_app(settings, embedder_factory, generator=tiny_generator)
    monkeypatch.setattr("rag.answer.generate.configured_model", lambda s: Path("tiny-test.gguf"))
    stream = tiny_generator.stream

    def never_ending(messages, max_tokens, temperature, grammar=None, should_stop=None, shape=None):
        return stream(messages, max_tokens, temperature, "root ::= [a-z ] root\n", should_stop)
    monkeypatch.setattr(tiny_generator, "stream", never_ending)

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                             what="index and model")
            before = tiny_generator.last_stats
            app.question_input.value = "What did Lammy say about troops?"
            await pilot.press("enter")
            # The random model may write bytes that decode to no text for a while: wait
            # until it is generating, not for words.
            await wait_until(pilot, lambda: tiny_generator.last_stats is not before, what="generation to start")
            assert app.answering is not None, \
                f"the answer ended at once: {app.answers[-1].timings if app.answers else notes(app)}"
            worker = app.answering.worker
            await pilot.press("escape")
            assert app.answering is None and worker.is_cancelled
            assert app.question_input.value == "What did Lammy say about troops?"
            assert not app.query(AnswerView) and not app.answers
            # The model itself stopped early, at the next token.
            await wait_until(pilot, lambda: tiny_generator.last_stats.stopped_by == "cancelled",
                             timeout=30, what="the model to stop")
            assert tiny_generator.last_stats.answer_tokens < 1500

    asyncio.run(scenario())


def test_ingest_a_new_file_then_ask_about_it(index_copy, embedder_factory, tmp_path):
    note = tmp_path / "ferries.txt"
    note.write_text("Island ferry timetable\n\nThe night ferry to Skerryvore leaves Oban at 23:40 on "
                    "Thursdays and carries at most 212 passengers.\n", encoding="utf-8")

    app = make_app(index_copy, embedder_factory, extractive=True)
    shown: list[str] = []
    original = app._ingest_progress
    app._ingest_progress = lambda what: (shown.append(what), original(what))

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None, what="the index")
            app.question_input.value = f"/ingest {note}"
            await pilot.press("enter")
            await wait_until(pilot, lambda: not app.ingesting, what="the ingest")
            assert any(what.startswith(f"ingesting {note}: embed") for what in shown)  # progress was shown
            assert "6 documents" in status_text(app)
            await wait_for_note(pilot, app, "added 1")
            view = await ask(pilot, app, "When does the night ferry to Skerryvore leave?")
            assert "23:40" in view.markdown and "✓" in view.markdown
            assert app.answers[-1].cited_sources[0].passage.source.endswith("ferries.txt")

    asyncio.run(scenario())


def test_each_error_is_a_notification_and_the_question_is_kept(tmp_path, embedder_factory, index_copy):
    async def empty_index():
        app = make_app(Settings(index_dir=tmp_path / "empty"), embedder_factory, extractive=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.index_state == "missing", what="the missing index")
            await wait_for_note(pilot, app, "/ingest", "warning")
            app.question_input.value = QUESTION
            await pilot.press("enter")
            await wait_for_note(pilot, app, "no index", "error")
            assert app.question_input.value == QUESTION  # not lost

    async def missing_model():
        app = make_app(index_copy.replace(model="no-such-model.gguf"), embedder_factory)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.model_state == "failed", what="the model error")
            await wait_for_note(pilot, app, "no-such-model.gguf", "error")
            await wait_until(pilot, lambda: app.overview is not None, what="the index")
            view = await ask(pilot, app, QUESTION)  # still answers, extractively
            assert app.answers[-1].mode == "extractive" and "✓" in view.markdown

    async def failing_server():
        from helpers import free_port

        settings = index_copy.replace(llm_url=f"http://127.0.0.1:{free_port()}/v1")
        app = make_app(settings, embedder_factory)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                             what="index and remote model")
            view = await ask(pilot, app, QUESTION)
            await wait_for_note(pilot, app, "cannot reach the model server", "error")
            assert "failed" in str(view.summary.render())
            assert app.question_input.value == QUESTION

    async def bad_ingest_path():
        app = make_app(index_copy, embedder_factory, extractive=True)
        async with app.run_test(size=(100, 30)) as pilot:
            app.question_input.value = "/ingest no/such/folder"
            await pilot.press("enter")
            await wait_for_note(pilot, app, "no/such/folder: no such file or folder", "error")
            assert app.question_input.value == "/ingest no/such/folder" and not app.ingesting
            app.question_input.value = "/frobnicate"
            await pilot.press("enter")
            await wait_for_note(pilot, app, "unknown command /frobnicate", "error")

    for scenario in (empty_index, missing_model, failing_server, bad_ingest_path):
        asyncio.run(scenario())


def test_keys_and_commands(index_copy, embedder_factory, tmp_path):
    async def scenario():
        app = make_app(index_copy, embedder_factory, extractive=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None, what="the index")
            await ask(pilot, app, QUESTION)
            await ask(pilot, app, "What did Lammy tell MPs about sending troops?")
            # Up recalls earlier questions, down comes back.
            await pilot.press("up")
            assert app.question_input.value == "What did Lammy tell MPs about sending troops?"
            await pilot.press("up")
            assert app.question_input.value == QUESTION
            await pilot.press("down", "down")
            assert app.question_input.value == ""
            # Copy the answer without borders or marks.
            await pilot.press("ctrl+y")
            assert app.clipboard == app.answers[-1].text and "✓" not in app.clipboard
            # Export the last answer and the whole chat as briefings.
            app.question_input.value = "/export last.md"
            await pilot.press("enter")
            assert (tmp_path / "last.md").read_text().startswith("# What did Lammy tell MPs")
            app.question_input.value = "/export all.md --all"
            await pilot.press("enter")
            whole = (tmp_path / "all.md").read_text()
            assert whole.count("## Sources") == 2 and whole.startswith(f"# {QUESTION}")
            app.question_input.value = f"/export {tmp_path}/no/such/dir/x.md"
            await pilot.press("enter")
            await wait_for_note(pilot, app, "cannot write", "error")
            # Help lists every key; /clear starts again.
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            app.question_input.value = "/clear"
            await pilot.press("enter")
            assert not app.query(AnswerView) and not app.session.answers
            await pilot.press("ctrl+q")
        assert app.return_code == 0

    asyncio.run(scenario())


def test_a_pdf_passage_shows_its_page_and_section(tmp_path, embedder_factory):
    """A PDF made by reportlab (tests/document_fixtures.py), ingested for real."""
    import document_fixtures as fx
    from rag.ingest.pipeline import ingest_paths

    fx.report_pdf(tmp_path / "report.pdf")
    settings = Settings(index_dir=Path(".rag"))
    ingest_paths([tmp_path / "report.pdf"], settings, embedder_factory)

    async def scenario():
        app = make_app(settings, embedder_factory, extractive=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None, what="the index")
            await ask(pilot, app, "How many ships did the keeper at Cape Wrath count?")
            panel = app.query_one(SourcesPanel)
            assert ", p. 3, ¶" in str(panel.get_option_at_index(0).prompt)
            await pilot.press("f2", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, PassageScreen), what="the passage screen")
            where = str(app.screen.query_one("#passage-where").render())
            assert "page 3" in where and "§ 2 Traffic" in where and "report.pdf" in where

    asyncio.run(scenario())


def test_the_chat_app_quits_when_its_terminal_closes(seed_index, tmp_path):
    """`rag chat` in a real terminal (a pty), started by a shell as `make chat`
    starts it; then the terminal closes, as a closed tmux pane closes it. The
    shell gets SIGHUP and dies without passing it on, so the app must notice the
    hang-up itself: before, it stayed behind reading end-of-file at 93 % CPU."""
    import os
    import pty
    import select
    import signal
    import sys

    marker = str(tmp_path / "hangup-index")  # names this test's app among the processes
    shutil.copytree(seed_index.index_dir, marker)
    command = f"'{sys.executable}' -m launcher chat --extractive --index-dir '{marker}'; true"  # the shell stays
    pid, master = pty.fork()
    if pid == 0:  # the child: a session leader with the pty as its terminal
        os.execv("/bin/sh", ["/bin/sh", "-c", command])

    def apps() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
        return found

    seen = b""
    deadline = time.monotonic() + 90
    try:
        while b"Ask a question" not in seen.replace(b"\x1b", b""):  # the welcome line is drawn
            assert time.monotonic() < deadline, f"the app did not start: {seen[-500:]!r}"
            if select.select([master], [], [], 1.0)[0]:
                seen += os.read(master, 65536)
        running = apps()
        assert running, "the app's process was not found"
        os.close(master)  # the terminal hangs up
        deadline = time.monotonic() + 30
        while apps() and time.monotonic() < deadline:
            select.select([], [], [], 0.2)  # polling the process table, not waiting for a race
        left = apps()
        assert not left, "the chat app kept running after its terminal closed"
    finally:
        for stray in apps():
            os.kill(stray, signal.SIGKILL)
        os.waitpid(pid, 0)

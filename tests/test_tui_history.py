"""The chat app's conversations and scope, driven by its Pilot: answers that survive
quitting, /history, /open and /new, a cited passage changed since, --no-history,
a damaged history file, and /only with /all. Real index, model and store;
extractive answers (deterministic)."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import AsyncIterator

from textual.pilot import Pilot

from rag.config import Settings
from rag.chat.session import ChatOptions
from rag.chat.history import HISTORY_FILE
from tui.app import RagApp
from tui.widgets import AnswerView, SourcesPanel

from helpers import APP_QUESTION as QUESTION
from helpers import app_wait_until as wait_until
from helpers import app_on, ask, notes, status_text, wait_for_note

FOLLOW_UP = "What did Lammy tell MPs about sending troops?"


def open_app(settings, embedder_factory, **options) -> RagApp:
    return app_on(settings, embedder_factory, options=ChatOptions(extractive=True, **options))


@contextlib.asynccontextmanager
async def running(settings, embedder_factory, size=(120, 40), **options) -> AsyncIterator[tuple[RagApp, Pilot]]:
    """The app on `settings`, its index loaded."""
    app = open_app(settings, embedder_factory, **options)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.overview is not None, what="the index")
        await pilot.pause()
        yield app, pilot


def shown_answers(app) -> list[AnswerView]:
    return [v for v in app.query(AnswerView) if v.answer is not None]


def test_two_answers_survive_quitting_with_their_marks_and_sources(index_copy, embedder_factory):
    async def first_day():
        async with running(index_copy, embedder_factory) as (app, pilot):
            await ask(pilot, app, QUESTION)
            await ask(pilot, app, FOLLOW_UP)
            await pilot.press("ctrl+q")

    async def next_day():
        async with running(index_copy, embedder_factory) as (app, pilot):
            await wait_until(pilot, lambda: len(shown_answers(app)) == 2, what="the reopened answers")
            await wait_for_note(pilot, app, "2 earlier turns")
            first, second = shown_answers(app)
            assert "93 votes in favor" in first.markdown and "[1] ✓" in first.markdown
            assert "supported" in str(first.summary.render()) and "extractive" in str(first.summary.render())
            assert second.answer.question == FOLLOW_UP and "✓" in second.markdown
            panel = app.query_one(SourcesPanel)
            assert panel.option_count == len(second.answer.shown_sources) >= 1  # the last answer's sources
            # A follow-up is asked in the reopened conversation's context.
            view = await ask(pilot, app, "and what did he say about Macron?")
            answer = app.answers[-1]
            assert view.answer == answer and "troops" in answer.search_query
            assert len(app.session.answers) == 3

    asyncio.run(first_day())
    asyncio.run(next_day())
    assert (index_copy.index_dir / HISTORY_FILE).exists()


def test_history_open_and_new(index_copy, embedder_factory):
    async def scenario():
        async with running(index_copy, embedder_factory) as (app, pilot):
            await ask(pilot, app, QUESTION)
            first = app.session.conversation_id
            app.question_input.value = "/new"
            await pilot.press("enter")
            assert not app.query(AnswerView) and app.session.answers == []
            await ask(pilot, app, FOLLOW_UP)
            second = app.session.conversation_id
            assert second != first

            app.question_input.value = "/history"
            await pilot.press("enter")
            await pilot.pause()
            listing = str(app.query(".history").last().render())
            assert QUESTION in listing and FOLLOW_UP in listing
            assert f"*{second:>3}" in listing  # this conversation is marked

            app.question_input.value = f"/open {first}"
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(shown_answers(app)) == 1, what="the reopened conversation")
            assert shown_answers(app)[0].answer.question == QUESTION and app.session.conversation_id == first

            app.question_input.value = "/open 99"
            await pilot.press("enter")
            await wait_for_note(pilot, app, "no conversation 99", "error")
            assert app.question_input.value == "/open 99" and app.session.conversation_id == first

    asyncio.run(scenario())


def test_a_cited_passage_changed_since_is_shown_as_changed(tmp_path, embedder_factory):
    from rag.ingest.pipeline import ingest_paths

    corpus = tmp_path / "notes"
    corpus.mkdir()
    bridge = corpus / "bridge.txt"
    bridge.write_text("Bridge works\n\nThe Vale bridge toll rises to 7 euros in March.\n\n"
                      "The works on the Vale bridge end in June.\n", encoding="utf-8")
    (corpus / "ferry.txt").write_text("Ferry news\n\nThe ferry to Skye runs twice a day in winter.\n",
                                      encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    ingest_paths([corpus], settings, embedder_factory)
    question = "How much is the Vale bridge toll in March?"

    async def ask_once():
        async with running(settings, embedder_factory) as (app, pilot):
            view = await ask(pilot, app, question)
            assert "7 euros" in view.markdown and "✓" in view.markdown

    asyncio.run(ask_once())
    bridge.write_text("Bridge works\n\nThe Vale bridge toll rises to 9 euros in March.\n\n"
                      "The works on the Vale bridge end in June.\n", encoding="utf-8")
    ingest_paths([corpus], settings, embedder_factory)

    async def reopen():
        async with running(settings, embedder_factory) as (app, pilot):
            await wait_until(pilot, lambda: shown_answers(app) and "changed since"
                             in str(shown_answers(app)[0].summary.render()), what="the changed-source note")
            view = shown_answers(app)[0]
            assert "7 euros" in view.markdown  # the answer as it was, with its evidence as it was
            assert "its document has changed since this answer cited it" in str(view.summary.render())
            assert view.has_class("has-changed-sources")
            panel = app.query_one(SourcesPanel)
            assert "changed since" in str(panel.get_option_at_index(0).prompt)

    asyncio.run(reopen())


def test_no_history_leaves_no_file(index_copy, embedder_factory):
    async def scenario():
        async with running(index_copy.replace(history=False), embedder_factory, size=(100, 30)) as (app, pilot):
            await ask(pilot, app, QUESTION)
            assert app.answers
            app.question_input.value = "/history"
            await pilot.press("enter")
            await wait_for_note(pilot, app, "keeps no history")

    asyncio.run(scenario())
    assert not (index_copy.index_dir / HISTORY_FILE).exists()


def test_a_corrupt_history_gives_a_notification_and_an_empty_chat(index_copy, embedder_factory):
    path = index_copy.index_dir / HISTORY_FILE
    path.write_bytes(b"\x00not sqlite\x00" * 512)
    before = path.read_bytes()

    async def scenario():
        async with running(index_copy, embedder_factory, size=(100, 30)) as (app, pilot):
            await wait_for_note(pilot, app, "unreadable", "error")
            assert not app.query(AnswerView)
            view = await ask(pilot, app, QUESTION)  # and the chat works
            assert "93 votes in favor" in view.markdown

    asyncio.run(scenario())
    assert path.read_bytes() == before  # left as it was, for the user to look at


def test_only_limits_answers_shows_in_the_status_bar_and_survives_a_follow_up(index_copy, embedder_factory):
    async def scenario():
        async with running(index_copy, embedder_factory) as (app, pilot):
            app.question_input.value = "/only 001_*"
            await pilot.press("enter")
            await pilot.pause()
            assert "only: 001_*" in status_text(app)
            await ask(pilot, app, "What did Macron say?")
            assert {Path(h.passage.source).name[:4] for h in app.answers[-1].hits} == {"001_"}
            await ask(pilot, app, "and Trump?")
            assert {Path(h.passage.source).name[:4] for h in app.answers[-1].hits} == {"001_"}

            app.question_input.value = "/only no-such-article*"
            await pilot.press("enter")
            await wait_for_note(pilot, app, "matches no document", "error")
            assert "Starmer" in notes(app, "error")[-1] and "only: 001_*" in status_text(app)

            app.question_input.value = "/all"
            await pilot.press("enter")
            await pilot.pause()
            assert "only:" not in status_text(app)
            await ask(pilot, app, "What did Macron say?")
            assert len({h.passage.source for h in app.answers[-1].hits}) > 1

    asyncio.run(scenario())


def test_only_from_the_command_line_reaches_the_app(index_copy, embedder_factory):
    async def scenario():
        async with running(index_copy, embedder_factory, only=("004_*",)) as (app, pilot):
            assert "only: 004_*" in status_text(app)
            await ask(pilot, app, "What did Macron say?")
            assert {Path(h.passage.source).name[:4] for h in app.answers[-1].hits} == {"004_"}

    asyncio.run(scenario())

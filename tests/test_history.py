"""Saved conversations: the record of an answer, the SQLite store, `ChatSession`
reopening and scoping, and `rag history` / `rag chat --plain` as a user runs them.
Real seed index (copied, so it can be written), real MiniLM model, extractive answers."""
from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from rag.chat.record import answer_from_record, answer_to_record
from rag.config import Settings
from rag.chat.session import ChatOptions, ChatSession
from rag.chat.history import HISTORY_FILE
from rag.types.answers import Answer
from rag.types.errors import HistoryError, ScopeError
from rag.library import source_states
from rag.types.answers import CHANGED, GONE

from helpers import run, session_on

QUESTION = "How many votes did the first UN resolution get?"
FOLLOW_UP = "What did Lammy tell MPs about sending troops?"


@pytest.fixture
def index_copy(seed_index, tmp_path) -> Settings:
    shutil.copytree(seed_index.index_dir, tmp_path / "index")
    return Settings(index_dir=tmp_path / "index")


def answered(session: ChatSession, question: str) -> Answer:
    return [item for item in session.ask(question, extractive=True) if isinstance(item, Answer)][-1]


def test_an_answer_survives_its_record_whole(seed_retriever, seed_index):
    from rag.wiring import open_assistant

    answer = [a for a in open_assistant(seed_index, seed_retriever).ask(QUESTION) if isinstance(a, Answer)][-1]
    assert answer.citations.checks and answer.sources
    record = json.loads(json.dumps(answer_to_record(answer)))  # as stored: through JSON text
    assert answer_from_record(record) == dataclasses.replace(answer, hits=())
    # Each passage is written once, with its text and place as they were.
    assert set(record["passages"]) >= {s.passage.id for s in answer.sources}
    assert all(p["text"] for p in record["passages"].values())


def test_a_conversation_is_saved_as_it_goes_and_reopened(index_copy, embedder_factory):
    session = session_on(index_copy, embedder_factory)
    first = answered(session, QUESTION)
    answered(session, FOLLOW_UP)
    assert (index_copy.index_dir / HISTORY_FILE).exists()

    again = session_on(index_copy, embedder_factory)  # as `rag chat` opens the next day: the last conversation
    assert again.conversation_id == session.conversation_id
    assert [a.question for a in again.answers] == [QUESTION, FOLLOW_UP]
    assert again.answers[0].text == first.text and again.answers[0].summary == first.summary
    assert again.turns[-1].question == FOLLOW_UP  # follow-ups are asked in its context

    fresh = session_on(index_copy, embedder_factory, ChatOptions(new=True))
    assert fresh.answers == [] and fresh.conversation_id is None
    answered(fresh, "Who is Keir Starmer?")
    listed = fresh.conversations()
    assert [(c.id, c.turns, c.first_question) for c in listed] == [
        (fresh.conversation_id, 1, "Who is Keir Starmer?"), (session.conversation_id, 2, QUESTION)]
    fresh.reopen(session.conversation_id)
    assert len(fresh.answers) == 2
    with pytest.raises(HistoryError, match="no conversation 99"):
        fresh.reopen(99)


def test_the_scope_is_kept_with_the_conversation_and_checked(index_copy, embedder_factory):
    session = session_on(index_copy, embedder_factory, ChatOptions(only=("001_*",)))
    answer = answered(session, "What did Macron say?")
    assert {Path(h.passage.source).name[:4] for h in answer.hits} == {"001_"}
    follow = answered(session, "and what about Trump?")
    assert {Path(h.passage.source).name[:4] for h in follow.hits} == {"001_"}  # the scope survives a follow-up
    with pytest.raises(ScopeError):
        session.limit_to(["nothing-like-this*"])
    assert session.scope.patterns == ("001_*",)  # unchanged by the refused pattern
    reopened = session_on(index_copy, embedder_factory)
    assert reopened.scope.patterns == ("001_*",)
    # A flag that picks nothing is refused before it is saved over the conversation's scope.
    flagged = session_on(index_copy, embedder_factory, ChatOptions(only=("nothing-like-this*",)))
    with pytest.raises(ScopeError):
        answered(flagged, "What did Macron say?")
    assert session_on(index_copy, embedder_factory).scope.patterns == ("001_*",)
    session.include_everything()
    assert session_on(index_copy, embedder_factory).scope.everything


def test_no_history_keeps_nothing_on_disk(index_copy, embedder_factory):
    settings = index_copy.replace(history=False)
    session = session_on(settings, embedder_factory)
    answered(session, QUESTION)
    assert len(session.answers) == 1 and session.conversations() == []
    assert not (settings.index_dir / HISTORY_FILE).exists()


@pytest.mark.parametrize("damage", ["garbage", "newer"])
def test_a_damaged_history_is_reported_once_and_left_as_it_is(index_copy, embedder_factory, damage):
    path = index_copy.index_dir / HISTORY_FILE
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all" * 100)
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT INTO meta VALUES ('format', '99')")
    before = path.read_bytes()
    session = session_on(index_copy, embedder_factory)
    problem = session.take_problem()
    assert isinstance(problem, HistoryError) and session.take_problem() is None  # once
    assert str(path) in str(problem) and "\n" not in str(problem)
    assert ("newer version" in str(problem)) == (damage == "newer")
    answered(session, QUESTION)  # the chat still works, unsaved
    assert len(session.answers) == 1 and path.read_bytes() == before


def test_a_cited_passage_that_changed_or_went_is_told_apart(seed_retriever, seed_index):
    from rag.wiring import open_assistant

    answer = [a for a in open_assistant(seed_index, seed_retriever).ask(QUESTION) if isinstance(a, Answer)][-1]
    index = seed_retriever.index
    cited = answer.shown_sources[0]
    assert source_states(answer, index.live_ids, index.manifest.files) == {}
    edited = index.live_ids - {cited.passage.id}  # the file was edited: this passage is no longer there
    assert source_states(answer, edited, index.manifest.files)[cited.number] == CHANGED
    removed = {s: e for s, e in index.manifest.files.items() if s != cited.passage.source}
    assert source_states(answer, edited, removed)[cited.number] == GONE


def test_history_from_the_command_line(seed_index, tmp_path):
    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    first = run(["chat", "--plain", "--extractive"], tmp_path, input=f"{QUESTION}\n{FOLLOW_UP}\n")
    assert first.returncode == 0, first.stderr
    again = run(["chat", "--plain", "--extractive"], tmp_path,
                 input="/history\n/new\nWho is Keir Starmer?\n/export plain.md\n/QUIT\nnot asked\n")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "plain.md").read_text().startswith("# Who is Keir Starmer?")  # the app's commands, parsed alike
    assert "not asked" not in again.stdout
    assert "conversation 1, reopened: 2 earlier turns" in again.stdout
    assert "new conversation" in again.stdout

    listed = json.loads(run(["history", "--json"], tmp_path).stdout)["conversations"]
    assert [(c["id"], c["turns"]) for c in listed] == [(2, 1), (1, 2)]
    assert listed[1]["first_question"] == QUESTION
    table = run(["history"], tmp_path)
    assert table.returncode == 0 and QUESTION[:40] in table.stdout and "2 turns" in table.stdout

    exported = run(["history", "export", "1", "-o", "brief.md"], tmp_path)
    assert exported.returncode == 0, exported.stderr
    brief = (tmp_path / "brief.md").read_text()
    assert brief.startswith(f"# {QUESTION}") and brief.count("## Sources") == 2 and "93 votes in favor" in brief

    missing = run(["history", "export", "7"], tmp_path)
    assert missing.returncode == 2 and "no conversation 7" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert run(["history", "delete", "2"], tmp_path).returncode == 0
    assert [c["id"] for c in json.loads(run(["history", "--json"], tmp_path).stdout)["conversations"]] == [1]

    private = tmp_path / "private"
    shutil.copytree(seed_index.index_dir, private)
    quiet = run(["chat", "--plain", "--extractive", "--no-history", "--index-dir", str(private)], tmp_path,
                 input=f"{QUESTION}\n")
    assert quiet.returncode == 0 and "✓" in quiet.stdout
    assert not (private / HISTORY_FILE).exists()


def test_a_chat_follows_an_ingest_made_by_another_process(index_copy, embedder_factory, tmp_path):
    """A chat left open while `rag ingest` runs in a second terminal: before, its next
    search failed with Chroma's "Error finding id" (its in-process client kept the
    store as it first loaded it). It answers from the new generation instead."""
    session = session_on(index_copy, embedder_factory)
    answered(session, QUESTION)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "bridge.txt").write_text("Bridge works\n\nThe Vale bridge toll rises to 7 euros in March.\n",
                                      encoding="utf-8")
    other = run(["ingest", str(notes), "--index-dir", str(index_copy.index_dir)], tmp_path)
    assert other.returncode == 0, other.stderr
    answer = answered(session, "How much is the Vale bridge toll in March?")
    assert "7 euros" in answer.text and answer.cited_sources[0].passage.source == str(notes / "bridge.txt")
    assert session.library.open().documents == 6
    assert len(session_on(index_copy, embedder_factory).answers) == 2  # and both turns were saved

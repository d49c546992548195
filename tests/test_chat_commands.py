"""Slash commands: one table parsed and dispatched by both front ends."""
from __future__ import annotations

import pytest

from rag.chat.commands import TABLE, CommandError, CommandName, check_handlers, dispatch, parse_command
from rag.config import Settings

from helpers import app_on, session_on


@pytest.mark.parametrize("line, name, argument, whole, patterns", [
    ("/export brief.md --all", CommandName.EXPORT, "brief.md", True, ()),
    ("/export 'my brief.md'", CommandName.EXPORT, "my brief.md", False, ()),
    ("/open 3", CommandName.OPEN, "3", False, ()),
    ("/only report.pdf Macron", CommandName.ONLY, "", False, ("report.pdf", "Macron")),
    ("/CLEAR", CommandName.NEW, "", False, ()),
    ("/exit", CommandName.QUIT, "", False, ()),
    ("/ingest seeds/", CommandName.INGEST, "seeds/", False, ()),
])
def test_commands_parse(line, name, argument, whole, patterns):
    command = parse_command(line)
    assert (command.name, command.argument, command.whole_chat, command.patterns) == (name, argument, whole,
                                                                                        patterns)


@pytest.mark.parametrize("line, message", [
    ("/open x", "usage: /open N (the number /history shows)"),
    ("/export", "usage: /export FILE [--all]"),
    ("/new now", "/new takes no argument"),
    ("/frobnicate", "unknown command /frobnicate; /help lists the commands"),
    ("/ingest", "usage: /ingest PATH (a file or a folder; quote a path with spaces)"),
])
def test_a_command_typed_wrong_says_how(line, message):
    with pytest.raises(CommandError) as raised:
        parse_command(line)
    assert str(raised.value) == message


def test_every_command_is_in_the_table_once():
    assert sorted(spec.name for spec in TABLE) == sorted(CommandName)


def test_both_front_ends_handle_every_command(tmp_path):
    from rag.cli.chat import command_handlers
    from tui.app import RagApp

    app = RagApp(Settings(index_dir=tmp_path / "index"))
    for handlers in (app.command_handlers("/help"), command_handlers(app.session)):
        check_handlers(handlers)
        assert set(handlers) == set(CommandName)
    with pytest.raises(KeyError, match="/quit"):
        check_handlers({name: None for name in CommandName if name != CommandName.QUIT})


def test_the_plain_loop_dispatches_through_the_table(tmp_path, capsys, embedder_factory):
    from rag.cli.chat import command_handlers
    session = session_on(Settings(index_dir=tmp_path / "index"), embedder_factory)
    handlers = command_handlers(session)
    assert dispatch(parse_command("/help"), handlers) is True
    assert "/history" in capsys.readouterr().out
    assert dispatch(parse_command("/quit"), handlers) is False





def test_files_lists_each_files_state_in_both_front_ends(tmp_path, capsys, embedder_factory):
    """/files: the plain loop prints what `rag status --files` prints; the app (driven
    by its Pilot) shows the same lines in the chat."""
    import asyncio

    from rag.cli.chat import command_handlers
    from rag.ingest.pipeline import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("High tide at Brest is at 06:12 on Monday.\n", encoding="utf-8")
    (docs / "ferry.txt").write_text("The ferry to Ushant leaves at nine.\n", encoding="utf-8")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / ".rag")
    ingest_paths([docs], settings, embedder_factory)
    (docs / "ferry.txt").unlink()  # gone since it was read
    session = session_on(settings, embedder_factory)
    assert dispatch(parse_command("/files"), command_handlers(session)) is True
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "files: 1 indexed, 1 skipped, 0 changed, 1 gone", out
    assert out[1].startswith("skipped") and "empty.txt" in out[1] and "empty file" in out[1]
    assert out[2].startswith("gone") and "ferry.txt" in out[2]
    assert out[3].startswith("indexed") and "tides.txt" in out[3] and "1 passages" in out[3] and "read " in out[3]

    async def shown() -> str:
        app = app_on(settings, embedder_factory)
        async with app.run_test() as pilot:
            app.run_command("/files")
            await pilot.pause()
            return "\n".join(str(w.render()) for w in app.query(".history"))

    text = asyncio.run(shown())
    assert "Files in the index: 1 indexed, 1 skipped, 0 changed, 1 gone" in text, text
    assert "empty file" in text and "ferry.txt" in text

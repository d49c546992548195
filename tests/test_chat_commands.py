"""Slash commands: one table parsed and dispatched by both front ends."""
from __future__ import annotations

import pytest

from rag.chat.commands import TABLE, CommandError, CommandName, check_handlers, dispatch, parse_command
from rag.config import Settings


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


def test_the_plain_loop_dispatches_through_the_table(tmp_path, capsys):
    from rag.cli.chat import command_handlers
    from rag.wiring import open_session

    session = open_session(Settings(index_dir=tmp_path / "index"))
    handlers = command_handlers(session)
    assert dispatch(parse_command("/help"), handlers) is True
    assert "/history" in capsys.readouterr().out
    assert dispatch(parse_command("/quit"), handlers) is False




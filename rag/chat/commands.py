"""Slash commands typed in a chat: one table that both front ends (the app's input
line and `rag chat --plain`'s prompt) parse and dispatch with. Each front end gives
a handler for every command in the table (`check_handlers`, which the tests run on
both front ends' tables; a missing one would be a `KeyError`, never a command that
silently does nothing); what a handler does is the front end's."""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable, Mapping, TypeVar

from rag.types.errors import QueryError


class CommandName(StrEnum):
    INGEST = "ingest"
    SOURCES = "sources"
    FILES = "files"
    ONLY = "only"
    ALL = "all"
    HISTORY = "history"
    OPEN = "open"
    NEW = "new"
    EXPORT = "export"
    HELP = "help"
    QUIT = "quit"


class Takes(StrEnum):
    """What a command takes after its name."""

    NOTHING = "nothing"
    PATH = "path"  # one path (quoted when it has spaces)
    NUMBER = "number"  # one whole number
    PATTERNS = "patterns"  # one or more patterns
    PATH_AND_ALL = "path, --all"  # one path, and --all for the whole chat


@dataclass(frozen=True)
class CommandSpec:
    name: CommandName
    takes: Takes
    usage: str  # as the help screen and usage errors show it
    help: str
    aliases: tuple[str, ...] = ()
    example: str = ""  # added to the usage error
    rows: tuple[tuple[str, str], ...] = ()  # the help screen's rows, when not (usage, help)


TABLE: tuple[CommandSpec, ...] = (
    CommandSpec(CommandName.INGEST, Takes.PATH, "/ingest PATH",
                "add or update files and folders in the index, with progress", example="(a file or a folder; quote a path with spaces)"),
    CommandSpec(CommandName.SOURCES, Takes.NOTHING, "/sources", "show the sources panel and move to it"),
    CommandSpec(CommandName.FILES, Takes.NOTHING, "/files",
                "every file the index knows: indexed, skipped (and why), changed on disk since, or gone"),
    CommandSpec(CommandName.ONLY, Takes.PATTERNS, "/only PATTERN…",
                "answer from some documents only: a glob on the path, or words of the path or title",
                example="(e.g. /only report.pdf, /only 'seeds/*', /only Macron); /all lifts it"),
    CommandSpec(CommandName.ALL, Takes.NOTHING, "/all", "answer from every document again"),
    CommandSpec(CommandName.HISTORY, Takes.NOTHING, "/history", "list the saved conversations"),
    CommandSpec(CommandName.OPEN, Takes.NUMBER, "/open N", "reopen saved conversation N",
                example="(the number /history shows)"),
    CommandSpec(CommandName.NEW, Takes.NOTHING, "/new",
                "start a new conversation (the last one stays saved; /clear does the same)", aliases=("clear",)),
    CommandSpec(CommandName.EXPORT, Takes.PATH_AND_ALL, "/export FILE [--all]",
                "write the last answer, or the whole chat, as a Markdown briefing",
                rows=(("/export FILE", "write the last answer as a Markdown briefing with its sources"),
                      ("/export FILE --all", "write the whole chat as a briefing"))),
    CommandSpec(CommandName.HELP, Takes.NOTHING, "/help", "keys and commands"),
    CommandSpec(CommandName.QUIT, Takes.NOTHING, "/quit", "leave", aliases=("exit",)),
)
_BY_NAME = {name: spec for spec in TABLE for name in (spec.name.value, *spec.aliases)}

# (usage, what it does): the help screen lists these.
COMMANDS = tuple(row for spec in TABLE for row in (spec.rows or ((spec.usage, spec.help),)))


class CommandError(QueryError):
    """A command that cannot be run as typed; the message is for the user."""


@dataclass(frozen=True)
class Command:
    name: CommandName
    argument: str = ""  # the path for ingest and export, the number for open
    whole_chat: bool = False  # export --all
    patterns: tuple[str, ...] = ()  # only


def parse_command(line: str) -> Command:
    """'/export brief.md --all' -> Command(EXPORT, 'brief.md', True)."""
    try:
        words = shlex.split(line.strip())
    except ValueError as exc:
        raise CommandError(f"cannot read the command: {exc}") from None
    typed = words[0].lstrip("/").lower() if words else ""
    rest = words[1:]
    spec = _BY_NAME.get(typed)
    if spec is None:
        raise CommandError(f"unknown command /{typed}; /help lists the commands")

    def usage() -> CommandError:
        return CommandError(f"usage: {spec.usage}" + (f" {spec.example}" if spec.example else ""))

    if spec.takes == Takes.NOTHING:
        if rest:
            raise CommandError(f"/{typed} takes no argument")
        return Command(spec.name)
    if spec.takes == Takes.PATH:
        if len(rest) != 1:
            raise usage()
        return Command(spec.name, rest[0])
    if spec.takes == Takes.NUMBER:
        if len(rest) != 1 or not rest[0].isdigit():
            raise usage()
        return Command(spec.name, rest[0])
    if spec.takes == Takes.PATTERNS:
        if not rest:
            raise usage()
        return Command(spec.name, patterns=tuple(rest))
    whole = "--all" in rest
    paths = [w for w in rest if w != "--all"]
    if len(paths) != 1:
        raise usage()
    return Command(spec.name, paths[0], whole)


Result = TypeVar("Result")


def dispatch(command: Command, handlers: Mapping[CommandName, Callable[[Command], Result]]) -> Result:
    """Run `command` with the front end's handler for it."""
    return handlers[command.name](command)


def check_handlers(handlers: Mapping[CommandName, object]) -> None:
    """A front end's table must handle every command (tests/test_chat_commands.py)."""
    missing = [name.value for name in CommandName if name not in handlers]
    if missing:
        raise KeyError(f"no handler for /{', /'.join(missing)}")

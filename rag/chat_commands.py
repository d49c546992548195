"""Slash commands typed in a chat: the app's input line and `rag chat --plain`'s
prompt read them with the same parser. Pure: parsing only; each front end acts."""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from rag.types.errors import QueryError

# (usage, what it does): the help screen lists these.
COMMANDS = (
    ("/ingest PATH", "add or update files and folders in the index, with progress"),
    ("/sources", "show the sources panel and move to it"),
    ("/only PATTERN…", "answer from some documents only: a glob on the path, or words of the path or title"),
    ("/all", "answer from every document again"),
    ("/history", "list the saved conversations"),
    ("/open N", "reopen saved conversation N"),
    ("/new", "start a new conversation (the last one stays saved; /clear does the same)"),
    ("/export FILE", "write the last answer as a Markdown briefing with its sources"),
    ("/export FILE --all", "write the whole chat as a briefing"),
    ("/help", "keys and commands"),
    ("/quit", "leave"),
)


class CommandError(QueryError):
    """A command that cannot be run as typed; the message is for the user."""


@dataclass(frozen=True)
class Command:
    name: str  # "ingest", "sources", "new", "export", "help", "quit", "history", "open", "only", "all"
    argument: str = ""  # the path for ingest and export, the number for open
    whole_chat: bool = False  # export --all
    patterns: tuple[str, ...] = ()  # only


def parse_command(line: str) -> Command:
    """'/export brief.md --all' -> Command('export', 'brief.md', True)."""
    try:
        words = shlex.split(line.strip())
    except ValueError as exc:
        raise CommandError(f"cannot read the command: {exc}") from None
    name = words[0].lstrip("/").lower() if words else ""
    rest = words[1:]
    aliases = {"exit": "quit", "clear": "new"}
    if name in ("sources", "clear", "new", "help", "quit", "exit", "history", "all"):
        if rest:
            raise CommandError(f"/{name} takes no argument")
        return Command(aliases.get(name, name))
    if name == "ingest":
        if len(rest) != 1:
            raise CommandError("usage: /ingest PATH (a file or a folder; quote a path with spaces)")
        return Command("ingest", rest[0])
    if name == "open":
        if len(rest) != 1 or not rest[0].isdigit():
            raise CommandError("usage: /open N (the number /history shows)")
        return Command("open", rest[0])
    if name == "only":
        if not rest:
            raise CommandError("usage: /only PATTERN… (e.g. /only report.pdf, /only 'seeds/*', /only Macron); "
                               "/all lifts it")
        return Command("only", patterns=tuple(rest))
    if name == "export":
        whole = "--all" in rest
        paths = [w for w in rest if w != "--all"]
        if len(paths) != 1:
            raise CommandError("usage: /export FILE [--all]")
        return Command("export", paths[0], whole)
    raise CommandError(f"unknown command /{name}; /help lists the commands")

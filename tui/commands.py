"""Slash commands typed in the chat input. Pure: parsing only; the app acts."""
from __future__ import annotations

import shlex
from dataclasses import dataclass

# (usage, what it does): the help screen lists these.
COMMANDS = (
    ("/ingest PATH", "add or update files and folders in the index, with progress"),
    ("/sources", "show the sources panel and move to it"),
    ("/clear", "start a new conversation"),
    ("/export FILE", "write the last answer as a Markdown briefing with its sources"),
    ("/export FILE --all", "write the whole chat as a briefing"),
    ("/help", "keys and commands"),
    ("/quit", "leave"),
)


class CommandError(ValueError):
    """A command that cannot be run as typed; the message is for the user."""


@dataclass(frozen=True)
class Command:
    name: str  # "ingest", "sources", "clear", "export", "help", "quit"
    argument: str = ""  # the path for ingest and export
    whole_chat: bool = False  # export --all


def parse_command(line: str) -> Command:
    """'/export brief.md --all' -> Command('export', 'brief.md', True)."""
    try:
        words = shlex.split(line.strip())
    except ValueError as exc:
        raise CommandError(f"cannot read the command: {exc}") from None
    name = words[0].lstrip("/").lower() if words else ""
    rest = words[1:]
    if name in ("sources", "clear", "help", "quit", "exit"):
        if rest:
            raise CommandError(f"/{name} takes no argument")
        return Command("quit" if name == "exit" else name)
    if name == "ingest":
        if len(rest) != 1:
            raise CommandError("usage: /ingest PATH (a file or a folder; quote a path with spaces)")
        return Command("ingest", rest[0])
    if name == "export":
        whole = "--all" in rest
        paths = [w for w in rest if w != "--all"]
        if len(paths) != 1:
            raise CommandError("usage: /export FILE [--all]")
        return Command("export", paths[0], whole)
    raise CommandError(f"unknown command /{name}; /help lists the commands")

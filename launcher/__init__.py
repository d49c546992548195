"""The installed `rag` command: the command line of `rag.cli` with the chat app of
`tui` plugged in. It sits above both packages so that the library never imports
its front end (`import rag.cli` loads no Textual)."""
from __future__ import annotations

from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from rag.cli import main as run_command

    return run_command(argv, chat_app=run_chat_app)


def run_chat_app(settings, options) -> None:
    """The full-screen chat (imported only when it is opened)."""
    from tui.app import run_chat

    run_chat(settings, options)

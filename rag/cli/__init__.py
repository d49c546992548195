"""The `rag` command. With `tui/`, the only place where errors become messages.

    parser.py    the arguments
    commands.py  one function per subcommand
    chat.py      the plain question loop of `rag chat --plain`
    output.py    what is printed

The chat app is not imported here: the package `launcher` (the installed `rag`
script) passes it in as `chat_app`, so the library never depends on its front
end. Heavy modules are imported inside the command functions so that `rag --help`
starts at once. Exit codes are in exit_codes.py.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from rag.cli.exit_codes import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK
from rag.types.errors import RagError

# Runs the full-screen chat: (settings, ChatOptions) -> None.
ChatApp = Callable[..., None]


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None, chat_app: ChatApp | None = None) -> int:
    """Run the command. `chat_app` runs the full-screen chat; without one, `rag
    chat` is the plain question loop."""
    from rag.cli.output import err
    from rag.cli.parser import build_parser
    from rag.environment import prepare_process
    from rag.text.safe_text import InertStream

    prepare_process()  # offline, no telemetry, before any library loads
    args = build_parser().parse_args(argv)
    args.chat_app = chat_app
    from rag.cli import commands
    # Everything printed to stdout is text from documents, file names, models or the
    # user: none of it may act on the terminal (rag/text/safe_text.py).
    if not isinstance(sys.stdout, InertStream):
        sys.stdout = InertStream(sys.stdout)
    if not isinstance(sys.stderr, InertStream):
        sys.stderr = InertStream(sys.stderr)
    try:
        return getattr(commands, args.run)(args)
    except RagError as exc:
        from rag.cli.advice import explain

        err(f"error: {explain(exc)}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err("interrupted; the index is as it was before this command")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("RAG_DEBUG"):
            raise
        err(f"internal error: {type(exc).__name__}: {exc} (set RAG_DEBUG=1 to see the traceback)")
        return EXIT_ERROR

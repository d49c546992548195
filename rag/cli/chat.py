"""`rag chat --plain` (and `rag chat` on a pipe): a question loop on a `ChatSession`,
so it reopens, saves and scopes conversations as the chat app does. Lines that
start with a slash are the chat app's commands (rag/chat/commands.py): /history,
/open N, /new, /only PATTERN…, /all, /export FILE [--all], /quit."""
from __future__ import annotations

from typing import Callable

from rag.cli.exit_codes import EXIT_OK
from rag.cli.advice import explain
from rag.cli.output import ServerWait, err, print_check, print_sources, print_summary
from rag.types.errors import RagError

HELP = ("commands: /history (list saved conversations), /open N, /new, /only PATTERN… (limit to some "
        "documents), /all, /export FILE [--all], /quit")


def plain_chat(library, options, open_library, load_model) -> int:
    """The loop, on `library`; `open_library(library)` and `load_model(library, quiet)`
    load its parts with the command line's messages."""
    from rag.chat.session import ChatSession
    from rag.report.render import mode_heading
    from rag.types.answers import Mode

    session = ChatSession.open(library, options)
    _report_problem(session)
    overview = open_library(library)
    load_model(library, quiet=False)
    if options.only:
        # A flag that picks nothing: one line, before any question. (A reopened
        # conversation's own scope is checked with each question, and /all lifts it.)
        session.limit_to(options.only)
    model = library.model
    heading = mode_heading(model.mode, model.name) if model else mode_heading(Mode.EXTRACTIVE, None)
    print(f"{heading} {overview.documents} documents, {overview.passages} passages in "
          f"{overview.server or library.settings.index_dir}. Empty line or Ctrl-D to quit; /help for commands.")
    _say_where(session)
    while True:
        try:
            line = input("\nquestion> ")
        except EOFError:
            print()
            return EXIT_OK
        line = line.strip()
        if not line or line in {"/quit", "/exit"}:
            return EXIT_OK
        try:
            if line.startswith("/"):
                if not _command(session, line):
                    return EXIT_OK
                continue
            with ServerWait.for_answer(session, extractive=options.extractive) as waiting:
                for item in session.ask(line, extractive=options.extractive):
                    waiting.heard()
                    _show(item)
        except RagError as exc:  # a bad question, a server that went silent: say so, ask again
            err(f"error: {explain(exc)}")
        _report_problem(session)


def _show(item) -> None:
    from rag.types.answers import Answer
    from rag.types.citations import SentenceCheck

    if isinstance(item, Answer):
        print_summary(item)
        print_sources(item)
    elif isinstance(item, SentenceCheck):
        print_check(item)


def _command(session, line: str) -> bool:
    """A slash command, parsed and dispatched with the chat app's table; the app's
    screen commands (/sources, /ingest) say where to find them instead. False: leave."""
    from rag.chat.commands import dispatch, parse_command

    return dispatch(parse_command(line), command_handlers(session))


def command_handlers(session) -> dict:
    """The plain loop's handler for each slash command; each says whether to go on."""
    from pathlib import Path

    from rag.chat.commands import CommandName
    from rag.report.render import conversation_line
    from rag.types.errors import QueryError

    def history(command) -> bool:
        conversations = session.conversations()
        if not conversations:
            print("no saved conversations" + ("" if session.store else " (this chat keeps no history)"))
        for summary in conversations:
            mark = "*" if summary.id == session.conversation_id else " "
            print(mark + conversation_line(summary))
        return True

    def reopen(command) -> bool:
        session.reopen(int(command.argument))
        _say_where(session)
        return True

    def export(command) -> bool:
        _export(session, Path(command.argument).expanduser(), command.whole_chat)
        return True

    def ingest(command) -> bool:
        raise QueryError("/ingest works in the chat app; here, run `rag ingest PATH` in another terminal "
                         "(the next question sees it)")

    def files(command) -> bool:
        from rag.cli.advice import advise
        from rag.report.render import file_counts, file_status_line, needing_attention_first

        from rag.types.corpus import state_counts

        statuses, complete = session.file_statuses()
        print(f"files: {file_counts(state_counts(statuses))}")
        for status in needing_attention_first(statuses):
            print(file_status_line(status, advise(status.remedies)))
        if not complete:
            print("(this index was made before skipped files and sizes were recorded: "
                  "`rag ingest` of its folders again records them)")
        return True

    def say(*lines: str, then: Callable[[], object] = lambda: None) -> Callable[[object], bool]:
        def handler(command) -> bool:
            then()
            print(*lines)
            return True
        return handler

    return {
        CommandName.QUIT: lambda command: False,
        CommandName.HELP: say(HELP),
        CommandName.HISTORY: history,
        CommandName.FILES: files,
        CommandName.OPEN: reopen,
        CommandName.NEW: say("new conversation", then=session.new_conversation),
        CommandName.ONLY: lambda command: print(session.limit_to(command.patterns).describe()) or True,
        CommandName.ALL: say("all documents", then=session.include_everything),
        CommandName.EXPORT: export,
        CommandName.INGEST: ingest,
        # every answer here lists its sources below it
        CommandName.SOURCES: say("the sources are listed under each answer"),
    }


def _export(session, path, whole_chat: bool) -> None:
    from rag.types.errors import QueryError

    if not session.answers:
        raise QueryError("nothing to export yet: ask a question first")
    try:
        path.write_text(session.briefing(whole_chat), encoding="utf-8")
    except OSError as exc:
        raise QueryError(f"{path}: cannot write ({exc.strerror or exc})") from None
    count = len(session.answers) if whole_chat else 1
    print(f"wrote {count} answer{'' if count == 1 else 's'} to {path}")


def _say_where(session) -> None:
    """Which conversation this is: reopened with its turns, or new."""
    scope = "" if session.scope.everything else f"; {session.scope.describe()}"
    if session.answers:
        turns = len(session.answers)
        print(f"conversation {session.conversation_id}, reopened: {turns} earlier turn{'' if turns == 1 else 's'}; "
              f"last question: {session.answers[-1].question}{scope} (--new starts another)")
    elif scope:
        print(scope.lstrip("; "))


def _report_problem(session) -> None:
    problem = session.take_problem()
    if problem is not None:
        err(f"note: {problem}")

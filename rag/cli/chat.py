"""`rag chat --plain` (and `rag chat` on a pipe): a question loop on a `ChatSession`,
so it reopens, saves and scopes conversations as the chat app does. Lines that
start with a slash are the chat app's commands (rag/chat_commands.py): /history,
/open N, /new, /only PATTERN…, /all, /export FILE [--all], /quit."""
from __future__ import annotations

from rag.cli.exit_codes import EXIT_OK
from rag.cli.output import ServerWait, err, print_check, print_sources, print_summary
from rag.types.errors import RagError

HELP = ("commands: /history (list saved conversations), /open N, /new, /only PATTERN… (limit to some "
        "documents), /all, /export FILE [--all], /quit")


def plain_chat(settings, options, open_retriever, load_generator) -> int:
    from rag.conversation import ChatSession
    from rag.render import mode_heading

    session = ChatSession.open(settings, options)
    _report_problem(session)
    retriever = open_retriever(settings)
    session.attach(retriever, load_generator(settings, options.extractive, quiet=False))
    if options.only:
        # A flag that picks nothing: one line, before any question. (A reopened
        # conversation's own scope is checked with each question, and /all lifts it.)
        session.limit_to(options.only)
    manifest = retriever.index.manifest
    generator = session.generator
    heading = mode_heading(generator.mode, generator.name) if generator else mode_heading("extractive", None)
    print(f"{heading} {len(manifest.files)} documents, {manifest.passage_count} passages in "
          f"{manifest.chroma_url or settings.index_dir}. Empty line or Ctrl-D to quit; /help for commands.")
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
            err(f"error: {exc}")
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
    """A slash command, parsed as the chat app parses it; the app's screen commands
    (/sources, /ingest) say where to find them instead. False: leave."""
    from pathlib import Path

    from rag.chat_commands import parse_command
    from rag.render import conversation_line
    from rag.types.errors import QueryError

    command = parse_command(line)
    if command.name == "quit":
        return False
    if command.name == "help":
        print(HELP)
    elif command.name == "history":
        conversations = session.conversations()
        if not conversations:
            print("no saved conversations" + ("" if session.store else " (this chat keeps no history)"))
        for summary in conversations:
            mark = "*" if summary.id == session.conversation_id else " "
            print(mark + conversation_line(summary))
    elif command.name == "open":
        session.reopen(int(command.argument))
        _say_where(session)
    elif command.name == "new":
        session.new_conversation()
        print("new conversation")
    elif command.name == "only":
        print(session.limit_to(command.patterns).describe())
    elif command.name == "all":
        session.include_everything()
        print("all documents")
    elif command.name == "export":
        _export(session, Path(command.argument).expanduser(), command.whole_chat)
    elif command.name == "ingest":
        raise QueryError("/ingest works in the chat app; here, run `rag ingest PATH` in another terminal "
                         "(the next question sees it)")
    else:  # /sources: every answer here lists its sources below it
        print("the sources are listed under each answer")
    return True


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

"""A conversation: its turns, its scope, and where they are saved, on the library
service that answers it (rag/library.py). The chat app and `rag chat --plain` both
drive a `ChatSession`; neither keeps a history of its own.

The session is usable before the library has loaded the index and the model (a
front end loads them as it likes), and without saving: `--no-history`, or when the
history file cannot be used (then `problem` says why, once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from rag.chat.history import Conversation, ConversationStore, ConversationSummary
from rag.types.answers import Answer, AnswerStream, SourceState, Turn
from rag.types.errors import Fix, HistoryError, Remedy
from rag.types.scope import Scope, scope_of

if TYPE_CHECKING:
    from rag.library import Library
    from rag.types.corpus import FileStatus


@dataclass(frozen=True)
class ChatOptions:
    """How a chat starts (`rag chat` flags)."""

    new: bool = False  # start a new conversation instead of reopening the last
    only: tuple[str, ...] = ()  # --only patterns
    extractive: bool = False


class ChatSession:
    def __init__(self, library: Library, store: ConversationStore | None):
        self.library = library
        self.settings = library.settings
        self.store = store
        self.conversation_id: int | None = None  # None until the first answer is saved
        self.answers: list[Answer] = []
        self.scope = Scope()
        # A history that could not be read or written, for the front end to report once.
        self.problem: HistoryError | None = None

    @classmethod
    def open(cls, library: Library, options: ChatOptions) -> "ChatSession":
        """A session on the library's index: the last conversation reopened (unless
        `options.new`), saving as it goes (unless the `history` setting is off). An
        unusable history file leaves an empty, unsaved chat."""
        settings = library.settings
        session = cls(library, ConversationStore.in_index(settings.index_dir) if settings.history else None)
        if session.store is not None and not options.new:
            try:
                latest = session.store.latest()
                if latest is not None:
                    session._show(session.store.load(latest))
            except HistoryError as exc:
                session._stop_saving(exc)
        elif session.store is not None:
            try:
                session.store.check()
            except HistoryError as exc:
                session._stop_saving(exc)
        if options.only:  # the flag wins over the saved scope; saved with the next answer, once it has worked
            session.scope = scope_of(options.only)
        return session

    @property
    def mode(self) -> str:
        return self.library.mode

    @property
    def turns(self) -> list[Turn]:
        return [a.to_turn() for a in self.answers]

    # ------------------------------------------------------------------ asking

    def ask(self, question: str, extractive: bool = False,
            should_stop: Callable[[], bool] | None = None) -> AnswerStream:
        """What `Library.ask` yields, in this conversation's context and scope. The
        answer joins the conversation (and is saved) when the caller comes back for
        what follows it: a caller that closes the stream at the answer (a cancel)
        keeps nothing of it."""
        for item in self.library.ask(question, history=self.turns, scope=self.scope, extractive=extractive,
                                     should_stop=should_stop):
            yield item
            if isinstance(item, Answer):
                self._record(item)

    def _record(self, answer: Answer) -> None:
        self.answers.append(answer)
        if self.store is None:
            return
        try:
            if self.conversation_id is None:
                self.conversation_id = self.store.start(self.scope.patterns)
            self.store.add(self.conversation_id, len(self.answers) - 1, answer, self.scope.patterns)
        except HistoryError as exc:
            self._stop_saving(exc)

    def _stop_saving(self, problem: HistoryError) -> None:
        self.store = None
        self.problem = problem

    def take_problem(self) -> HistoryError | None:
        """The history problem not yet reported, if any (then it is forgotten)."""
        problem, self.problem = self.problem, None
        return problem

    # ------------------------------------------------------------------ scope

    def limit_to(self, patterns: Sequence[str]) -> Scope:
        """Limit the conversation to the documents `patterns` pick; a `ScopeError`
        (and no change) when one picks none in the loaded index."""
        scope = scope_of(patterns)
        if self.library.index_open:
            self.library.check_scope(scope)
        self._set_scope(scope)
        return scope

    def include_everything(self) -> None:
        self._set_scope(Scope())

    def _set_scope(self, scope: Scope) -> None:
        self.scope = scope
        if self.store is not None and self.conversation_id is not None:
            try:
                self.store.set_scope(self.conversation_id, scope.patterns)
            except HistoryError as exc:
                self._stop_saving(exc)

    # ------------------------------------------------------------------ conversations

    def new_conversation(self) -> None:
        """Start again: no turns; the scope stays (the status bar shows it)."""
        self.conversation_id = None
        self.answers = []

    def conversations(self) -> list[ConversationSummary]:
        if self.store is None:
            return []
        try:
            return self.store.conversations()
        except HistoryError as exc:
            self._stop_saving(exc)
            return []

    def reopen(self, conversation_id: int) -> None:
        """Continue a saved conversation; a `HistoryError` when it cannot be read."""
        if self.store is None:
            raise HistoryError("history", "this chat keeps no history", "", Remedy(Fix.TURN_ON, "history"))
        self._show(self.store.load(conversation_id))

    def _show(self, conversation: Conversation) -> None:
        self.conversation_id = conversation.id
        self.answers = list(conversation.answers)
        self.scope = Scope(conversation.scope)

    # ------------------------------------------------------------------ evidence

    def file_statuses(self) -> tuple[list[FileStatus], bool]:
        """(every file the index knows with its state, whether the index records
        them all: False for one made before skipped files and sizes were kept)."""
        return self.library.file_statuses()

    def source_states(self, answer: Answer) -> dict[int, SourceState]:
        """Source number -> CHANGED or GONE for each passage the answer cites that the
        index no longer holds as it was (empty before the index is loaded)."""
        return self.library.source_states([answer])[0] if self.library.index_open else {}

    def briefing(self, whole_chat: bool) -> str:
        """The last answer, or every answer, as a Markdown briefing, each source that
        has changed or gone since marked so (`/export`)."""
        from rag.report.briefing import conversation_markdown

        answers = self.answers if whole_chat else self.answers[-1:]
        return conversation_markdown(answers, [self.source_states(a) for a in answers])


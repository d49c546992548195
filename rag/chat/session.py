"""A conversation: the assistant that answers it, its turns, its scope, and where
they are saved. The chat app and `rag chat --plain` both drive a `ChatSession`;
neither keeps a history of its own.

The session is usable before the index and the model are loaded (a front end
attaches them as they come), and without saving: `--no-history`, or when the
history file cannot be used (then `problem` says why, once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Protocol, Sequence

from rag.config import Settings
from rag.chat.history import Conversation, ConversationStore, ConversationSummary
from rag.retrieve.scope import Scope, resolve_scope, scope_of
from rag.types.answers import CHANGED, GONE, Answer, AnswerStream, Mode, SourceState, Turn

from rag.types.errors import Fix, HistoryError, Remedy

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant
    from rag.answer.generate import Generator
    from rag.embedding.base import Embedder
    from rag.index.manifest import Index
    from rag.types.corpus import FileStatus
    from rag.retrieve.search import Retriever


@dataclass(frozen=True)
class ChatOptions:
    """How a chat starts (`rag chat` flags)."""

    new: bool = False  # start a new conversation instead of reopening the last
    only: tuple[str, ...] = ()  # --only patterns
    extractive: bool = False


class SessionParts(Protocol):
    """How a session builds its parts as it goes; the wiring (`rag/wiring.py`) gives one."""

    def assistant(self, retriever: Retriever, generator: Generator | None) -> Assistant: ...

    def retriever(self, index: Index, embedder: Embedder) -> Retriever: ...


class ChatSession:
    def __init__(self, settings: Settings, store: ConversationStore | None, parts: SessionParts):
        self.settings = settings
        self.store = store
        self.parts = parts
        self.conversation_id: int | None = None  # None until the first answer is saved
        self.answers: list[Answer] = []
        self.scope = Scope()
        self.retriever: Retriever | None = None
        self.generator: Generator | None = None
        self._assistant: Assistant | None = None
        # A history that could not be read or written, for the front end to report once.
        self.problem: HistoryError | None = None

    @classmethod
    def open(cls, settings: Settings, options: ChatOptions, parts: SessionParts) -> "ChatSession":
        """A session on the index in `settings.index_dir`: the last conversation
        reopened (unless `options.new`), saving as it goes (unless the `history`
        setting is off). An unusable history file leaves an empty, unsaved chat."""
        session = cls(settings, ConversationStore.in_index(settings.index_dir) if settings.history else None, parts)
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

    # ------------------------------------------------------------------ parts

    def attach(self, retriever: Retriever | None = None, generator: Generator | None = None) -> None:
        """Answer with this retriever (once the index is loaded) and generator (once a
        model is; None: extractive)."""
        if retriever is not None:
            self.retriever = retriever
        self.generator = generator if generator is not None else self.generator
        self._assistant = None

    @property
    def ready(self) -> bool:
        return self.retriever is not None

    @property
    def mode(self) -> str:
        return self.generator.mode if self.generator is not None else Mode.EXTRACTIVE

    @property
    def turns(self) -> list[Turn]:
        return [a.to_turn() for a in self.answers]

    def _assistant_now(self) -> Assistant:
        if self._assistant is None:
            assert self.retriever is not None
            self._assistant = self.parts.assistant(self.retriever, self.generator)
        return self._assistant

    # ------------------------------------------------------------------ asking

    def ask(self, question: str, extractive: bool = False,
            should_stop: Callable[[], bool] | None = None) -> AnswerStream:
        """What `Assistant.ask` yields, in this conversation's context and scope. The
        answer joins the conversation (and is saved) when the caller comes back for
        what follows it: a caller that closes the stream at the answer (a cancel)
        keeps nothing of it."""
        if self.retriever is None:
            raise RuntimeError("ChatSession.ask before the index is attached")
        if not self.retriever.index.is_current():
            self._follow_the_index()
        assistant = self._assistant_now()
        scope = None if self.scope.everything else self.scope
        for item in assistant.ask(question, history=self.turns, extractive=extractive, should_stop=should_stop,
                                  scope=scope):
            yield item
            if isinstance(item, Answer):
                self._record(item)

    def _follow_the_index(self) -> None:
        """Another process has ingested into this index since it was opened (a chat
        left open while `rag ingest` runs in another terminal): answer from what it
        holds now, with the embedding model already loaded."""
        from rag.index.manifest import Index
        from rag.types.errors import ModelMismatchError

        assert self.retriever is not None
        embedder = self.retriever.embedder
        index = Index.reopen(self.settings)
        if (index.manifest.embed_model, index.manifest.embed_precision) != (embedder.name, embedder.precision):
            raise ModelMismatchError(
                f"the index in {self.settings.index_dir} was rebuilt with {index.manifest.embed_model} "
                f"({index.manifest.embed_precision}) while this chat was open; start the chat again")
        self.attach(self.parts.retriever(index, embedder))

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
        if self.retriever is not None:
            resolve_scope(scope, self.retriever.index.manifest.files)
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
        from rag.index.file_status import file_statuses
        from rag.index.manifest import read_manifest

        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            return [], True
        return file_statuses(manifest), manifest.records_files

    def source_states(self, answer: Answer) -> dict[int, SourceState]:
        """Source number -> CHANGED or GONE for each passage the answer cites that the
        index no longer holds as it was (empty before the index is loaded)."""
        if self.retriever is None:
            return {}
        index = self.retriever.index
        return source_states(answer, index.live_ids, index.manifest.files)

    def briefing(self, whole_chat: bool) -> str:
        """The last answer, or every answer, as a Markdown briefing, each source that
        has changed or gone since marked so (`/export`)."""
        from rag.report.briefing import conversation_markdown

        answers = self.answers if whole_chat else self.answers[-1:]
        return conversation_markdown(answers, [self.source_states(a) for a in answers])


def source_states(answer: Answer, live_ids: frozenset[str], files: Mapping[str, object]) -> dict[int, SourceState]:
    """For each source `answer` shows: CHANGED when its document is still indexed but
    the passage is not (the file was edited since), GONE when the document is not."""
    states = {}
    for source in answer.shown_sources:
        if source.passage.id not in live_ids:
            states[source.number] = CHANGED if source.passage.source in files else GONE
    return states

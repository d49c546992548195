"""The chat app: questions in, checked answers streamed out, sources at hand.

The conversation itself (turns, scope, saving, reopening) is a `ChatSession` of
the library; the app shows it and drives it. Slow work runs in worker threads so
typing and scrolling never wait: loading the index and embedding model (the app
answers once it is in), loading a GGUF model (until then answers are
extractive), writing an answer, and `/ingest`. Workers report back through
`call_from_thread`; a streamed answer is sent in batches of at most one per
RENDER_INTERVAL_S, so a fast model cannot flood the screen. A worker's failure
reaches one handler (`on_worker_state_changed`) and becomes a notification; the
question that failed goes back into the input.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.worker import Worker, WorkerState, get_current_worker

from rag.chat.commands import Command, CommandError, CommandName, dispatch, parse_command
from rag.chat.session import ChatOptions, ChatSession
from rag.config import Settings
from rag.report.render import (
    conversation_line, display_path, file_counts, file_status_line, ingest_summary, mode_label,
    needing_attention_first,
)
from rag.text.safe_text import inert
from rag.types.answers import Answer, Mode
from rag.types.citations import SentenceCheck
from rag.cli.advice import Audience, advise, explain, explain_problem
from rag.types.corpus import state_counts
from rag.types.errors import IndexNotFoundError, RagError
from rag.types.library import IndexOverview, LoadedModel
from tui.screens import HelpScreen, PassageScreen
from tui.states import IndexState, ModelState
from tui.widgets import RENDER_INTERVAL_S, AnswerView, ChatInput, QuestionView, SourcesPanel, StatusBar

if TYPE_CHECKING:
    from rag.library import Library

WELCOME = ("Ask a question about your documents. Every sentence of an answer is checked against the "
           "passage it cites:  ✓ supported  ? unsure or uncited  ✗ unsupported or contradicted  ↪ wrong source.   "
           "F1: keys and commands.")


@dataclass
class AnswerInProgress:
    """A question on the screen whose answer is being written (`worker` set) or waits
    for the index to load (`worker` None)."""

    question: str
    question_view: QuestionView
    view: AnswerView
    worker: Worker | None = None


# A reopened conversation shows its last turns at once; the earlier ones stay in the
# history (and in /export --all): hundreds of rendered answers would slow the start.
RESTORED_TURNS = 20
# /history lists this many conversations, the latest first.
LISTED_CONVERSATIONS = 20
LISTED_FILES = 40  # /files: those needing attention come first


class RagApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "rag"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape", "cancel", "stop the answer", show=False),
        Binding("f1", "help", "help"),
        Binding("f2", "sources", "sources"),
        Binding("ctrl+y", "copy_answer", "copy answer"),
        Binding("ctrl+q", "quit", "quit", priority=True),
    ]

    index_state: reactive[IndexState] = reactive(IndexState.LOADING, init=False)
    model_state: reactive[ModelState] = reactive(ModelState.NONE, init=False)

    def __init__(self, settings: Settings, extractive: bool = False, options: ChatOptions | None = None,
                 library: Library | None = None) -> None:
        """`library`: the service to answer from (default: one on `settings`; a test
        passes one with its own parts)."""
        super().__init__()
        from rag.library import Library

        self.settings = settings
        self.options = options or ChatOptions(extractive=extractive)
        self.extractive = self.options.extractive
        self.library = library or Library(settings, extractive=self.extractive)
        # The conversation (turns, scope, saving) lives in the session; the app shows it.
        self.session = ChatSession.open(self.library, self.options)
        self.overview: IndexOverview | None = None  # the index, once loaded
        self.model: LoadedModel | None = None  # the model, once loaded
        self.busy: dict[str, str] = {}  # what is running in the background, for the status bar
        self.answering: AnswerInProgress | None = None
        self.pending: AnswerInProgress | None = None  # asked before the index loaded
        self.ingesting = False

    @property
    def answers(self) -> list[Answer]:
        return self.session.answers

    def watch_index_state(self) -> None:
        self.refresh_status()

    def watch_model_state(self) -> None:
        self.refresh_status()

    # ------------------------------------------------------------------ layout

    def notify(self, message: str, *, title: str = "", **options) -> None:
        """Every notification may carry a file name or a document's words: inert."""
        super().notify(inert(message), title=inert(title), **options)

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with VerticalScroll(id="chat"):
                yield Static(WELCOME, id="welcome")
            sources = SourcesPanel(id="sources")
            sources.border_title = "Sources"
            yield sources
        yield ChatInput(id="question")
        yield StatusBar(id="status")

    def on_mount(self) -> None:
        self.query_one(ChatInput).focus()
        self.query_one("#chat", VerticalScroll).anchor()
        self.busy["index"] = "loading the index"
        self.refresh_status()
        # Paint the first frame before the loaders start: importing torch and
        # chromadb holds the interpreter for long stretches, so starting them
        # first would delay the prompt the user is looking at.
        self.call_after_refresh(self._start_loading)
        self._exit_when_the_terminal_goes()

    def _exit_when_the_terminal_goes(self) -> None:
        """Quit when the terminal closes. Textual's input thread reads end-of-file
        from a hung-up terminal again and again without stopping (a closed tmux pane
        left an app spinning at 93 % CPU with no screen), and the app does not always
        get SIGHUP: a `make chat` that is hung up dies without passing it on."""
        import os
        import signal
        import sys

        if not sys.__stdin__ or not sys.__stdin__.isatty():
            return  # headless (Pilot) or piped: no terminal to lose
        fd = sys.__stdin__.fileno()
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._terminal_gone)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

        def check() -> None:
            try:
                os.tcgetpgrp(fd)  # fails with EIO once the terminal has hung up
            except OSError:
                self._terminal_gone()

        self.set_interval(1.0, check)

    def _terminal_gone(self) -> None:
        """Leave, with no terminal to restore. Textual's shutdown writes the escape
        sequences that restore one, and with the terminal gone its writer thread
        can block the shutdown for ever (seen in tests/test_tui.py): it gets three
        seconds, then the process ends without it, after its exit handlers (they
        remove a read-only index's temporary copy). Nothing is lost: answers are
        not saved by the app, and an interrupted /ingest leaves the index whole."""
        import atexit
        import os
        import threading

        def leave() -> None:
            try:
                atexit._run_exitfuncs()
            finally:
                os._exit(0)

        timer = threading.Timer(3.0, leave)
        timer.daemon = True
        timer.start()
        self.exit()

    def _start_loading(self) -> None:
        self.load_index()
        if not self.extractive:
            self.load_model()
        self._show_conversation(reopened=True)
        self._report_history_problem()

    @property
    def chat(self) -> VerticalScroll:
        return self.query_one("#chat", VerticalScroll)

    @property
    def question_input(self) -> ChatInput:
        return self.query_one(ChatInput)

    def refresh_status(self) -> None:
        bars = self.query(StatusBar)
        if not bars:
            return  # not composed yet
        model = self.model if self.model_state == ModelState.READY else None
        mode = mode_label(model.mode, model.name) if model is not None else Mode.EXTRACTIVE
        overview = self.overview
        location = overview.server if overview and overview.server else display_path(str(self.settings.index_dir))
        if self.index_state == IndexState.MISSING:
            location += " (no index yet: /ingest PATH)"
        scope = "" if self.session.scope.everything else self.session.scope.describe()
        runtime = model.runtime.short() if model is not None and model.runtime is not None else ""
        bars.first().show(mode, overview.documents if overview else None, overview.passages if overview else None,
                          location, " · ".join(self.busy.values()), scope, runtime)

    # ------------------------------------------------------------------ background work

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where a worker's failure is reported: a library error in its
        own words, anything else as an internal error, each to the part that failed."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = (explain(error, Audience.APP) if isinstance(error, RagError)
                   else f"internal error: {type(error).__name__}: {error}")
        group = event.worker.group
        if group == "index":
            self._index_failed(IndexState.MISSING if isinstance(error, IndexNotFoundError) else IndexState.FAILED,
                               message)
        elif group == "model":
            self._model_failed(message)
        elif group == "answer":
            if self.answering is not None and self.answering.worker is event.worker:
                self._answer_failed(self.answering, message)
        elif group == "ingest":
            self._ingest_failed(message)

    @work(thread=True, group="index", exit_on_error=False)
    def load_index(self) -> None:
        self.call_from_thread(self._index_ready, self.library.open())

    def _index_ready(self, overview: IndexOverview) -> None:
        self.overview = overview
        self.busy.pop("index", None)
        self.index_state = IndexState.READY
        self.refresh_status()
        if overview.notice:
            self.notify(overview.notice, title="read-only index", severity="warning", timeout=10)
        self._mark_changed_sources()
        if self.pending:
            pending, self.pending = self.pending, None
            self._start_answer(pending)

    def _index_failed(self, state: IndexState, message: str) -> None:
        self.busy.pop("index", None)
        self.index_state = state
        if state == IndexState.MISSING:
            self.notify(f"Nothing is indexed in {display_path(str(self.settings.index_dir))} yet. Type /ingest PATH "
                        "(a file or folder, e.g. /ingest seeds/) to build the index.",
                        title="no index yet", severity="warning", timeout=10)
        else:
            self.notify(message, title="cannot open the index", severity="error", timeout=10)
        if self.pending:
            pending, self.pending = self.pending, None
            pending.question_view.remove()
            pending.view.remove()
            self.question_input.value = pending.question

    @work(thread=True, group="model", exit_on_error=False)
    def load_model(self) -> None:
        target = self.library.model_target()
        if target is None:
            return  # no model configured or found: extractive, and the status says so
        label = target if isinstance(target, str) else target.name
        self.call_from_thread(self._model_loading, label)
        self.call_from_thread(self._model_ready, self.library.load_model())

    def _model_loading(self, label: str) -> None:
        self.busy["model"] = f"loading model {label} (answers are extractive until then)"
        self.model_state = ModelState.LOADING

    def _model_ready(self, model: LoadedModel | None) -> None:
        self.model = model
        self.busy.pop("model", None)
        self.model_state = ModelState.READY if model is not None else ModelState.NONE
        self.refresh_status()
        if model is not None:
            from rag.report.render import runtime_line

            runtime = f" ({runtime_line(model.runtime.to_json())})" if model.runtime is not None else ""
            self.notify(f"{model.name} is ready{runtime}", title="model loaded")

    def _model_failed(self, message: str) -> None:
        self.busy.pop("model", None)
        self.model_state = ModelState.FAILED
        self.notify(f"{message}; answering extractively", title="model not loaded", severity="error", timeout=10)

    # ------------------------------------------------------------------ asking

    async def on_input_submitted(self, event: ChatInput.Submitted) -> None:
        line = event.value.strip()
        if not line:
            return
        if line.startswith("/"):
            self.run_command(line)
            return
        if self.answering is not None:
            self.notify("An answer is still being written; Escape stops it.", severity="warning")
            return
        if self.index_state in (IndexState.MISSING, IndexState.FAILED):
            how = "type /ingest PATH to build one" if self.index_state == IndexState.MISSING else "see the error above"
            self.notify(f"There is no index to answer from: {how}.", severity="error")
            return  # the question stays in the input
        self.question_input.remember(line)
        self.question_input.value = ""
        asked = AnswerInProgress(line, QuestionView(line), AnswerView())
        await self.chat.mount(asked.question_view, asked.view)  # composed before any answer reaches it
        if self.overview is None:
            asked.view.summary.update("waiting for the index to load…")
            self.pending = asked
            return
        self._start_answer(asked)

    def _start_answer(self, asked: AnswerInProgress) -> None:
        if self.model_state != ModelState.READY:
            asked.view.start_waiting("the answer")
        else:
            asked.view.start_waiting("the model server" if self.settings.llm_url else "the model")
        asked.worker = self.write_answer(asked.question, asked.view)
        self.answering = asked

    @work(thread=True, group="answer", exit_on_error=False)
    def write_answer(self, question: str, view: AnswerView) -> None:
        worker = get_current_worker()
        pieces: list[str] = []
        fresh: list[SentenceCheck] = []
        last_sent = 0.0
        answer = None
        # Extractive until a model is loaded; the session knows which is attached.
        stream = self.session.ask(question, extractive=self.model_state != ModelState.READY,
                                  should_stop=lambda: worker.is_cancelled)
        for item in stream:
            if worker.is_cancelled:
                stream.close()  # stops the model mid-answer
                return
            if isinstance(item, str):
                pieces.append(item)
            elif isinstance(item, SentenceCheck):
                fresh.append(item)
            else:
                answer = item
            now = time.monotonic()
            if now - last_sent >= RENDER_INTERVAL_S:
                self.call_from_thread(self._answer_progress, view, "".join(pieces).lstrip(), fresh)
                fresh, last_sent = [], now
        if not worker.is_cancelled and answer is not None:
            self.call_from_thread(self._answered, view, answer)

    def _is_current(self, view: AnswerView) -> bool:
        return self.answering is not None and self.answering.view is view

    def _answer_progress(self, view: AnswerView, text: str, checks: list[SentenceCheck]) -> None:
        if self._is_current(view):
            view.add(text, checks)

    def _answered(self, view: AnswerView, answer: Answer) -> None:
        if not self._is_current(view):
            return
        self.answering = None
        view.finish(answer, answer.text)
        self.query_one(SourcesPanel).show_answer(answer)
        self.refresh_status()  # another process may have ingested: the session follows the index
        self._report_history_problem()

    def _answer_failed(self, asked: AnswerInProgress, message: str) -> None:
        self.answering = None
        asked.view.fail(f"failed: {message}")
        self.notify(message, title="no answer", severity="error", timeout=10)
        if not self.question_input.value:
            self.question_input.value = asked.question  # not lost: Enter asks again
            self.question_input.cursor_position = len(asked.question)

    def action_cancel(self) -> None:
        """Escape: stop the answer being written and give the question back."""
        asked = self.answering or self.pending
        if asked is None:
            return
        self.answering = self.pending = None
        if asked.worker is not None:
            asked.worker.cancel()
        asked.question_view.remove()
        asked.view.remove()
        self.question_input.value = asked.question
        self.question_input.cursor_position = len(asked.question)
        self.question_input.focus()
        self.notify("Stopped; the question is back in the input.", timeout=3)

    # ------------------------------------------------------------------ conversations

    def _clear_chat(self) -> None:
        for child in list(self.chat.children):
            if child.id != "welcome":
                child.remove()
        self.query_one(SourcesPanel).show_answer(None)

    def _show_conversation(self, reopened: bool = False) -> None:
        """Put the session's conversation on the screen, under the welcome line: its
        last RESTORED_TURNS turns, answered as they were, and the sources of the last."""
        answers = self.session.answers
        if not answers:
            return
        shown = answers[-RESTORED_TURNS:]
        widgets: list = []
        if len(answers) > len(shown):
            widgets.append(Static(f"⋯ {len(answers) - len(shown)} earlier turns of this conversation "
                                  "(/export FILE --all writes them all)", classes="earlier"))
        for answer in shown:
            widgets += [QuestionView(answer.question), AnswerView(restored=answer)]
        self.chat.mount_all(widgets, after=self.query_one("#welcome"))
        self.query_one(SourcesPanel).show_answer(answers[-1], self.session.source_states(answers[-1]))
        for answer in shown:
            self.question_input.remember(answer.question)
        if reopened:
            self.notify(f"Conversation {self.session.conversation_id}: {len(answers)} earlier "
                        f"turn{'s' if len(answers) != 1 else ''}. /new starts another, /history lists them.",
                        title="reopened", timeout=5)

    def _mark_changed_sources(self) -> None:
        """Once the index is in: note the sources of reopened answers that have
        changed or gone since they were cited."""
        for view in self.query(AnswerView):
            answer = view.answer or view.restored  # a restored view may not be mounted yet
            if answer is not None:
                states = self.session.source_states(answer)
                if states:
                    view.show_source_states(states)
        if self.session.answers:
            last = self.session.answers[-1]
            self.query_one(SourcesPanel).show_answer(last, self.session.source_states(last))

    def _report_history_problem(self) -> None:
        problem = self.session.take_problem()
        if problem is not None:
            self.notify(f"{problem}", title="conversation history", severity="error", timeout=10)

    # ------------------------------------------------------------------ commands

    def run_command(self, line: str) -> None:
        try:
            command = parse_command(line)
            self.question_input.value = ""
            self._run(command, line)
        except CommandError as exc:
            self.notify(str(exc), severity="error")
        except RagError as exc:
            self.notify(explain(exc, Audience.APP), severity="error", timeout=10)
            self.question_input.value = line  # fix it and press Enter again

    def _run(self, command: Command, line: str) -> None:
        dispatch(command, self.command_handlers(line))

    def command_handlers(self, line: str) -> dict[CommandName, Callable[[Command], None]]:
        """The app's handler for each slash command (rag/chat/commands.py's table);
        `line` is put back in the input when a command fails, to be fixed."""
        return {
            CommandName.HELP: lambda c: self.action_help(),
            CommandName.QUIT: lambda c: self.exit(),
            CommandName.SOURCES: lambda c: self.action_sources(),
            CommandName.NEW: lambda c: self.new_conversation(),
            CommandName.HISTORY: lambda c: self.list_conversations(),
            CommandName.FILES: lambda c: self.list_files(),
            CommandName.OPEN: lambda c: self.open_conversation(int(c.argument)),
            CommandName.ONLY: self._limit_scope,
            CommandName.ALL: self._widen_scope,
            CommandName.EXPORT: lambda c: self.export(Path(c.argument).expanduser(), c.whole_chat, line),
            CommandName.INGEST: lambda c: self.start_ingest(Path(c.argument).expanduser(), line),
        }

    def _limit_scope(self, command: Command) -> None:
        scope = self.session.limit_to(command.patterns)
        self.refresh_status()
        self.notify(f"Answers now come from {scope.describe().removeprefix('only: ')} only; /all lifts it.",
                    title="scope", timeout=4)

    def _widen_scope(self, command: Command) -> None:
        self.session.include_everything()
        self.refresh_status()
        self.notify("Answers come from every document.", title="scope", timeout=3)

    def new_conversation(self) -> None:
        if self.answering is not None or self.pending is not None:
            self.action_cancel()
        self.session.new_conversation()
        self._clear_chat()
        self.question_input.value = ""
        self.notify("New conversation.", timeout=2)

    def list_conversations(self) -> None:
        conversations = self.session.conversations()
        self._report_history_problem()
        if not conversations:
            kept = "" if self.session.store is not None else " (this chat keeps no history)"
            self.notify(f"No saved conversations yet{kept}.", timeout=4)
            return
        lines = ["Saved conversations (/open N reopens one; * is this one):"]
        lines += [("*" if c.id == self.session.conversation_id else " ") + conversation_line(c)
                  for c in conversations[:LISTED_CONVERSATIONS]]
        if len(conversations) > LISTED_CONVERSATIONS:
            lines.append(f"  … and {len(conversations) - LISTED_CONVERSATIONS} older (`rag history` lists them all)")
        self.chat.mount(Static(Text(inert("\n".join(lines))), classes="history"))

    def list_files(self) -> None:
        """Every file the index knows, those needing attention first (as `rag status --files`)."""
        statuses, complete = self.session.file_statuses()
        lines = [f"Files in the index: {file_counts(state_counts(statuses))}"]
        lines += [file_status_line(s, advise(s.remedies, Audience.APP))
                  for s in needing_attention_first(statuses)[:LISTED_FILES]]
        if len(statuses) > LISTED_FILES:
            lines.append(f"  … and {len(statuses) - LISTED_FILES} more (`rag status --files` lists them all)")
        if not complete:
            lines.append("This index was made before skipped files and sizes were recorded; /ingest of its "
                         "folders again records them.")
        self.chat.mount(Static(Text(inert("\n".join(lines))), classes="history"))
        self.chat.scroll_end(animate=False)

    def open_conversation(self, number: int) -> None:
        if self.answering is not None or self.pending is not None:
            self.action_cancel()
        self.session.reopen(number)
        self._clear_chat()
        self._show_conversation(reopened=True)
        self._mark_changed_sources()
        self.refresh_status()

    def export(self, path: Path, whole_chat: bool, line: str) -> None:
        answers = self.session.answers
        if not answers:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            self.question_input.value = line
            return
        try:
            path.write_text(self.session.briefing(whole_chat), encoding="utf-8")
        except OSError as exc:
            self.notify(f"{path}: cannot write ({exc.strerror or exc})", title="export failed", severity="error")
            self.question_input.value = line
            return
        what = f"{len(answers)} answers" if whole_chat else "the last answer"
        self.notify(f"Wrote {what} to {path}.", title="exported")

    def start_ingest(self, path: Path, line: str) -> None:
        if self.ingesting:
            self.notify("An ingest is already running.", severity="warning")
            self.question_input.value = line
            return
        if not path.exists():
            self.notify(f"{path}: no such file or folder", title="cannot ingest", severity="error")
            self.question_input.value = line  # fix the path and press Enter again
            return
        self.ingesting = True
        self.busy["ingest"] = f"ingesting {path}"
        self.refresh_status()
        self.ingest(path)

    @work(thread=True, group="ingest", exit_on_error=False)
    def ingest(self, path: Path) -> None:
        from rag.report.progress import IngestProgress

        last = [0.0]
        overall = IngestProgress()

        def progress(stage: str, done: int, total: int) -> None:
            overall.update(stage, done, total)
            now = time.monotonic()
            if now - last[0] >= 0.1 or done == total:
                last[0] = now
                self.call_from_thread(self._ingest_progress, f"ingesting {path}: {overall.line()}")

        def loading(name: str) -> None:
            self.call_from_thread(self._ingest_progress, f"loading embedding model {name}")

        report = self.library.ingest([path], progress, on_load=loading)
        self.call_from_thread(self._ingested, report, self.library.open())

    def _ingest_progress(self, what: str) -> None:
        self.busy["ingest"] = what
        self.refresh_status()

    def _ingested(self, report, overview: IndexOverview) -> None:
        self.ingesting = False
        self.busy.pop("ingest", None)
        self._index_ready(overview)
        self.notify(ingest_summary(report), title="ingested")
        shown = 8  # more would cover the chat; the rest are counted
        for problem in report.problems[:shown]:
            self.notify(explain_problem(problem, Audience.APP), title="skipped", severity="error", timeout=10)
        if len(report.problems) > shown:
            self.notify(f"and {len(report.problems) - shown} more files (`rag ingest` in a terminal lists them all)",
                        title="skipped", severity="error", timeout=10)
        for warning in report.warnings[:shown]:
            self.notify(explain_problem(warning, Audience.APP), title="note", severity="warning", timeout=10)

    def _ingest_failed(self, message: str) -> None:
        self.ingesting = False
        self.busy.pop("ingest", None)
        self.refresh_status()
        self.notify(message, title="ingest failed", severity="error", timeout=10)

    # ------------------------------------------------------------------ keys

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_sources(self) -> None:
        panel = self.query_one(SourcesPanel)
        self.screen.add_class("show-sources")
        if panel.option_count:
            if panel.highlighted is None:
                panel.highlighted = 0
            panel.focus()
        else:
            self.notify("No sources yet: ask a question first.", timeout=3)

    def action_copy_answer(self) -> None:
        if not self.answers:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(self.answers[-1].text)
        self.notify(f"Copied the answer ({len(self.answers[-1].text)} characters).", timeout=3)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if not self.answers or event.option.id is None:
            return
        answer = self.answers[-1]
        number = int(event.option.id)
        source = next((s for s in answer.shown_sources if s.number == number), None)
        if source is not None:
            checks = [c for c in answer.shown_checks if number in c.sentence.cited]
            self.push_screen(PassageScreen(source, checks))

    def on_descendant_blur(self, event) -> None:
        # On a narrow screen the sources panel is shown only while it is used.
        if isinstance(event.widget, SourcesPanel) and not isinstance(self.screen, PassageScreen):
            self.screen.remove_class("show-sources")


def run_chat(settings: Settings, options: ChatOptions | None = None) -> None:
    app = RagApp(settings, options=options)
    app.run()


"""The chat app: questions in, checked answers streamed out, sources at hand.

Slow work runs in worker threads so typing and scrolling never wait: loading the
index and embedding model (the app answers once it is in), loading a GGUF model
(until then answers are extractive), writing an answer, and `/ingest`. Workers
report back through `call_from_thread`; a streamed answer is sent in batches of
at most one per RENDER_INTERVAL_S, so a fast model cannot flood the screen.
Errors from the library (`RagError`) become notifications; the question that
failed goes back into the input.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Callable

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.worker import Worker, get_current_worker

from rag.briefing import display_path
from rag.config import Settings
from rag.safe_text import inert
from rag.types import Answer, RagError, SentenceCheck, Turn
from tui.commands import CommandError, parse_command
from tui.render import chat_markdown
from tui.screens import HelpScreen, PassageScreen
from tui.widgets import RENDER_INTERVAL_S, AnswerView, ChatInput, QuestionView, SourcesPanel, StatusBar

WELCOME = ("Ask a question about your documents. Every sentence of an answer is checked against the "
           "passage it cites:  ✓ supported  ✗ unsupported  ↪ wrong source  ? uncited.   F1: keys and commands.")


def _default_embedder_factory(settings: Settings) -> Callable[[str, str], object]:
    def load(name: str, precision: str):
        from rag.embed import open_embedder

        return open_embedder(name, settings, precision=precision)

    return load


def _default_generator_factory(settings: Settings):
    from rag.generate import open_generator

    return open_generator(settings)


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

    def __init__(self, settings: Settings, extractive: bool = False,
                 embedder_factory: Callable[[str, str], object] | None = None,
                 generator_factory: Callable[[Settings], object] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.extractive = extractive
        self.embedder_factory = embedder_factory or _default_embedder_factory(settings)
        self.generator_factory = generator_factory or _default_generator_factory
        self.retriever = None
        self.index_state = "loading"  # "loading", "ready", "missing", "failed"
        self.generator = None
        self.model_state = "none"  # "none", "loading", "ready", "failed"
        self.model_label = ""
        self.busy: dict[str, str] = {}  # what is running in the background, for the status bar
        self.answers: list[Answer] = []
        self.history: list[Turn] = []
        self.answering: tuple[Worker, str, QuestionView, AnswerView] | None = None
        self.pending: tuple[str, QuestionView, AnswerView] | None = None  # asked before the index loaded
        self.ingesting = False

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

    @property
    def chat(self) -> VerticalScroll:
        return self.query_one("#chat", VerticalScroll)

    @property
    def question_input(self) -> ChatInput:
        return self.query_one(ChatInput)

    def refresh_status(self) -> None:
        if self.model_state == "ready":
            mode = f"{self.generator.mode} · {self.generator.name}"
        else:
            mode = "extractive"
        manifest = self.retriever.index.manifest if self.retriever is not None else None
        location = (manifest.chroma_url if manifest and manifest.chroma_url else display_path(str(self.settings.index_dir)))
        if self.index_state == "missing":
            location += " (no index yet: /ingest PATH)"
        self.query_one(StatusBar).show(mode, len(manifest.files) if manifest else None,
                                       manifest.passage_count if manifest else None, location,
                                       " · ".join(self.busy.values()))

    # ------------------------------------------------------------------ loading

    @work(thread=True, group="index", exit_on_error=False)
    def load_index(self) -> None:
        from rag.index import Index
        from rag.retrieve import Retriever
        from rag.types import IndexNotFoundError

        try:
            index = Index.open(self.settings)
            embedder = self.embedder_factory(index.manifest.embed_model, index.manifest.embed_precision)
            retriever = Retriever(index, embedder, self.settings)
        except IndexNotFoundError as exc:
            self.call_from_thread(self._index_failed, "missing", str(exc))
            return
        except RagError as exc:
            self.call_from_thread(self._index_failed, "failed", str(exc))
            return
        except Exception as exc:  # a bug: say so, keep the app
            self.call_from_thread(self._index_failed, "failed", f"internal error: {type(exc).__name__}: {exc}")
            return
        self.call_from_thread(self._index_ready, retriever)

    def _index_ready(self, retriever) -> None:
        self.retriever = retriever
        self.index_state = "ready"
        self.busy.pop("index", None)
        self.refresh_status()
        if retriever.index.notice:
            self.notify(retriever.index.notice, title="read-only index", severity="warning", timeout=10)
        if self.pending:
            question, question_view, view = self.pending
            self.pending = None
            self._start_answer(question, question_view, view)

    def _index_failed(self, state: str, message: str) -> None:
        self.index_state = state
        self.busy.pop("index", None)
        self.refresh_status()
        if state == "missing":
            self.notify(f"Nothing is indexed in {display_path(str(self.settings.index_dir))} yet. Type /ingest PATH "
                        "(a file or folder, e.g. /ingest seeds/) to build the index.",
                        title="no index yet", severity="warning", timeout=10)
        else:
            self.notify(message, title="cannot open the index", severity="error", timeout=10)
        if self.pending:
            question, question_view, view = self.pending
            self.pending = None
            question_view.remove()
            view.remove()
            self.question_input.value = question

    @work(thread=True, group="model", exit_on_error=False)
    def load_model(self) -> None:
        from rag.generate import configured_model

        try:
            target = configured_model(self.settings)
        except RagError as exc:
            self.call_from_thread(self._model_failed, str(exc))
            return
        if target is None:
            return  # no model configured or found: extractive, and the status says so
        label = target if isinstance(target, str) else target.name
        self.call_from_thread(self._model_loading, label)
        try:
            generator = self.generator_factory(self.settings)
        except RagError as exc:
            self.call_from_thread(self._model_failed, str(exc))
            return
        except Exception as exc:
            self.call_from_thread(self._model_failed, f"internal error: {type(exc).__name__}: {exc}")
            return
        self.call_from_thread(self._model_ready, generator)

    def _model_loading(self, label: str) -> None:
        self.model_state = "loading"
        self.model_label = label
        self.busy["model"] = f"loading model {label} (answers are extractive until then)"
        self.refresh_status()

    def _model_ready(self, generator) -> None:
        self.generator = generator
        self.model_state = "ready" if generator is not None else "none"
        self.busy.pop("model", None)
        self.refresh_status()
        if generator is not None:
            self.notify(f"{generator.name} is ready", title="model loaded")

    def _model_failed(self, message: str) -> None:
        self.model_state = "failed"
        self.busy.pop("model", None)
        self.refresh_status()
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
        if self.index_state in ("missing", "failed"):
            how = "type /ingest PATH to build one" if self.index_state == "missing" else "see the error above"
            self.notify(f"There is no index to answer from: {how}.", severity="error")
            return  # the question stays in the input
        self.question_input.remember(line)
        self.question_input.value = ""
        question_view, view = QuestionView(line), AnswerView()
        await self.chat.mount(question_view, view)  # composed before any answer reaches it
        if self.retriever is None:
            view.summary.update("waiting for the index to load…")
            self.pending = (line, question_view, view)
            return
        self._start_answer(line, question_view, view)

    def _start_answer(self, question: str, question_view: QuestionView, view: AnswerView) -> None:
        generator = self.generator if self.model_state == "ready" else None
        if generator is None:
            view.start_waiting("the answer")
        else:
            view.start_waiting("the model server" if self.settings.llm_url else "the model")
        worker = self.write_answer(question, view, self.retriever, generator, list(self.history))
        self.answering = (worker, question, question_view, view)

    @work(thread=True, group="answer", exit_on_error=False)
    def write_answer(self, question: str, view: AnswerView, retriever, generator, history) -> None:
        from rag.assistant import make_assistant

        worker = get_current_worker()
        pieces: list[str] = []
        fresh: list[SentenceCheck] = []
        last_sent = 0.0
        answer = None
        stream = make_assistant(retriever, self.settings, generator).ask(
            question, history=history, should_stop=lambda: worker.is_cancelled)
        try:
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
        except RagError as exc:
            self.call_from_thread(self._answer_failed, view, question, str(exc))
            return
        except Exception as exc:
            self.call_from_thread(self._answer_failed, view, question,
                                  f"internal error: {type(exc).__name__}: {exc}")
            return
        if not worker.is_cancelled and answer is not None:
            self.call_from_thread(self._answered, view, answer, answer.text)

    def _is_current(self, view: AnswerView) -> bool:
        return self.answering is not None and self.answering[3] is view

    def _answer_progress(self, view: AnswerView, text: str, checks: list[SentenceCheck]) -> None:
        if self._is_current(view):
            view.add(text, checks)

    def _answered(self, view: AnswerView, answer: Answer, text: str) -> None:
        if not self._is_current(view):
            return
        self.answering = None
        view.finish(answer, text)
        self.answers.append(answer)
        self.history.append(answer.to_turn())
        self.query_one(SourcesPanel).show_answer(answer)

    def _answer_failed(self, view: AnswerView, question: str, message: str) -> None:
        if not self._is_current(view):
            return
        self.answering = None
        view.fail(f"failed: {message}")
        self.notify(message, title="no answer", severity="error", timeout=10)
        if not self.question_input.value:
            self.question_input.value = question  # not lost: Enter asks again
            self.question_input.cursor_position = len(question)

    def action_cancel(self) -> None:
        """Escape: stop the answer being written and give the question back."""
        if self.answering is None and self.pending is None:
            return
        if self.answering is not None:
            worker, question, question_view, view = self.answering
            self.answering = None
            worker.cancel()
        else:
            question, question_view, view = self.pending
            self.pending = None
        question_view.remove()
        view.remove()
        self.question_input.value = question
        self.question_input.cursor_position = len(question)
        self.question_input.focus()
        self.notify("Stopped; the question is back in the input.", timeout=3)

    # ------------------------------------------------------------------ commands

    def run_command(self, line: str) -> None:
        try:
            command = parse_command(line)
        except CommandError as exc:
            self.notify(str(exc), severity="error")
            return
        self.question_input.value = ""
        if command.name == "help":
            self.action_help()
        elif command.name == "quit":
            self.exit()
        elif command.name == "sources":
            self.action_sources()
        elif command.name == "clear":
            self.clear_chat()
        elif command.name == "export":
            self.export(Path(command.argument).expanduser(), command.whole_chat, line)
        elif command.name == "ingest":
            self.start_ingest(Path(command.argument).expanduser(), line)

    def clear_chat(self) -> None:
        if self.answering is not None:
            self.action_cancel()
        for child in list(self.chat.children):
            if child.id != "welcome":
                child.remove()
        self.answers.clear()
        self.history.clear()
        self.question_input.value = ""
        self.query_one(SourcesPanel).show_answer(None)
        self.notify("New conversation.", timeout=2)

    def export(self, path: Path, whole_chat: bool, line: str) -> None:
        if not self.answers:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            self.question_input.value = line
            return
        text = chat_markdown(self.answers) if whole_chat else chat_markdown(self.answers[-1:])
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"{path}: cannot write ({exc.strerror or exc})", title="export failed", severity="error")
            self.question_input.value = line
            return
        what = f"{len(self.answers)} answers" if whole_chat else "the last answer"
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
        from rag.index import Index
        from rag.ingest import ingest_paths
        from rag.ingest_progress import IngestProgress
        from rag.retrieve import Retriever

        loaded = {}
        if self.retriever is not None:
            embedder = self.retriever.embedder
            loaded[embedder.name, embedder.precision] = embedder

        def embedder_for(name: str, precision: str):
            if (name, precision) not in loaded:
                self.call_from_thread(self._ingest_progress, f"loading embedding model {name}")
                loaded[name, precision] = self.embedder_factory(name, precision)
            return loaded[name, precision]

        last = [0.0]
        overall = IngestProgress()

        def progress(stage: str, done: int, total: int) -> None:
            overall.update(stage, done, total)
            now = time.monotonic()
            if now - last[0] >= 0.1 or done == total:
                last[0] = now
                self.call_from_thread(self._ingest_progress, f"ingesting {path}: {overall.line()}")

        try:
            report = ingest_paths([path], self.settings, embedder_for, progress)
            index = Index.open(self.settings)
            retriever = Retriever(index, embedder_for(index.manifest.embed_model, index.manifest.embed_precision),
                                  self.settings)
        except RagError as exc:
            self.call_from_thread(self._ingest_failed, str(exc))
            return
        except Exception as exc:
            self.call_from_thread(self._ingest_failed, f"internal error: {type(exc).__name__}: {exc}")
            return
        self.call_from_thread(self._ingested, report, retriever)

    def _ingest_progress(self, what: str) -> None:
        self.busy["ingest"] = what
        self.refresh_status()

    def _ingested(self, report, retriever) -> None:
        self.ingesting = False
        self.busy.pop("ingest", None)
        self._index_ready(retriever)
        self.notify(f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
                    f"unchanged {len(report.unchanged)}; {report.documents_total} documents, "
                    f"{report.passages_total} passages", title="ingested")
        shown = 8  # more would cover the chat; the rest are counted
        for problem in report.problems[:shown]:
            self.notify(str(problem), title="skipped", severity="error", timeout=10)
        if len(report.problems) > shown:
            self.notify(f"and {len(report.problems) - shown} more files (`rag ingest` in a terminal lists them all)",
                        title="skipped", severity="error", timeout=10)
        for warning in report.warnings[:shown]:
            self.notify(str(warning), title="note", severity="warning", timeout=10)

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


def run_chat(settings: Settings, extractive: bool = False) -> None:
    RagApp(settings, extractive).run()


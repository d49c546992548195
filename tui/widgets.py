"""The chat's widgets. Each knows how to show one thing; the app decides when."""
from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from rag.report.render import SOURCE_STATE_NOTES, mode_label, problem_lines
from rag.text.safe_text import inert
from rag.types.answers import Answer, SourceState
from rag.types.citations import SentenceCheck
from tui.render import with_marks

# Re-rendering the Markdown for every streamed token would cost the screen its
# responsiveness; 25 frames a second reads as smooth.
RENDER_INTERVAL_S = 0.04


class ChatInput(Input):
    """The question line. Up and down recall earlier questions, as in a shell."""

    BINDINGS = [
        Binding("up", "previous", "earlier question", show=False),
        Binding("down", "next", "later question", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Ask about your documents, or /help", **kwargs)
        self.asked: list[str] = []
        self._recall: int | None = None  # index into `asked` while recalling
        self._draft = ""

    def remember(self, question: str) -> None:
        if not self.asked or self.asked[-1] != question:
            self.asked.append(question)
        self._recall = None

    def action_previous(self) -> None:
        if not self.asked:
            return
        if self._recall is None:
            self._draft = self.value
            self._recall = len(self.asked)
        self._recall = max(0, self._recall - 1)
        self._show(self.asked[self._recall])

    def action_next(self) -> None:
        if self._recall is None:
            return
        self._recall += 1
        if self._recall >= len(self.asked):
            self._recall = None
            self._show(self._draft)
        else:
            self._show(self.asked[self._recall])

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)


class QuestionView(Static):
    """A question as asked."""

    def __init__(self, question: str) -> None:
        super().__init__(Text(inert(question)), classes="question")
        self.question = question


PENDING = "writing…"
# After this long without a word, the pending answer counts the seconds.
WAIT_NOTE_AFTER_S = 3.0


class AnswerView(Vertical):
    """An answer as it is written: Markdown, each sentence marked once checked, then
    a summary line and the reasons for any sentence that is not supported."""

    def __init__(self, restored: Answer | None = None) -> None:
        """`restored`: an answer from a saved conversation, shown whole at once."""
        super().__init__(classes="answer")
        self.text = ""
        self.checks: list[SentenceCheck] = []
        self.answer: Answer | None = None
        self.restored = restored
        self._states_to_show: dict[int, SourceState] = {}  # noted before the view was mounted
        self._rendered_at = 0.0
        self._render_pending = False

    def compose(self):
        yield Markdown("", classes="body")
        yield Static(PENDING, classes="summary pending")

    def on_mount(self) -> None:
        if self.restored is not None:
            self.finish(self.restored, self.restored.text, self._states_to_show)

    @property
    def body(self) -> Markdown:
        return self.query_one(Markdown)

    @property
    def summary(self) -> Static:
        return self.query_one(".summary", Static)

    @property
    def markdown(self) -> str:
        """What the body shows now: the answer, and when too little of it is
        supported, the warning and the documents' own words beside it."""
        shown = with_marks(self.text, self.checks)
        alternative = self.answer.alternative if self.answer is not None else None
        if self.answer is not None and alternative is not None:
            checks = alternative.citations.checks if alternative.citations else ()
            shown += (f"\n\n**⚠** {self.answer.warning_line}\n\n"
                      + with_marks(alternative.text, checks))
        return shown

    def start_waiting(self, what: str) -> None:
        """Until the first words come, say how long the wait has been (a slow or
        silent model server then shows as one, not as a frozen "writing…")."""
        started = time.monotonic()
        counted = False

        def tick() -> None:
            nonlocal counted
            if self.text or self.answer is not None or not self.summary.has_class("pending"):
                timer.stop()
                if counted and self.answer is None and self.summary.has_class("pending"):
                    self.summary.update(PENDING)  # words came: back to "writing…"
                return
            waited = time.monotonic() - started
            if waited >= WAIT_NOTE_AFTER_S:
                self.summary.update(f"waiting for {what}… {waited:.0f} s")
                counted = True

        timer = self.set_interval(1.0, tick)

    def add(self, text: str, checks: list[SentenceCheck]) -> None:
        """More of the answer: the text so far and any sentences newly checked."""
        self.text = text
        self.checks.extend(checks)
        since = time.monotonic() - self._rendered_at
        if since >= RENDER_INTERVAL_S:
            self._redraw()
        elif not self._render_pending:
            self._render_pending = True
            self.set_timer(RENDER_INTERVAL_S - since, self._redraw)

    def finish(self, answer: Answer, text: str, source_states: dict[int, SourceState] | None = None) -> None:
        """Show the whole answer with its check; `source_states` notes the sources of a
        saved answer whose documents have changed or gone since."""
        self.answer = answer
        self.text = text
        self.checks = list(answer.citations.checks) if answer.citations else self.checks
        self._redraw()
        self.show_source_states(source_states or {})
        self.summary.remove_class("pending")
        self.set_class(bool(problem_lines(self.checks)), "has-problems")

    def show_source_states(self, states: dict[int, SourceState]) -> None:
        """The summary line, the problems, and a line per source that has changed or
        gone since the answer cited it."""
        answer = self.answer
        if answer is None:  # a restored answer not mounted yet: shown with it
            self._states_to_show = states
            return
        sources = " · F2: sources" if answer.cited else ""
        lines = [f"{answer.summary} · {mode_label(answer.mode, answer.model)}{sources}"] + problem_lines(self.checks)
        lines += [f"[{number}]: {SOURCE_STATE_NOTES[state]}" for number, state in sorted(states.items())]
        self.summary.update(Text(inert("\n".join(lines))))
        self.set_class(bool(states), "has-changed-sources")

    def fail(self, message: str) -> None:
        self.summary.update(Text(inert(message)))
        self.summary.remove_class("pending")
        self.add_class("failed")

    def _redraw(self) -> None:
        self._render_pending = False
        self._rendered_at = time.monotonic()
        self.body.update(inert(self.markdown))  # model output and quoted documents: no escape reaches the terminal


class SourcesPanel(OptionList):
    """The passages the last answer cites; Enter or a click opens one."""

    def show_answer(self, answer: Answer | None, source_states: dict[int, SourceState] | None = None) -> None:
        self.clear_options()
        if answer is None or not answer.shown_sources:
            self.border_subtitle = ""
            return
        states = source_states or {}
        for source in answer.shown_sources:
            verdicts = [c.mark for c in answer.shown_checks if source.number in c.sentence.cited]
            label = Text.assemble((f"[{source.number}] ", "bold"), inert(source.passage.title),
                                  (f", {source.passage.place}", "dim"),
                                  (f"  {''.join(verdicts)}" if verdicts else "", "dim"),
                                  (f"  ({states[source.number]} since)" if source.number in states else "",
                                   "italic"))
            self.add_option(Option(label, id=str(source.number)))
        self.border_subtitle = "Enter: read"


class StatusBar(Static):
    """Mode, documents and passages, the scope, index location, and what is loading."""

    def show(self, mode: str, documents: int | None, passages: int | None, location: str,
             busy: str = "", scope: str = "", runtime: str = "") -> None:
        parts = [Text(f" {mode} ", style="reverse")]
        if runtime:  # what llama.cpp runs the model with: what a crash report needs
            parts.append(Text(f" {runtime}", style="dim"))
        if documents is not None:
            parts.append(Text(f"  {documents} documents · {passages} passages"))
        if scope:
            parts.append(Text(inert(f"  {scope}"), style="bold"))
        parts.append(Text(inert(f"  {location}"), style="dim"))
        if busy:
            parts.append(Text(f"  ⋯ {busy}", style="italic"))
        self.update(Text.assemble(*parts))

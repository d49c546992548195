"""Screens over the chat: one passage in full, and the help."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from rag.report.render import display_path
from rag.text.safe_text import blanked, inert
from rag.types.answers import Source
from rag.types.citations import SentenceCheck
from rag.chat.commands import COMMANDS


class PassageScreen(ModalScreen):
    """A cited passage, whole: title, file and paragraph, with the sentences the
    answer rests on highlighted."""

    BINDINGS = [Binding("escape,q", "dismiss", "close")]

    def __init__(self, source: Source, checks: Sequence[SentenceCheck]) -> None:
        super().__init__()
        self.source = source
        self.checks = checks

    @property
    def highlighted(self) -> list[str]:
        """The passage sentences shown highlighted (what a test or reader checks)."""
        return [self.source.passage.text[a:b] for a, b in self._spans()]

    def _spans(self) -> list[tuple[int, int]]:
        spans = set()
        for check in self.checks:
            for evidence in (check.evidence, check.supported_by):
                if evidence is not None and evidence.passage.id == self.source.passage.id:
                    spans.add((evidence.start, evidence.end))
        return sorted(spans)

    def compose(self) -> ComposeResult:
        p = self.source.passage
        with VerticalScroll(id="passage-box") as box:
            box.border_title = inert(f"[{self.source.number}] {p.title}")
            box.border_subtitle = "Esc: back"
            where: list = [("paragraph ", "dim"), str(p.paragraph)]
            if p.page is not None:
                where += [("  ·  page ", "dim"), p.pages]
            if p.section:
                where += [("  ·  ", "dim"), inert(f"§ {p.section}")]
            where += [("  ·  ", "dim"), inert(display_path(p.source))]
            yield Static(Text.assemble(*where), id="passage-where")
            text = Text(blanked(p.text))  # blanked, not stripped: the highlight offsets stay right
            for start, end in self._spans():
                text.stylize("bold reverse", start, end)
            yield Static(text, id="passage-text")


KEYS = (
    ("Enter", "ask the question (or run the /command)"),
    ("Escape", "stop the answer being written; the question goes back in the input"),
    ("Up / Down", "earlier and later questions"),
    ("F2", "move to the sources panel; Enter or a click opens a passage"),
    ("Tab / Shift+Tab", "move between the input and the panels"),
    ("Ctrl+Y", "copy the last answer's text (with its [n] markers, no borders)"),
    ("mouse drag", "select text; Ctrl+C copies the selection"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
)

MARKS = (
    ("✓", "supported: the cited passage states it (and, re-read with its number or name blanked, the sources "
          "fill the blank with the same)"),
    ("?", "unsure: it may not answer the question (the model leans to no, no number or date where one "
          "was asked for, or only the question said back), or a corrected citation's new passage, asked, "
          "does not state it; uncited: a claim without a source"),
    ("✗", "unsupported: a number, name, date or quotation is not in the cited passage, or the meaning differs; "
          "contradicted: the cited passage gives another number or name in its place"),
    ("↪", "wrong source: another passage states it (its number is shown)"),
)


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,f1", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        from rich.table import Table

        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help"
            box.border_subtitle = "Esc: back"
            for title, rows in (("Keys", KEYS), ("Commands", COMMANDS), ("Marks", MARKS)):
                # A grid keeps a wrapped description in its own column.
                grid = Table.grid(padding=(0, 2))
                grid.add_column(style="bold", no_wrap=True)
                grid.add_column()
                for key, what in rows:
                    grid.add_row(Text(key), Text(what))  # Text: "[n]" is not markup
                yield Static(Text(title, style="bold underline"), classes="help-title")
                yield Static(grid)

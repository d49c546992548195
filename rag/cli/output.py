"""What the `rag` command prints: one-line messages, JSON, progress, hits, checked
sentences and answers. The wording of verdicts, modes and summaries shared with
the chat app and the briefing is in rag/report/render.py."""
from __future__ import annotations

import json
import sys
from typing import Any



def err(message: str) -> None:
    from rag.text.safe_text import inert

    print(inert(f"rag: {message}"), file=sys.stderr)


def json_text(value: Any, **options: Any) -> str:
    """JSON for stdout: non-ASCII kept readable, control characters escaped."""
    from rag.text.safe_text import escape_json_controls

    return escape_json_controls(json.dumps(value, **{"ensure_ascii": False, **options}))


class ProgressBar:
    """A rich progress bar on stderr when it is a terminal; otherwise (a pipe, a log
    file, cron) a plain line at most every PLAIN_EVERY_S seconds, so a long ingest
    shows it is alive and a short one prints nothing."""

    PLAIN_EVERY_S = 10.0

    def __init__(self) -> None:
        import time

        from rag.report.progress import IngestProgress

        self._progress = None
        self._tasks: dict[str, Any] = {}
        self._last_line = time.monotonic()
        self._lined: set[str] = set()
        self.overall = IngestProgress()
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[overall]}"), transient=True,
                                      # The bar's own escape sequences bypass the inert stream.
                                      console=Console(file=getattr(sys.stderr, "wrapped", sys.stderr)))

    def __enter__(self) -> "ProgressBar":
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.overall.update(stage, done, total)
        if not self._progress:
            self._plain_line(stage, done, total)
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total, overall="")
        # Files, passages, rate and time left go beside the stage that is moving.
        for task in self._tasks.values():
            self._progress.update(task, overall="")
        self._progress.update(self._tasks[stage], completed=done, total=total, overall=self.overall.line())

    def _plain_line(self, stage: str, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if total <= 0:
            return  # a stage with nothing to do
        # A stage that was reported gets its last line too, so the log ends at 100 %.
        if now - self._last_line >= self.PLAIN_EVERY_S or (done >= total and stage in self._lined):
            print(f"rag: progress: {self.overall.line()}", file=sys.stderr, flush=True)
            self._last_line = now
            self._lined.add(stage)
            if done >= total:
                self._lined.discard(stage)


def print_hits(hits, width: int = 100) -> None:
    import textwrap

    if not hits:
        print("no passages match")
    for hit in hits:
        print(f"[{hit.rank}] {hit.passage.label}  (score {hit.score:.3f})")
        body = " ".join(hit.passage.text.split())
        print(textwrap.fill(body, width=width, initial_indent="    ", subsequent_indent="    "))
        print()


def print_sources(answer) -> None:
    import textwrap

    cited = answer.shown_sources
    if not cited:
        return
    print("\nSources:")
    for source in cited:
        print(f"[{source.number}] {source.passage.label}")
        body = " ".join(source.passage.text.split())
        print(textwrap.fill(body, width=100, initial_indent="    ", subsequent_indent="    "))


def print_check(check, fix: str | None = None, width: int = 100, documents: frozenset[int] = frozenset()) -> None:
    """One answer sentence with its mark (✓ ✗ ↪ ? ·); why, when it is not supported.
    Evidence from a source that is a whole document (`documents`) is placed in it."""
    import textwrap

    from rag.report.render import problem_line
    from rag.types.citations import NO_CLAIM, SUPPORTED

    print(textwrap.fill(check.sentence.with_markers(), width=width, initial_indent=f"{check.mark} ",
                        subsequent_indent="  "))
    if check.verdict in (SUPPORTED, NO_CLAIM):
        return
    evidence = check.supported_by or check.evidence
    print(textwrap.fill(problem_line(check, fix), width=width, initial_indent="    ", subsequent_indent="    "))
    if evidence is not None:
        where = evidence.where + (f" ({evidence.passage.label})" if evidence.number in documents else "")
        print(textwrap.fill(f"{where} says: “{' '.join(evidence.text.split())}”", width=width,
                            initial_indent="    ", subsequent_indent="    "))


def print_summary(answer) -> None:
    if answer.citations is None:
        return
    line = answer.summary
    if answer.dropped_sentences:
        line += f"; --strict dropped {answer.dropped_sentences} unsupported or uncited sentence(s)"
    print(line)
    if answer.alternative is not None:
        print(f"\n! {answer.warning_line}")
        for check in answer.alternative.citations.checks:
            print_check(check)


class ServerWait:
    """While a model server has sent nothing for SHOW_AFTER_S, a line on stderr
    that counts the wait: rewritten in place on a terminal, a plain line every
    PLAIN_EVERY_S on a pipe. Gone once the first word (or anything) comes."""

    SHOW_AFTER_S = 3.0
    PLAIN_EVERY_S = 10.0

    def __init__(self, url: str, limit_s: float, shown: bool = True) -> None:
        import threading

        self.url, self.limit_s, self.shown = url, limit_s, shown
        self.done = threading.Event()
        # Our own words: written past the filter, which would blank the carriage return.
        self.stream = getattr(sys.stderr, "wrapped", sys.stderr)
        self.thread = threading.Thread(target=self._count, daemon=True, name="server-wait")

    @classmethod
    def for_answer(cls, assistant, extractive: bool) -> "ServerWait":
        """Shown only when the answer comes from a model server."""
        from rag.types.answers import Mode

        settings = assistant.settings
        return cls(settings.llm_url or "", settings.llm_timeout_s,
                   shown=assistant.mode == Mode.REMOTE and not extractive)

    def __enter__(self) -> "ServerWait":
        import time

        self.started = time.monotonic()
        if self.shown:
            self.thread.start()
        return self

    def heard(self) -> None:
        if not self.done.is_set():
            self.done.set()
            if self.thread.is_alive():
                self.thread.join()

    def __exit__(self, *exc_info) -> None:
        self.heard()

    def _count(self) -> None:
        import time

        if self.done.wait(self.SHOW_AFTER_S):
            return
        terminal = self.stream.isatty()
        line = ""
        while True:
            line = (f"rag: waiting for the model server at {self.url}: {time.monotonic() - self.started:.0f} s "
                    f"so far (given up after {self.limit_s:g} s of silence)")
            self.stream.write(f"\r{line}" if terminal else f"{line}\n")
            self.stream.flush()
            if self.done.wait(1.0 if terminal else self.PLAIN_EVERY_S):
                break
        if terminal:
            self.stream.write("\r" + " " * len(line) + "\r")
            self.stream.flush()

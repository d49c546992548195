"""The words shared by every front end: the command line, the chat app and the
Markdown briefing say a mode, a verdict's problem, an ingest's result and a saved
conversation the same way, from here. Pure: strings in, strings out."""
from __future__ import annotations

import os
import time
from typing import Sequence

from rag.types.answers import CHANGED, GONE, Mode
from rag.types.citations import NO_CLAIM, SUPPORTED, SentenceCheck
from rag.types.corpus import FileState, FileStatus, IngestReport


def display_path(source: str) -> str:
    """Relative to the working folder when the file is below it, so a briefing
    stays readable and `rag check` finds the file from the same place."""
    try:
        relative = os.path.relpath(source)
    except ValueError:
        return source
    return source if relative.startswith("..") else relative


def mode_label(mode: str, model: str | None) -> str:
    """"local · SmolLM2-135M-Instruct", "remote · qwen2.5" or "extractive"."""
    return f"{mode} · {model}" if model and mode != Mode.EXTRACTIVE else mode


def mode_heading(mode: str, model: str | None) -> str:
    """The line a command-line answer starts with: "[local mode: SmolLM2…]", "[extractive mode]"."""
    return f"[{mode} mode: {model}]" if model and mode != Mode.EXTRACTIVE else f"[{mode} mode]"


def problem_line(check: SentenceCheck, fix: str | None = None) -> str:
    """Why a sentence is not supported, and where it is stated when another source
    states it: "unsupported: “113” is not in [1]; [2] states it"."""
    if fix is None and check.supported_by is not None:
        fix = f"{check.supported_by.where} states it"
    return f"{check.verdict}: {check.reason}" + (f"; {fix}" if fix else "")


def problem_lines(checks: Sequence[SentenceCheck]) -> list[str]:
    """One line per sentence that is not supported: its mark, number and problem."""
    return [f"{c.mark} sentence {c.sentence.index + 1}, {problem_line(c)}"
            for c in checks if c.verdict not in (SUPPORTED, NO_CLAIM)]


def ingest_summary(report: IngestReport, detailed: bool = False) -> str:
    """"added 1, updated 0, removed 0, unchanged 5; 6 documents, 97 passages"; with
    `detailed`, what was embedded in how long and where the index is as well."""
    counts = (f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
              f"unchanged {len(report.unchanged)}")
    if not detailed:
        return f"{counts}; {report.documents_total} documents, {report.passages_total} passages"
    resumed = (f" ({report.passages_resumed} more were kept from an interrupted ingest)"
               if report.passages_resumed else "")
    done = (f"embedded {report.passages_embedded} passages in {report.seconds:.1f} s{resumed}" if report.wrote
            else f"nothing read, nothing written ({report.seconds:.1f} s)")
    return (f"{counts}; {done}; "
            f"index: {report.documents_total} documents, {report.passages_total} passages in {report.location}")


def _some(sources: Sequence[str], shown: int = 3) -> str:
    names = [display_path(s) for s in sources[:shown]]
    more = len(sources) - shown
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def watch_line(report: IngestReport, at: float) -> str:
    """One watched update in one line: "14:02:11  added 1 (notes.md); removed 1
    (old.txt) → 7 documents, 91 passages (0.8 s)"."""
    parts = [f"{what} {len(sources)} ({_some(sources)})"
             for what, sources in (("added", report.added), ("updated", report.updated),
                                   ("removed", report.removed),
                                   ("could not read", [p.path for p in report.problems])) if sources]
    return (f"{time.strftime('%H:%M:%S', time.localtime(at))}  {'; '.join(parts) or 'no change'}"
            f" → {report.documents_total} documents, {report.passages_total} passages ({report.seconds:.1f} s)")


def file_counts(counts: dict[str, int]) -> str:
    """"5 indexed, 1 skipped, 0 changed, 0 gone"."""
    return ", ".join(f"{n} {state}" for state, n in counts.items())


def file_status_line(status: FileStatus, advice: str = "") -> str:
    """One file's state: "skipped  docs/scan.pdf  tried 2026-12-04 09:12:03; no text
    layer (…)"; `advice` is the remedy in the front end's own words."""
    facts = [f"{status.passages} passages" if status.state != FileState.SKIPPED or status.passages else ""]
    if status.pages:
        facts.append(f"{status.pages} pages" + (f" ({status.ocr_pages} by OCR)" if status.ocr_pages else ""))
    if status.read_at:
        tried = "tried " if status.state == FileState.SKIPPED else "read "
        facts.append(tried + status.read_at.replace("T", " ").rstrip("Z"))
    if status.reason:
        facts.append(status.reason + (f" ({advice})" if advice else ""))
    return f"{status.state:<8} {display_path(status.source)}  " + "; ".join(f for f in facts if f)


def needing_attention_first(statuses: Sequence[FileStatus]) -> list[FileStatus]:
    """Skipped, changed and gone files before the indexed ones, each group by path."""
    order = {FileState.SKIPPED: 0, FileState.CHANGED: 1, FileState.GONE: 2, FileState.INDEXED: 3}
    return sorted(statuses, key=lambda s: (order[s.state], s.source))


# What became of a cited passage since it was cited, for a reader.
SOURCE_STATE_NOTES = {
    CHANGED: "its document has changed since this answer cited it",
    GONE: "its document is no longer in the index",
}


def when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def conversation_line(summary) -> str:
    """A saved conversation in one line: "3  2026-11-25 07:40  4 turns  How many … (only: UN)"."""
    turns = f"{summary.turns} turn" + ("" if summary.turns == 1 else "s")
    question = summary.first_question if len(summary.first_question) <= 60 else summary.first_question[:59] + "…"
    scope = f"  (only: {', '.join(summary.scope)})" if summary.scope else ""
    return f"{summary.id:>3}  {when(summary.updated)}  {turns:<9} {question}{scope}"


def runtime_line(runtime: dict | None) -> str:
    """`rag status`'s llama.cpp line (the app's too, once a model is loaded):
    "AVX2 FMA … on AMD EPYC 7B13; extra buffers on (why); …"."""
    if runtime is None:
        return "not used"
    if "error" in runtime:
        return runtime["error"]
    where = "in a process of its own" if runtime["isolated"] else "in this process"
    return (f"{' '.join(runtime['features']) or 'no SIMD features'} on {runtime['cpu'] or 'an unnamed CPU'}; "
            f"extra buffers {'on' if runtime['extra_buffers'] else 'off'} ({runtime['extra_buffers_reason']}); "
            f"the model runs {where}")

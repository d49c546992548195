"""What the chat shows and exports, as text. Pure: no Textual here."""
from __future__ import annotations

from typing import Sequence

from rag.briefing import render_markdown
from rag.types import NO_CLAIM, SUPPORTED, Answer, SentenceCheck


def with_marks(text: str, checks: Sequence[SentenceCheck]) -> str:
    """The answer's Markdown with each checked sentence's mark after it (✓ ✗ ↪ ?);
    the text between sentences, line breaks and list markers included, is kept,
    and the part not yet checked (still being written) follows as it is."""
    out: list[str] = []
    at = 0
    for check in checks:
        s = check.sentence
        if s.start < at or s.end > len(text):
            continue  # offsets from another version of the text: leave the rest as written
        out.append(text[at:s.end])
        if check.verdict != NO_CLAIM:
            out.append(f" {check.mark}")
        at = s.end
    out.append(text[at:])
    return "".join(out)


def problems(checks: Sequence[SentenceCheck]) -> list[str]:
    """One line per sentence that is not supported: its mark, number and reason."""
    lines = []
    for check in checks:
        if check.verdict in (SUPPORTED, NO_CLAIM):
            continue
        fix = f"; {check.supported_by.where} states it" if check.supported_by is not None else ""
        lines.append(f"{check.mark} sentence {check.sentence.index + 1}, {check.verdict}: {check.reason}{fix}")
    return lines


def chat_markdown(answers: Sequence[Answer]) -> str:
    """A whole conversation as one briefing: each answer with its own sources."""
    return "\n---\n\n".join(render_markdown(a) for a in answers)

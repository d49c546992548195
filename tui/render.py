"""What the chat shows and exports, as text. Pure: no Textual here."""
from __future__ import annotations

from typing import Sequence

from rag.types.citations import NO_CLAIM, SentenceCheck


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

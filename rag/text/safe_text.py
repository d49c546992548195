"""Untrusted text made inert for a terminal: documents, titles, file names and
model output may carry control characters ("ESC ] 0 ;" retitles a window, "ESC [
2 J" clears the screen) and bidi overrides (which make text display in another
order than it reads). Every edge that shows such text (the CLI, the TUI, a
briefing) passes it through here. Pure, no dependencies.
"""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings,
# overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What JSON leaves raw but a terminal may act on: C1 controls and bidi characters
# (json.dumps escapes C0 itself).
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def is_inert(text: str) -> bool:
    """Has the text nothing `inert` would remove?"""
    return not _CONTROL.search(text)


def inert(text: str) -> str:
    """The text without control and bidi-override characters (newline and tab kept;
    a carriage return goes: it would let a line overwrite itself)."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def blanked(text: str) -> str:
    """The text with each control or bidi-override character replaced by a space:
    inert, and every offset into it still right (documents at ingest)."""
    return _CONTROL.sub(" ", text) if _CONTROL.search(text) else text


def escape_json_controls(encoded: str) -> str:
    """JSON text with the characters json.dumps leaves raw written as \\uXXXX
    escapes: the value is the same, and the terminal sees no control character."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", encoded)


class InertStream:
    """A text stream that writes everything through `inert`: the CLI's stdout,
    which prints nothing but text taken from documents, models and the user."""

    def __init__(self, stream):
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(inert(text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self.wrapped, name)

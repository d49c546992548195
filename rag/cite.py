"""Citation markers in answers: `[2]`, `[1, 3]`, `[1][3]`, `[1-3]`. Pure.

(The citation checker of the next issue builds on this parser.)
"""
from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+(?:\s*(?:,|-|–)\s*\d+)*)\]")


def marker_numbers(marker_body: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", marker_body):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2:
            lo, hi = int(bounds[0]), int(bounds[1])
            numbers.extend(range(lo, hi + 1) if hi >= lo and hi - lo < 50 else [lo, hi])
        else:
            numbers.append(int(bounds[0]))
    return numbers


def cited_numbers(text: str) -> list[int]:
    """Every source number the text cites, in order of first appearance."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        for n in marker_numbers(match.group(1)):
            if n not in seen:
                seen.append(n)
    return seen

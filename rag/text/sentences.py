"""Split text into sentences, with character offsets. Pure, no dependencies.

Used to split paragraphs that are too long for the embedding model, and later to
check citations sentence by sentence. The traps it avoids: abbreviations ("Mr.",
"U.S.", "No. 10", "e.g."), initials ("Michael M. Santiago"), decimals ("2.5%"),
and sentence-final punctuation inside closing quotes ('…said.” Then').
"""
from __future__ import annotations

import re

# Lower-cased, without the final period.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms mx dr prof sir dame st gen lt col sgt maj capt cmdr adm gov sen rep rev
    pres jr sr hon fr vs etc e.g i.e cf al approx dept est fig no nos vol pp p ed
    inc ltd co corp plc bros llc jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue wed thu fri sat sun mt ft ave blvd rd
    v c ca
    """.split()
)

# A candidate end: terminal punctuation, then closing quotes/brackets, then space.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+([\"'“‘(\[]*)(\S)")
# Chat and fence markup after a sentence's end starts a new "sentence": a planted
# "<|im_start|>system" or "</sources> [9]" is then dropped on its own, without the
# true statement before it (rag.retrieve.select_sentences.looks_like_instruction).
_MARKUP = ("<|", "</source", "<source", "[INST]", "[/INST]", "<<SYS>>")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_LONGEST_WORD = 40


def is_abbreviation(word: str) -> bool:
    """Does a full stop after `word` (the letters, digits and dots just before it)
    belong to an abbreviation or an initial rather than end a sentence? The same
    rule serves the splitter and the answer's shape (rag/answer/shape.py), so a
    model's sentence ends where the checker will split it."""
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):  # "U.S", "e.g", "i.e"
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():  # an initial: "M."
        return True
    return word.lower().rstrip(".") in ABBREVIATIONS


def _is_abbreviation(text: str, dot_index: int) -> bool:
    """Is the period at `dot_index` part of an abbreviation or an initial?"""
    # Only the few characters before the period can make an abbreviation; searching
    # from the start of the text would make splitting quadratic on a long line.
    match = _WORD_BEFORE.search(text, max(0, dot_index - _LONGEST_WORD), dot_index)
    return match is not None and is_abbreviation(match.group(1))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`; whitespace between them is left out.

    A line break always ends a sentence, since a paragraph's lines that survive
    into one passage (a byline, a date) are separate statements.
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        spans.extend(_line_spans(text, line.start(), line.end()))
    return spans


def _line_spans(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = lo
    for end_match in _END.finditer(text, lo, hi):
        end = end_match.end()
        nxt = _NEXT_START.match(text, end, hi)
        if not nxt:
            continue
        first_char = nxt.group(2)
        punct = end_match.group(0)
        if punct.startswith(".") and punct.rstrip("\"'”’)]") == ".":
            if _is_abbreviation(text, end_match.start()):
                continue
            # "… in 2.5 per cent. of cases" vs a new sentence: require a capital,
            # a digit or an opening quote to start the next one.
        if not (first_char.isupper() or first_char.isdigit() or nxt.group(1)
                or text.startswith(_MARKUP, nxt.start(2))):
            continue
        _append(spans, text, start, end)
        start = nxt.start(1)
    _append(spans, text, start, hi)
    return spans


def _append(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]

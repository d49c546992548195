"""The reviewer's re-reading of a sentence: its key slot (a number, else a name,
that the question did not already give) blanked and filled again by the model from
the sources alone, then compared (issue 39).

Why a blank: the checker's score is similarity, word coverage and hard rules on the
facts a sentence holds, and a sentence that puts a passage's number in another
actor's mouth ("NATO's secretary general urged 5%", where the passage says Trump
asked 5% and Rutte 3%), or answers a neighbouring question with a true name, keeps
every one of them high. Asked to fill "NATO's secretary general urged members to
reach ___", the model reads the passage for exactly that slot, and says "3%".

The prompt is the answer's own prompt (system, sources, question) with the blank
added after the question, so llama.cpp reads only the new tokens
(bench/RESULTS.md, "How far a ✓ can be trusted").

Pure but for `fill`, which asks the generator.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Sequence

from rag.answer.prompt import after_question
from rag.check.facts import names, number_spans, numbers, plain_words
from rag.text.words import STOP_WORDS, content_words

if TYPE_CHECKING:
    from rag.answer.generate import Generator

BLANK = "___"
FILL_TOKENS = 16  # a number or a name; more is the model writing a sentence

# Words that join the parts of one name: "Maria de la Queillerie", "Lord Howard of Lympne".
_NAME_JOINERS = frozenset("of de la le du von van der den di da del al bin".split())
_WORDS = re.compile(r"[A-Za-z][\w’'.-]*")
_MAGNITUDE = re.compile(r"\s+(?:million|billion|thousand|trillion|hundred)\b", re.I)
_SOURCE_NUMBER = re.compile(r"\b(?:source|sources|passage)\s*\[?$", re.I)
_NONE = re.compile(r"^\W*(?:none|n/a|no answer|nothing|unknown|not (?:given|stated|mentioned))\b", re.I)


class SlotKind(StrEnum):
    NUMBER = "number"
    NAME = "name"


@dataclass(frozen=True)
class Slot:
    """The part of a sentence the re-reading blanks."""

    kind: SlotKind
    start: int  # offsets in the sentence's text
    end: int
    text: str

    def blanked(self, sentence: str) -> str:
        return f"{sentence[:self.start]}{BLANK}{sentence[self.end:]}"


class Reading(StrEnum):
    """What the re-reading found, against the slot."""

    AGREES = "agrees"  # the sources fill the blank with the sentence's own words
    NOTHING = "nothing"  # the model found nothing to fill it with
    DIFFERS = "differs"  # the sources fill it with something else


@dataclass(frozen=True)
class Refill:
    slot: Slot
    blanked: str
    fill: str  # what the model wrote, first line, markers and quotes off
    reading: Reading


def key_slot(sentence: str, question: str, asks_name: bool) -> Slot | None:
    """The sentence's slot to re-read: a number the question does not hold (a reader
    relies on numbers whatever was asked) and, when the question asks for a name
    (who, which country, what organisation), a name it does not hold, that one first.
    None when there is neither: a descriptive sentence has no slot a blank can test,
    and a name the question did not ask for is incidental ("none" was the model's
    fill for "Ukraine" and "Putin" in true seed sentences)."""
    asked_numbers = numbers(question)
    number = None
    for start, end in number_spans(sentence):
        if _SOURCE_NUMBER.search(sentence[:start]):
            continue  # "according to source 1" names a source, not a fact
        if numbers(sentence[start:end]) - asked_numbers:
            magnitude = _MAGNITUDE.match(sentence, end)
            end = magnitude.end() if magnitude else end
            number = Slot(SlotKind.NUMBER, start, end, sentence[start:end])
            break
    if not asks_name:
        return number
    asked = content_words(question)  # stemmed: "Ukraine's" in the question asks about Ukraine
    for start, end in _name_runs(sentence):
        if end - start > 2 and content_words(sentence[start:end]) - asked - _NAME_JOINERS:  # not "St"
            return Slot(SlotKind.NAME, start, end, sentence[start:end])
    return number


def _name_runs(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each run of name words, joined by "of", "de", "von" …"""
    keys = set(names(sentence))
    runs: list[tuple[int, int]] = []
    run: list[int] = []  # [start, end] of the run being read
    joined = False  # a joiner seen after a name word, kept if another name word follows
    for match in _WORDS.finditer(sentence):
        word = match.group(0).rstrip(".")
        key = re.sub(r"['’]s?$", "", word).replace(".", "").lower()
        if key in keys:
            if run and not joined and sentence[run[1]:match.start()].strip():
                runs.append((run[0], run[1]))  # punctuation between: another name
                run = []
            if not run:
                run = [match.start(), match.start()]
            run[1] = match.start() + len(re.sub(r"['’]s$", "", word))
            joined = False
        elif run and word.lower() in _NAME_JOINERS and not joined:
            joined = True
        else:
            if run:
                runs.append((run[0], run[1]))
            run, joined = [], False
    if run:
        runs.append((run[0], run[1]))
    return runs


def cloze_messages(messages: Sequence[dict], blanked: str) -> list[dict]:
    """The answer's prompt with the blank after its question: the same prefix, so
    only the new words are read."""
    # Told not to answer: asked only to "fill the blank", the model answered the
    # question again ("[1]") on two of six seed questions; told this way, on none.
    return after_question(messages, f"Do not answer the question. Instead, copy from the sources the words that "
                                    f"fill the blank {BLANK} in this sentence: {blanked}\n"
                                    "Reply with those words only (no sentence, no source number), or with: none")


def statement_messages(messages: Sequence[dict], sentence: str, cited: Sequence[int]) -> list[dict]:
    """The answer's prompt with, after its question, whether the cited source states
    the sentence (for a sentence with no number or name to blank): the same prefix."""
    where = " and ".join(f"[{n}]" for n in cited)
    return after_question(messages, f"Do not answer the question. Instead: does source {where} state this? "
                                    f"“{sentence}” Reply yes or no.")


def read_fill(text: str) -> str:
    """The model's fill: its first line, without markers, quotes or a closing stop."""
    line = text.strip().split("\n")[0]
    line = re.sub(r"\[\^?\d+(?:\s*[,-]\s*\d+)*\]", "", line)
    return line.strip(" \t\"“”'‘’.,;:")


def compare(slot: Slot, fill: str, sentence: str = "") -> Reading:
    """Does the fill give the slot's number or name? Nothing when the model wrote
    none (or nothing); differs when it gives another number or name. A name the
    sentence holds elsewhere agrees: the slot was incidental and the sources' answer
    is in the sentence ("The ___ population was centered in Alsace" → "Alsace"). A
    number the sentence holds elsewhere may be copied from it: nothing."""
    if not fill or _NONE.match(fill):
        return Reading.NOTHING
    if slot.kind == SlotKind.NAME and sentence and content_words(fill) \
            and content_words(fill) <= content_words(slot.blanked(sentence)):
        return Reading.AGREES
    if slot.kind == SlotKind.NUMBER:
        # "3" and "3%" are one number: the blank often leaves its "%" behind.
        wanted, given = ({n.rstrip("%") for n in numbers(text)} for text in (slot.text, fill))
        if wanted & given:
            return Reading.AGREES
        if sentence and given <= {n.rstrip("%") for n in numbers(slot.blanked(sentence))}:
            # Copied from the sentence it was shown ("automated in ___ after 170 years" →
            # "170"), not read from the sources: it proves nothing.
            return Reading.NOTHING
        if given and sentence and _another_measure(slot, fill, sentence):
            # "is ___ more powerful" filled "149 horsepower" where the sentence said
            # "20%": a number of another measure answers another slot, and is no
            # evidence against this one (the passage says both).
            return Reading.NOTHING
        return Reading.DIFFERS if given else Reading.NOTHING
    wanted_words = content_words(slot.text) - {j for j in _NAME_JOINERS}
    given_words = content_words(fill)
    if wanted_words & given_words:
        return Reading.AGREES
    return Reading.DIFFERS if given_words else Reading.NOTHING


def _measure(text: str, end: int) -> str:
    """What the number ending at `end` counts: "%" for a share, else the word after
    it ("149 horsepower" -> "horsepower"), past a magnitude ("6.5 billion dollars");
    "" when nothing follows."""
    if text[:end].rstrip().endswith("%") or re.match(r"\s*(?:per\s*cent|percent)\b", text[end:], re.I):
        return "%"
    magnitude = _MAGNITUDE.match(text, end)
    word = _WORDS.match(text[magnitude.end() if magnitude else end:].lstrip())
    return word.group(0).lower().rstrip(".") if word else ""


def _another_measure(slot: Slot, fill: str, sentence: str) -> bool:
    """Does the fill's number count something else than the slot's did, by the word
    after each ("20%" a share, "149 horsepower" power), the fill's word being one the
    sentence does not use? Without a word after either, nothing is known: "3" for
    "5%" is the same share with its sign left behind."""
    spans = number_spans(fill)
    if not spans:
        return False
    mine = _measure(sentence, slot.end)
    theirs = _measure(fill, spans[0][1])
    known = [m for m in (mine, theirs) if m == "%" or (m and m not in STOP_WORDS)]
    if len(known) < 2 or mine == theirs:
        return False  # one of them unknown ("", or "in 1066 the", "3 of them")
    blanked = slot.blanked(sentence)  # neither set holds "%": a share the sentence lacks is another measure
    return theirs not in content_words(blanked) | {w.lower() for w in _WORDS.findall(blanked)}


def stated_in(fill: str, passages: Sequence[str]) -> bool:
    """Is what the fill gives written in one of these passages? Its number, or its
    words in order (punctuation and case aside)."""
    given = {n.rstrip("%") for n in numbers(fill)}
    if given:
        return any(given <= {n.rstrip("%") for n in numbers(p)} for p in passages)
    phrase = plain_words(fill)
    return phrase.strip() != "" and any(phrase in plain_words(p) for p in passages)


def refill(generator: Generator, messages: Sequence[dict], sentence: str, slot: Slot) -> Refill:
    """The blank filled by the model (greedy: the same answer every time)."""
    blanked = slot.blanked(sentence)
    written = "".join(generator.stream(cloze_messages(messages, blanked), FILL_TOKENS, 0.0))
    fill = read_fill(written)
    return Refill(slot, blanked, fill, compare(slot, fill, sentence))

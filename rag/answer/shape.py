"""The shape a model's answer must take: the refusal sentence, or one to
`max_sentences` sentences, each opening with a capital (or a digit or quote),
ending with a full stop (or ! or ?) and followed by a marker naming a source the
model was given ("… Europe. [2]", "[1][3]" for two). When the last sentence is
done only the end is allowed, which is the stop rule for rambling. Inside a
sentence a full stop stands only where the sentence splitter (rag/text/sentences.py)
would not end a sentence: within a token ("2.5", "U.S") or after an abbreviation
or an initial ("St. Bartholomew", "Michael M. Santiago"). So the citation parser
and the model agree on where each sentence ends. Whether a sentence is *true to*
its source is the checker's job (rag/check/checker.py), not the shape's.

The shape is given in two forms:
- `AnswerShape`, an automaton over the text written so far, for a local model:
  the model samples freely and the shape is consulted only about the few tokens
  the sampler may pick (`rag/answer/generate.py`), so it costs almost nothing. A llama.cpp
  grammar checks its rules against the whole 151,936-token vocabulary of a Qwen
  model at every step, which halved the speed of generation (bench/RESULTS.md).
- `cited_answer_grammar`, the same rules as GBNF, for a llama.cpp server, which
  takes a grammar with the request and applies it on its side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rag.answer.prompt import NOT_COVERED
from rag.text.sentences import ABBREVIATIONS, is_abbreviation

OPENING = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"“‘(')
_NOT_IN_BODY = frozenset("[]\n.!?")
_STOPS = frozenset(".!?")
MAX_MARKERS = 3  # "[1][2][3]" at most after one sentence
_WORD_MEMORY = 40  # characters of the current word kept for the abbreviation rule

# States of the automaton, as tuples (hashable, so a set of them is the NFA's state):
#   ("refusal", k)            the first k characters of the refusal sentence written
#   ("open", n)               n sentences done; the next must open
#   ("body", n, word)         inside a sentence; `word`: its current word so far
#   ("inner_dot", n, word)    after a full stop that may be inside a token ("2.5")
#   ("abbr_dot", n)           after the full stop of an abbreviation: a space must follow
#   ("abbr_space", n)         …and then the sentence goes on (no marker here)
#   ("stop", n)               after the sentence's final stop: " [" follows
#   ("stop_space", n)         …after its space
#   ("ref", n, digits, m)     inside the m-th marker of sentence n+1
#   ("cited", n, m)           n sentences done, the last with m markers
#   ("lead", k, alive)        the first sentence so far is the first k characters of each
#                             banned opening whose index is in `alive`
State = tuple


@dataclass(frozen=True)
class AnswerShape:
    source_numbers: frozenset[int]
    max_sentences: int = 3
    refusal: str = NOT_COVERED
    # A first sentence that may not be written (the refusal's opening, when an answer
    # is required): the model otherwise writes the refusal again as a "claim".
    banned: tuple[str, ...] = ()
    _digits: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_digits", frozenset(str(n) for n in self.source_numbers))

    @classmethod
    def over(cls, source_numbers: Iterable[int], max_sentences: int = 3, refusal: str = NOT_COVERED) -> "AnswerShape":
        return cls(frozenset(source_numbers), max_sentences, refusal)

    def start(self) -> frozenset[State]:
        if not self.source_numbers:
            return frozenset({("refusal", 0)})
        if not self.refusal:  # an answer is required: the refusal was asked for and doubted
            return frozenset({("open", 0)})
        return frozenset({("refusal", 0), ("open", 0)})

    def feed(self, states: frozenset[State], text: str) -> frozenset[State]:
        """The states after `text`; empty when the text breaks the shape."""
        for ch in text:
            states = frozenset(s for state in states for s in self._step(state, ch))
            if not states:
                break
        return states

    def accepts(self, states: frozenset[State]) -> bool:
        """May the answer end here?"""
        return any(self._accepting(s) for s in states)

    def finished(self, states: frozenset[State]) -> bool:
        """Must the answer end here (nothing more can follow)?"""
        return bool(states) and all(self._accepting(s) and self._final(s) for s in states)

    def is_valid(self, text: str) -> bool:
        """A complete answer of this shape (for tests and for checking a server's answer)."""
        return self.accepts(self.feed(self.start(), text))

    def _accepting(self, state: State) -> bool:
        return (state[0] == "refusal" and state[1] == len(self.refusal)) or state[0] == "cited"

    def _final(self, state: State) -> bool:
        if state[0] == "refusal":
            return True
        return state[1] >= self.max_sentences and state[2] >= MAX_MARKERS

    def _step(self, state: State, ch: str) -> Iterable[State]:
        kind = state[0]
        if kind == "refusal":
            k = state[1]
            if k < len(self.refusal) and self.refusal[k] == ch:
                yield ("refusal", k + 1)
            return
        if kind == "lead":  # the first sentence so far is the first k characters of every banned[i]
            k, alive = state[1], state[2]
            still = tuple(i for i in alive if self.banned[i][k] == ch)
            if still:
                if all(k + 1 < len(self.banned[i]) for i in still):
                    yield ("lead", k + 1, still)
                return
            yield from self._step(("body", 0, _trailing_word(self.banned[alive[0]][:k])), ch)
            return
        n = state[1]
        if kind == "open" and n == 0 and self.banned:
            alive = tuple(i for i, b in enumerate(self.banned) if b[0] == ch)
            if alive:
                yield ("lead", 1, alive)
                return
        if kind in ("open", "abbr_space"):
            if kind == "open" and ch in OPENING or kind == "abbr_space" and ch not in _NOT_IN_BODY and ch != " ":
                yield ("body", n, _word("", ch))
            return
        if kind in ("body", "inner_dot"):
            word = state[2]
            if kind == "inner_dot":
                if ch.isalnum():  # "2.5", "U.S": the stop was inside a token
                    yield ("body", n, _word(word + ".", ch))
                return
            if ch not in _NOT_IN_BODY:
                yield ("body", n, _word(word, ch))
            elif ch in _STOPS:
                yield ("stop", n)
                if ch == ".":
                    yield ("inner_dot", n, word)
                    if word and is_abbreviation(word):
                        yield ("abbr_dot", n)
            return
        yield from self._step_after_stop(state, ch)

    def _step_after_stop(self, state: State, ch: str) -> Iterable[State]:
        """After a sentence's full stop: a space, then its markers ("[1][2]"), then the next sentence."""
        kind, n = state[0], state[1]
        if kind == "abbr_dot":
            if ch == " ":
                yield ("abbr_space", n)
        elif kind == "stop":
            if ch == " ":
                yield ("stop_space", n)
        elif kind == "stop_space":
            if ch == "[":
                yield ("ref", n, "", 1)
        elif kind == "ref":
            digits, m = state[2], state[3]
            if ch.isdigit() and any(d.startswith(digits + ch) for d in self._digits):
                yield ("ref", n, digits + ch, m)
            elif ch == "]" and digits in self._digits:
                yield ("cited", n + 1, m)
        elif kind == "cited":
            m = state[2]
            if ch == "[" and m < MAX_MARKERS:
                yield ("ref", n - 1, "", m + 1)
            elif ch == " " and n < self.max_sentences:
                yield ("open", n)


def _trailing_word(text: str) -> str:
    word = ""
    for ch in text:
        word = _word(word, ch)
    return word


def _word(word: str, ch: str) -> str:
    """The word the next full stop would follow: letters, digits and inner dots."""
    if ch.isalnum() or ch == "_":
        return (word + ch)[-_WORD_MEMORY:]
    return ""


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cited_answer_grammar(source_numbers: Sequence[int], max_sentences: int = 3,
                         refusal: str = NOT_COVERED) -> str:
    """GBNF for an answer of cited sentences (or the refusal) over these sources."""
    numbers = sorted(set(source_numbers))
    if not numbers:
        return f"root ::= {_literal(refusal)}\n"
    more = max(0, max_sentences - 1)
    refs = " | ".join(_literal(str(n)) for n in numbers)
    # Abbreviations as they are written in running text: "St.", "Mr.", "Jan.".
    abbreviations = sorted({a.capitalize() for a in ABBREVIATIONS if "." not in a and len(a) > 1}
                           | {a for a in ABBREVIATIONS if "." not in a and len(a) > 1})
    return "\n".join([
        f"root ::= refusal | claim (\" \" claim){{0,{more}}}",
        f"refusal ::= {_literal(refusal)}",
        f'claim ::= opening body* [.!?] " [" ref "]" ("[" ref "]"){{0,{MAX_MARKERS - 1}}}',
        "opening ::= [A-Z0-9\"“‘(]",
        # Any character but brackets, newlines and sentence stops; a stop only when a
        # letter or digit follows at once, as in "2.5" or "U.S", or after an
        # abbreviation or an initial, as in "St. Bartholomew" or "M. Santiago".
        "body ::= [^\\[\\]\\n.!?] | [.] [A-Za-z0-9] | abbreviated",
        "abbreviated ::= [ (] (" + " | ".join(_literal(a) for a in abbreviations) + " | [A-Z]) \". \" [^\\[\\]\\n.!? ]",
        f"ref ::= {refs}",
        "",
    ])

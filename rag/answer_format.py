"""The shape a local model's answer must take, as a llama.cpp grammar (GBNF).

A small model drifts: it forgets the `[n]` markers, cites a source it was not
given, or rambles on. Constraining its sampling to a grammar settles the form
while the model chooses the words: either the refusal sentence, or one to
`max_sentences` sentences, each opening with a capital (or a digit or quote),
ending with a full stop, and followed by one marker naming a source it was given.
When the last sentence is done the grammar admits nothing but the end, which is
the stop rule for rambling. Inside a sentence a full stop may only sit within a
token ("2.5", "U.S"), so the citation parser and the model agree on where a
sentence ends. Whether each sentence is *true to* its source is the checker's
job (rag/cite.py), not the grammar's.
"""
from __future__ import annotations

from typing import Sequence

from rag.prompt import NOT_COVERED


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
    return "\n".join([
        f"root ::= refusal | claim (\" \" claim){{0,{more}}}",
        f"refusal ::= {_literal(refusal)}",
        'claim ::= opening body* [.!?] " [" ref "]"',
        "opening ::= [A-Z0-9\"“‘(]",
        # Any character but brackets, newlines and sentence stops; a stop only when a
        # letter or digit follows at once, as in "2.5" or "U.S".
        "body ::= [^\\[\\]\\n.!?] | [.] [A-Za-z0-9]",
        f"ref ::= {refs}",
        "",
    ])

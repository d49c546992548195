"""The answer's form: the automaton a local model is checked against token by token
(`AnswerShape`), and the same rules as a grammar for a server. A model writing
under either can only write the refusal or cited sentences naming the sources it
was given, with sentence ends where the checker's splitter puts them (never after
"St." or an initial). The real SmolLM2 model at high temperatures writes wildly
different text each time; the form holds whatever it writes. (The byte-vocabulary
tiny GGUF is not used here: under a grammar's open character classes it samples
at a few tokens a second.)"""
from __future__ import annotations

import re

import pytest

from rag.answer.shape import AnswerShape, cited_answer_grammar
from rag.check.checker import parse_answer
from rag.answer.prompt import NOT_COVERED

MESSAGES = [{"role": "user", "content": "Answer with sources."}]


def test_the_grammar_names_only_the_given_sources_and_bounds_the_sentences():
    grammar = cited_answer_grammar([3, 1, 3], max_sentences=2)
    assert 'ref ::= "1" | "3"' in grammar
    assert '(" " claim){0,1}' in grammar
    assert f'refusal ::= "{NOT_COVERED}"' in grammar
    assert cited_answer_grammar([]) == f'root ::= "{NOT_COVERED}"\n'


@pytest.mark.parametrize("text", [
    "The St. Bartholomew's Day massacre took place in 1572. [1]",
    "It was taken by Michael M. Santiago for Getty. [3]",
    "The U.S. voted against it, e.g. with Russia. [1] Spending rose to 2.5% by 2027. [3]",
    "Dr. Smith and Mr. Jones met on Jan. 5. [1][3]",
    NOT_COVERED,
])
def test_the_shape_accepts_abbreviations_initials_decimals_and_splits_where_the_checker_does(text):
    shape = AnswerShape.over([1, 3], max_sentences=3)
    assert shape.is_valid(text)
    sentences = parse_answer(text)
    if text != NOT_COVERED:  # each sentence is one the checker reads, with its marker
        assert len(sentences) == text.count(". [")
        assert all(s.cited and set(s.cited) <= {1, 3} for s in sentences)


@pytest.mark.parametrize("text", [
    "The resolution passed [1].",  # the marker before the stop
    "The resolution passed. [2]",  # a source it was not given
    "The resolution passed.",  # no marker
    "the resolution passed. [1]",  # no capital
    "One. [1] Two. [1] Three. [1] Four. [1]",  # more sentences than allowed
    "It passed. [1]\nIt did. [1]",  # a line break
    "It passed, said the St. [1] Bartholomew's Day report.",  # an end after an abbreviation, then prose
])
def test_the_shape_refuses_what_the_checker_could_not_read(text):
    shape = AnswerShape.over([1, 3], max_sentences=3)
    assert not shape.is_valid(text)


def test_the_grammar_for_a_server_knows_abbreviations_and_llama_cpp_accepts_it():
    from llama_cpp import LlamaGrammar

    grammar = cited_answer_grammar([1, 2], max_sentences=2)
    assert '"St"' in grammar and '"Mr"' in grammar
    LlamaGrammar.from_string(grammar, verbose=False)  # raises on a grammar llama.cpp cannot parse


@pytest.fixture(scope="module")
def smollm2(smollm2_gguf):
    from rag.answer.generate import LlamaCppGenerator

    return LlamaCppGenerator(smollm2_gguf, n_ctx=2048)


def test_a_model_under_the_grammar_writes_cited_sentences_or_the_refusal(smollm2):
    grammar = cited_answer_grammar([2, 4], max_sentences=3)
    written = []
    for temperature in (0.7, 1.2, 1.8):
        text = "".join(smollm2.stream(MESSAGES, max_tokens=300, temperature=temperature, grammar=grammar))
        written.append((text, smollm2.last_stats.stopped_by))
    answers = [(text, stopped) for text, stopped in written if text != NOT_COVERED]
    assert answers, "the model wrote the refusal at every temperature: the sentences' form went untested"
    for text, stopped in answers:
        complete = re.findall(r"[^\[\]]*?[.!?] \[\d\]", text)
        assert complete, text[:200]
        for sentence in complete:
            assert sentence.endswith(("[2]", "[4]"))
        assert len(complete) <= 3
        if stopped == "stop":  # finished: nothing after the last marker
            assert text.endswith("]") and len(parse_answer(text)) == len(complete)


def test_an_empty_source_list_admits_only_the_refusal(smollm2):
    text = "".join(smollm2.stream(MESSAGES, max_tokens=40, temperature=1.0,
                                         grammar=cited_answer_grammar([])))
    assert text == NOT_COVERED


def test_a_model_checked_against_the_shape_writes_only_that_shape(smollm2):
    """The token-by-token check (rag/answer/generate.py) at temperatures that make the
    model write nonsense: whatever it writes fits the shape, and an answer that ran
    to its end is complete. (Until 2026-12-06 this was a strict xfail: SmolLM2 wrote a
    token holding half of a character, then control tokens that write nothing, for
    which the shape had no objection, until its context was full; see the test below.)"""
    shape = AnswerShape.over([2, 4], max_sentences=2)
    for temperature in (1.8, 1.2, 0.7):  # the wildest first: where the open bug shows
        text = "".join(smollm2.stream(MESSAGES, max_tokens=200, temperature=temperature, shape=shape))
        states = shape.feed(shape.start(), text)
        assert states, f"left the shape: {text[:200]!r}"
        if smollm2.last_stats.stopped_by == "stop":
            assert shape.accepts(states), text[:200]
            assert all(set(s.cited) <= {2, 4} and s.cited for s in parse_answer(text)) or text == NOT_COVERED


def test_a_required_answer_may_not_open_as_the_refusal_does():
    """When a declined question is asked again with an answer required, neither the
    refusal nor any first sentence opening "The documents" or "The sources" fits; other openings,
    even ones that share its first letters, do."""
    from dataclasses import replace

    shape = replace(AnswerShape.over([1, 2]), refusal="", banned=("The documents", "The sources"))
    fits = lambda text: shape.accepts(shape.feed(shape.start(), text))  # noqa: E731
    assert not fits("The documents do not cover this.")
    assert not fits("The documents do not cover this. [1]")
    assert not fits("The documents do mention that air support is needed. [1]")
    assert not fits("The sources do not cover this. [1]")
    assert fits("The source of the Rhine is in Switzerland. [1]") and fits("Thesis defended. [1]")
    assert fits("The document was signed in 2019. [2]")
    assert fits("The US must provide air, logistics and communications support. [1]")
    assert fits("Thirty ships sailed. [1]") and fits("Air support. [2] The documents say so. [1]")


def test_the_shape_check_refuses_tokens_that_write_nothing_or_stray_bytes():
    """After "… a client. " only a marker may follow. A token that writes nothing (a
    control token), one that starts a character the shape cannot take there, and a
    stray continuation byte are all refused; "[" is taken, and so is half of a
    letter inside a sentence. The tokens are given as bytes, as a vocabulary has them."""
    from rag.answer.generate import ShapeProcessor

    pieces = {1: b"[", 2: b"", 3: b"\xe3\x83", 4: b"\xd8", 5: b"\x83", 6: b" the"}
    shape = AnswerShape.over([2, 4], max_sentences=2)
    after_stop = ShapeProcessor(None, shape, 0, frozenset({0}), dict(pieces))
    after_stop.states = shape.feed(shape.start(), "The new employee delivered it to a client. ")
    assert [t for t in pieces if after_stop._allows(t, may_end=False)] == [1]

    inside = ShapeProcessor(None, shape, 0, frozenset({0}), dict(pieces))
    inside.states = shape.feed(shape.start(), "The new employee")
    assert [t for t in pieces if inside._allows(t, may_end=False)] == [3, 4, 6]
    inside.pending = b"\xe3"  # half of a character written: only its next byte may follow
    assert [t for t in pieces if inside._allows(t, may_end=False)] == [5]

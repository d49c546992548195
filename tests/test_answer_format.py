"""The answer grammar: llama.cpp accepts it, and a model sampling under it can only
write the refusal or cited sentences naming the sources it was given. The real
SmolLM2 model at high temperatures writes wildly different text each time; the
shape holds whatever it writes. (The byte-vocabulary tiny GGUF is not used here:
under this grammar's open character classes it samples at a few tokens a second.)"""
from __future__ import annotations

import re

import pytest

from rag.answer_format import cited_answer_grammar
from rag.cite import parse_answer
from rag.prompt import NOT_COVERED

MESSAGES = [{"role": "user", "content": "Answer with sources."}]


def test_the_grammar_names_only_the_given_sources_and_bounds_the_sentences():
    grammar = cited_answer_grammar([3, 1, 3], max_sentences=2)
    assert 'ref ::= "1" | "3"' in grammar
    assert '(" " claim){0,1}' in grammar
    assert f'refusal ::= "{NOT_COVERED}"' in grammar
    assert cited_answer_grammar([]) == f'root ::= "{NOT_COVERED}"\n'


@pytest.fixture(scope="module")
def smollm2(smollm2_gguf):
    from rag.generate import LlamaCppGenerator

    return LlamaCppGenerator(smollm2_gguf, n_ctx=2048)


def test_a_model_under_the_grammar_writes_cited_sentences_or_the_refusal(smollm2):
    grammar = cited_answer_grammar([2, 4], max_sentences=3)
    for temperature in (0.7, 1.2, 1.8):
        text = "".join(smollm2.stream(MESSAGES, max_tokens=300, temperature=temperature, grammar=grammar))
        if text == NOT_COVERED:
            continue
        complete = re.findall(r"[^\[\]]*?[.!?] \[\d\]", text)
        assert complete, text[:200]
        for sentence in complete:
            assert sentence.endswith(("[2]", "[4]"))
        assert len(complete) <= 3
        if smollm2.last_stats.stopped_by == "stop":  # finished: nothing after the last marker
            assert text.endswith("]") and len(parse_answer(text)) == len(complete)


def test_an_empty_source_list_admits_only_the_refusal(smollm2):
    text = "".join(smollm2.stream(MESSAGES, max_tokens=40, temperature=1.0,
                                         grammar=cited_answer_grammar([])))
    assert text == NOT_COVERED

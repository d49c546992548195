"""Does an answer give what its question asks (rag/answer/question_fit.py)? Rules read
from the question and the answer's sentences alone; the examples are answers the
default model wrote to SQuAD questions (bench/RESULTS.md) and to the seeds."""
from __future__ import annotations

import pytest

from rag.answer.question_fit import restates_the_question, spelled_out
from rag.retrieve.question import analyse
from rag.text.sentences import split_sentences
from rag.types.citations import NO_CLAIM, SUPPORTED, AnswerSentence, CitationReport, SentenceCheck


def report(answer: str, no_claim: tuple[str, ...] = ()) -> CitationReport:
    checks = tuple(SentenceCheck(AnswerSentence(i, 0, len(text), text, (1,)),
                                 NO_CLAIM if text in no_claim else SUPPORTED, "stated by [1]", None)
                   for i, text in enumerate(split_sentences(answer)))
    return CitationReport(checks, 1.0)


@pytest.mark.parametrize("question, answer", [
    ("Who was the Normans' main enemy in Italy, the Byzantine Empire and Armenia?",
     "The Normans' main enemy in Italy was the Byzantine Empire and Armenia."),
    ("Who benefited from CSNET?", "The Computer Science Network (CSNET) benefited from CSNET."),
    ("What did Jerne develop on the basis of CST?",
     "Jerne developed the clonal selection theory (CST) on the basis of CST, according to the sources."),
])
def test_an_answer_that_says_the_question_back_restates_it(question, answer):
    assert restates_the_question(report(answer), analyse(question))


@pytest.mark.parametrize("question, answer", [
    ("Who was the Norse leader?", "Rollo was the Norse leader."),  # one word added: the answer
    ("What was the Yuan's Persian ally?", "The Yuan's Persian ally was the Ilkhanate."),
    ("Can a packet be lost?", "Yes, a packet can be lost."),  # a yes answers a yes/no question
    ("Who benefited from CSNET?", "Computer science departments benefited from CSNET."),
    ("When did the British defeat New France?", "The British defeated New France in 1759-60."),
    ("Did the UK vote for the resolution?", "The UK voted for the resolution."),  # said back: a yes
])
def test_an_answer_that_adds_what_was_asked_does_not(question, answer):
    assert not restates_the_question(report(answer), analyse(question))


def test_only_sentences_that_claim_something_are_read():
    """An answer of the refusal alone restates nothing: it is not held to this rule."""
    refusal = "The documents do not cover this."
    assert not restates_the_question(report(refusal, no_claim=(refusal,)), analyse("What does it cover?"))


def test_an_acronym_is_spelled_out_by_the_first_letters_of_words_with_small_words_between():
    assert spelled_out("CSNET", "The Computer Science Network (CSNET) grew.") == {"Computer", "Science", "Network"}
    assert spelled_out("MPs", "Members of Parliament voted.") == {"Members", "Parliament"}
    assert spelled_out("NATO", "NATO met in The Hague.") == set()  # the acronym itself spells nothing out


def test_a_shouted_word_is_not_read_as_an_acronym():
    """Past eight letters an all-capitals word is not spelled out: each letter may come
    from any of several words, and the search for them grows with every letter."""
    assert spelled_out("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", " ".join(["aaaaa"] * 60)) == set()
    assert spelled_out("AAAA", "aa aa") == {"aa"}

"""Question analysis: the answer type from the wh-word and its head noun, and the
key terms an answer must be about, on wordings people use (traps included)."""
import pytest

from rag.question import (
    DATE, DEFINITION, ORGANISATION, OTHER, PERSON, PLACE, QUANTITY, REASON, YES_NO, analyse, answer_type,
)


@pytest.mark.parametrize("question, expected", [
    ("How many countries voted in favour of the resolution?", QUANTITY),
    ("How much of the budget went to repairs?", QUANTITY),  # "how much of": still an amount
    ("how long did the siege last?", QUANTITY),
    ("What percentage of voters backed it?", QUANTITY),
    ("The resolution got how many votes?", QUANTITY),
    ("When did the Normans conquer England?", DATE),
    ("In what year was the treaty signed?", DATE),
    ("What century did the Yuan dynasty begin?", DATE),
    ("Who wrote the article about Starmer?", PERSON),
    ("Whose idea was the coalition?", PERSON),
    ("Which president signed the order?", PERSON),
    ("Which French king granted the land?", PERSON),
    ("Where is the Scottish Parliament?", PLACE),
    ("Which country did Rollo come from?", PLACE),
    ("In which city was the summit held?", PLACE),
    ("Which company built the computer?", ORGANISATION),
    ("What party won the election?", ORGANISATION),
    ("Why did the oil crisis start?", REASON),
    ("What caused the embargo?", REASON),
    ("Did Britain send troops?", YES_NO),
    ("Is the Scottish Parliament elected?", YES_NO),
    ("What is a matched molecular pair?", DEFINITION),
    ("What did Lammy tell MPs about sending troops?", OTHER),  # a statement, not a person
    ("What did Chinese President Xi Jinping say about the peace talks?", OTHER),
    ("What does the Crawler do with each paper?", OTHER),
])
def test_answer_type(question, expected):
    assert answer_type(question) == expected


def test_key_terms_are_names_quotes_and_numbers_with_offsets():
    question = 'Which company built the "Mark I" computer for Prime Minister Churchill in 1944?'
    analysis = analyse(question)
    terms = [(t.text, t.kind) for t in analysis.key_terms]
    assert terms == [("Mark I", "quoted"), ("Churchill", "name"), ("1944", "number")]
    for term in analysis.key_terms:
        assert question[term.start:term.end] == term.text


def test_question_words_and_titles_are_not_names():
    analysis = analyse("What did Chinese President Xi Jinping say about the peace talks?")
    assert [t.text for t in analysis.names] == ["Chinese President Xi Jinping"]
    assert [t.text for t in analyse("Who is the President?").names] == []
    assert [t.text for t in analyse("When did the Normans conquer England?").names] == ["Normans", "England"]

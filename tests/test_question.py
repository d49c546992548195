"""Question analysis: the answer type from the wh-word and its head noun, and the
key terms an answer must be about, on wordings people use (traps included)."""
import pytest

from rag.retrieve.question import (
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


def test_missing_terms_finds_what_no_text_mentions():
    from rag.retrieve.question import missing_terms

    def missing(question, *texts):
        return [t.text for t in missing_terms(analyse(question), list(texts))]

    text = "In 1755 the British under Braddock took 1,500 men to Fort Duquesne; Céleron had buried plates."
    assert missing("In 1755 what fort did the British capture?", text) == []
    assert missing("In 1756 what fort did the British capture?", text) == ["1756"]
    assert missing("What happened to the 1500 men?", text) == []  # "1,500" is 1500
    assert missing("What happened to the 500 men?", text) == ["500"]  # not a part of 1,500
    assert missing("What was Tanaghrisson's response to Celeron?", text) == ["Tanaghrisson"]  # accents folded
    assert missing("Why did Russian forces fight in Ukraine?", "Russia invaded Ukraine.") == []  # derived forms
    assert missing("Who was one prominent Huguenot-descended arms manufacturer?", "a Huguenot family") == []
    assert missing('What did the report call "a managed decline"?', "the decline was managed well") == []
    assert missing('What did the report call "a managed retreat"?', "the decline was managed well") == [
        "a managed retreat"]
    assert missing("What did the US say?", "The United States said so.") == []  # short acronyms never refuse
    # Small numbers are often words or part of a name: their absence proves nothing.
    assert missing("Who prospered before World War 1?", "Before World War I, empires prospered.") == []


def test_a_question_in_two_parts_is_searched_as_two():
    from rag.retrieve.question import question_parts

    assert question_parts("What did Starmer say Europe must do, and what did he ask the US for?") == (
        "What did Starmer say Europe must do?", "What did Starmer ask the US for?")
    assert question_parts("Who founded the Yuan dynasty and when did it end?") == (
        "Who founded the Yuan dynasty?", "When did it end? Yuan")
    assert question_parts("How many votes were cast? Who abstained?") == ("How many votes were cast?", "Who abstained?")
    # "and" between names, or before no question word, joins no second question.
    for whole in ("What lies between the Song and the Ming?", "What did Europe and the US agree?",
                  "Who is Ukraine's deputy foreign minister?"):
        assert question_parts(whole) == (whole,)

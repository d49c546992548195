"""The reviewer's re-reading, its pure parts (rag/answer/cloze.py, rag/answer/review.py):
which slot of a sentence is blanked, how the model's fill is read and compared, and the
verdict that follows. The model's side is in tests/test_answer_branches.py (scripted)
and tests/test_real_model.py (the default model)."""
from __future__ import annotations

import pytest

from rag.answer.cloze import Reading, Refill, Slot, SlotKind, cloze_messages, compare, key_slot, read_fill, \
    stated_in, statement_messages
from rag.answer.review import affirmed, quoted, reviewed
from rag.types.citations import SUPPORTED, AnswerSentence, SentenceCheck

RUTTE = ("Mr Trump has called on NATO members to commit 5% to defence spending, while NATO chief Mark Rutte "
         "urged them to stretch to 3%.")


@pytest.mark.parametrize("sentence, question, asks_name, slot", [
    ("NATO's secretary general urged members to reach 5% of defence spending.",
     "What level of defence spending has Trump demanded?", False, "5%"),
    ("The UK will spend 2.5 per cent of GDP by 2027.", "How much will the UK spend by 2027?", False, "2.5 per cent"),
    ("About 2 million people lived there.", "What was the population?", False, "2 million"),
    ("Richard Trevithick created an engine using high pressure steam in 1801.",
     "Who created an engine using high pressure steam in 1801?", True, "Richard Trevithick"),
    ("Lord Howard of Lympne described the vote as a stark reminder.", "Which peer called the vote a reminder?",
     True, "Howard of Lympne"),
    # A name the question did not ask for is incidental; "source 1" names a source.
    ("Starmer urged partners to increase economic pressure on Russia.", "What did Starmer ask the G7 to do?",
     False, None),
    ("According to source 1, the talks were delayed.", "What happened to the talks?", False, None),
    # The question's own words are not the slot: "Ukraine's" asks about Ukraine.
    ("European leaders said Ukraine should not join NATO.", "What did leaders say about Ukraine's NATO bid?",
     True, None),
])
def test_the_slot_is_the_number_or_the_asked_for_name_the_question_lacks(sentence, question, asks_name, slot):
    found = key_slot(sentence, question, asks_name)
    assert (found.text if found else None) == slot
    if found:
        assert found.blanked(sentence).count("___") == 1 and slot not in found.blanked(sentence)


@pytest.mark.parametrize("slot, fill, reading", [
    (Slot(SlotKind.NUMBER, 0, 2, "5%"), "3%", Reading.DIFFERS),
    (Slot(SlotKind.NUMBER, 0, 2, "5%"), "5", Reading.AGREES),  # the "%" left behind the blank
    (Slot(SlotKind.NUMBER, 0, 2, "5%"), "none", Reading.NOTHING),
    (Slot(SlotKind.NUMBER, 0, 2, "5%"), "", Reading.NOTHING),
    (Slot(SlotKind.NUMBER, 0, 2, "5%"), "a lot", Reading.NOTHING),
    (Slot(SlotKind.NAME, 0, 10, "Mike Waltz"), "Waltz", Reading.AGREES),
    (Slot(SlotKind.NAME, 0, 18, "Richard Trevithick"), "Oliver Evans", Reading.DIFFERS),
])
def test_a_fill_agrees_differs_or_gives_nothing(slot, fill, reading):
    assert compare(slot, fill) == reading


def test_a_fill_the_sentence_holds_elsewhere_agrees_if_a_name_and_proves_nothing_if_a_number():
    sentence = "The French Huguenot population was centred in Alsace, not Paris."
    assert compare(key_slot(sentence, "Where was the Huguenot population centred?", True), "Alsace",
                   sentence) == Reading.AGREES
    # Copied from the sentence it was shown, not read from the sources.
    lighthouse = "The Cape Wrath lighthouse was automated in 1998 after 170 years of keepers."
    assert compare(key_slot(lighthouse, "When was it automated?", False), "170", lighthouse) == Reading.NOTHING
    assert compare(key_slot(lighthouse, "When was it automated?", False), "1988", lighthouse) == Reading.DIFFERS


def test_a_number_of_another_measure_is_no_evidence_against_the_slot():
    """A saved news page says the Sentra's engine has 149 horsepower and is 20% more
    powerful; "is ___ more powerful" filled "149 horsepower" once marked the true
    sentence ✗ contradicted. A share is not a power, votes are not abstentions; a
    number of the same measure, or with no measure word, still differs."""
    sentra = "The new engine of the 2020 Nissan Sentra is 20% more powerful than the current model."
    asked = "How powerful is the new engine of the 2020 Nissan Sentra?"
    assert compare(key_slot(sentra, asked, False), "149 horsepower", sentra) == Reading.NOTHING
    assert compare(key_slot(sentra, asked, False), "25%", sentra) == Reading.DIFFERS
    votes = "The resolution got 93 votes in favour."
    asked = "How many countries voted for the resolution?"
    assert compare(key_slot(votes, asked, False), "65 abstentions", votes) == Reading.NOTHING
    assert compare(key_slot(votes, asked, False), "89 votes", votes) == Reading.DIFFERS
    nato = "NATO's secretary general urged members to reach 5% of defence spending."
    asked = "What did NATO's chief urge members to spend on defence?"
    for fill in ("3%", "3 per cent", "3", "3% of GDP"):
        assert compare(key_slot(nato, asked, False), fill, nato) == Reading.DIFFERS, fill


def test_the_fill_is_read_without_markers_quotes_or_a_second_line():
    assert read_fill(' "3%". [2]\nMark Rutte urged…') == "3%"
    assert read_fill("[1] Oliver Evans") == "Oliver Evans"


def test_what_a_fill_gives_is_looked_for_in_the_cited_passage():
    assert stated_in("3%", [RUTTE]) and stated_in("3 per cent", [RUTTE]) and stated_in("Mark Rutte", [RUTTE])
    assert not stated_in("4%", [RUTTE]) and not stated_in("Jens Stoltenberg", [RUTTE])


def test_the_review_prompts_extend_the_answer_prompt():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "<sources>…</sources>\nQuestion: Q"}]
    for extended in (cloze_messages(messages, "Rutte urged ___."), statement_messages(messages, "Rutte urged 3%.", [2])):
        assert extended[0] == messages[0] and extended[-1]["content"].startswith(messages[-1]["content"])
        assert messages[-1]["content"] == "<sources>…</sources>\nQuestion: Q"  # the answer's own prompt untouched
    assert "[2]" in statement_messages(messages, "Rutte urged 3%.", [2])[-1]["content"]


def _check(text: str, score: float = 0.8) -> SentenceCheck:
    return SentenceCheck(AnswerSentence(0, 0, len(text) + 4, text, (2,)), SUPPORTED, "stated by [2]", None,
                         score=score)


def test_the_verdicts_after_the_re_reading():
    text = "NATO's secretary general urged members to reach 5% of defence spending."
    slot = key_slot(text, "What level of defence spending has Trump demanded?", False)
    blanked = slot.blanked(text)
    contradicted = reviewed(_check(text), Refill(slot, blanked, "3%", Reading.DIFFERS), [RUTTE])
    assert contradicted.verdict == "contradicted" and contradicted.mark == "✗"
    assert "[2] gives “3%”, not “5%”" in contradicted.reason and contradicted.reason.startswith("stated by [2]")
    # Another number the cited passage does not state, or none: the model may have misread; proves nothing.
    assert reviewed(_check(text), Refill(slot, blanked, "7%", Reading.DIFFERS), [RUTTE]).verdict == SUPPORTED
    assert reviewed(_check(text), Refill(slot, blanked, "none", Reading.NOTHING), [RUTTE]).verdict == SUPPORTED
    assert reviewed(_check(text), Refill(slot, blanked, "5%", Reading.AGREES), [RUTTE]).verdict == SUPPORTED
    assert affirmed(_check(text), 0.8, 0.5).verdict == SUPPORTED
    assert quoted(_check(text, score=1.0)) and not quoted(_check(text))  # the passage's own words: not re-read
    doubted = affirmed(_check(text), 0.2, 0.5)
    assert doubted.verdict == "unsure" and doubted.mark == "?" and "P(yes) 0.20" in doubted.reason

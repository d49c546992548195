"""Every branch of the answer path, on cue: the real seed index, embeddings and checker,
with a scripted model (tests/scripted_model.py: it plays back given answers and
probabilities, since a real model declines, repeats itself, doubts or crashes only by
chance). Each test names the branch and asserts what the reader gets from it; the
real model's end-to-end tests are in tests/test_real_model.py."""
from __future__ import annotations

import pytest

from rag.answer.prompt import CONFIRM_IN_PROMPT, INSIST, JUDGE_SYSTEM, NOT_COVERED
from rag.types.answers import Answer
from rag.types.citations import SentenceCheck
from rag.wiring import open_assistant

from conftest import collect_answer
from scripted_model import ScriptedModel, number_beside, reworded, sentence_with

QUESTION = "How much will the UK spend on defence by 2027?"
# Answered by a sentence without a number ("…since the end of the cold war").
ANNOUNCED = "What did Starmer announce about UK defence spending?"


def ask(seed_index, seed_retriever, model: ScriptedModel, review: bool = False, question: str = QUESTION,
        **kwargs) -> tuple[str, list[SentenceCheck], Answer]:
    """One answer; the review's re-reading of sentences is off unless `review` (its
    branches have their own tests below, with their fills scripted)."""
    settings = seed_index if review else seed_index.replace(review_sentences=0)
    pieces, checks, answer = collect_answer(open_assistant(settings, seed_retriever, model).ask(question, **kwargs))
    return "".join(pieces), checks, answer


def cited(words: str, number_shift: int = 0, in_other_words: bool = False):
    """A script: the source sentence that holds `words`, cited to its own number (or
    `number_shift` sources further on: a wrong citation); `in_other_words`: reworded."""
    def write(sources: dict[int, str]) -> str:
        number, sentence = sentence_with(sources, words)
        numbers = sorted(sources)
        wrong = numbers[(numbers.index(number) + number_shift) % len(numbers)]
        return f"{reworded(sentence) if in_other_words else sentence} [{wrong}]"
    return write


def test_an_answer_the_model_confirms_is_shown_as_written(seed_index, seed_retriever):
    model = ScriptedModel([cited("2.5")], judgements=[0.9])
    streamed, checks, answer = ask(seed_index, seed_retriever, model)
    assert "2.5" in answer.text and streamed.strip() == answer.text
    assert not answer.declined and answer.alternative is None and answer.model_stopped is None
    assert [c.verdict for c in checks] == ["supported"]
    assert answer.timings["answer_confidence"] == answer.timings["answer_confidence_in_prompt"] == 0.9
    assert len(model.streams) == 1 and len(model.judged) == 1
    # Asked in the answer's own prompt, after its question: the model reads only the new words.
    (written,), (confirming,) = model.streams, model.judged
    assert confirming.messages[:-1] == written.messages[:-1]
    assert confirming.messages[-1]["content"].startswith(written.messages[-1]["content"])
    assert confirming.messages[-1]["content"].endswith(CONFIRM_IN_PROMPT)


def test_a_refusal_is_held_back_and_reconsidered_when_the_model_judges_its_sources_answer(seed_index,
                                                                                          seed_retriever):
    model = ScriptedModel([NOT_COVERED, cited("2.5")], judgements=[0.9, 0.9])
    streamed, checks, answer = ask(seed_index, seed_retriever, model)
    assert "do not cover" not in streamed  # the refusal never reached the reader
    assert streamed.strip() == answer.text and "2.5" in answer.text and not answer.declined
    assert answer.timings["refused_draft"] == NOT_COVERED and answer.timings["refusal_doubt"] == 0.9
    first, second = model.streams
    assert second.messages[-1]["content"].endswith(INSIST)  # the same prompt, an answer required
    assert second.shape.refusal == "" and "The documents" in second.shape.banned
    assert [c.verdict for c in checks] == ["supported"]


def test_a_refusal_stands_when_the_model_doubts_its_sources_and_the_documents_own_words_follow(seed_index,
                                                                                             seed_retriever):
    model = ScriptedModel([NOT_COVERED], judgements=[0.2])
    streamed, _, answer = ask(seed_index, seed_retriever, model)
    assert answer.declined and answer.text == NOT_COVERED and streamed.strip() == NOT_COVERED
    assert answer.warning == "the model found no answer in the passages it was given"
    assert answer.alternative is not None and "2.5" in answer.alternative.text
    assert len(model.streams) == 1


def test_a_refusal_asked_again_that_only_begins_the_refusal_again_stands(seed_index, seed_retriever):
    model = ScriptedModel([NOT_COVERED, "The"], judgements=[0.9])
    streamed, _, answer = ask(seed_index, seed_retriever, model)
    assert answer.declined and answer.text == NOT_COVERED
    assert "The documents do not cover this." in streamed and len(model.streams) == 2


def test_an_answer_the_model_cannot_confirm_is_withheld_and_the_documents_own_words_given(seed_index,
                                                                                         seed_retriever):
    model = ScriptedModel([cited("2.5")], judgements=[0.3, 0.1])  # unsure in its prompt, then no afresh
    _, _, answer = ask(seed_index, seed_retriever, model)
    assert answer.declined and answer.text == NOT_COVERED
    assert "2.5" in answer.timings["unconfirmed_draft"] and answer.timings["answer_confidence"] == 0.1
    assert answer.timings["answer_confidence_in_prompt"] == 0.3
    assert model.judged[1].messages[0]["content"] == JUDGE_SYSTEM  # the passages it cites, afresh
    assert answer.warning == "the model could not confirm that its sources answer this (confidence 0.10)"
    assert answer.alternative is not None and "2.5" in answer.alternative.text


def test_an_answer_the_model_is_unsure_of_in_its_prompt_is_shown_when_its_cited_passages_confirm_it(
        seed_index, seed_retriever):
    model = ScriptedModel([cited("2.5")], judgements=[0.45, 0.8])
    _, checks, answer = ask(seed_index, seed_retriever, model)
    assert not answer.declined and "2.5" in answer.text and answer.alternative is None
    assert answer.timings["answer_confidence"] == 0.8 and answer.timings["answer_confidence_in_prompt"] == 0.45
    assert len(model.judged) == 2 and [c.verdict for c in checks] == ["supported"]


def test_an_answer_both_readings_lean_against_is_shown_unsure_with_the_documents_own_words(seed_index,
                                                                                          seed_retriever):
    model = ScriptedModel([cited("2.5")], judgements=[0.3, 0.45])  # above the decline line, below sure
    _, _, answer = ask(seed_index, seed_retriever, model)
    assert not answer.declined and "2.5" in answer.text
    assert [(c.verdict, c.mark) for c in answer.citations.checks] == [("unsure", "?")]
    assert answer.citations.checks[0].reason.endswith(
        "asked whether its sources answer exactly this question, the model leans to no (P(yes) 0.45)")
    assert answer.warning == "the model is not sure that its sources answer this question (confidence 0.45)"
    assert answer.alternative is not None and len(model.judged) == 2


def test_an_answer_to_how_much_without_a_number_is_shown_unsure_and_says_what_it_lacks(seed_index,
                                                                                     seed_retriever):
    """Every word of it is in its passage, but it does not say how much: not a ✓."""
    model = ScriptedModel([cited("cold war")], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model)
    check, = answer.citations.checks
    assert (check.verdict, check.mark) == ("unsure", "?")
    assert check.reason.endswith("; but it gives no number, which the question asks for")
    assert answer.warning == "none of its sentences gives a number, which the question asks for"
    assert answer.answers_question is False and answer.alternative is not None


def test_a_repeated_sentence_ends_the_answer_and_is_left_out(seed_index, seed_retriever):
    def repeating(sources: dict[int, str]) -> str:
        once = cited("2.5")(sources)
        return f"{once} {once} {once}"

    model = ScriptedModel([repeating], judgements=[0.9])
    _, checks, answer = ask(seed_index, seed_retriever, model)
    assert answer.text == cited("2.5")(_sources(model)) and len(checks) == 1
    assert answer.timings["stopped_by"] == "repetition"
    assert model.streams[0].closed_early  # the model was stopped, not read to its end


def test_a_sentence_of_the_models_instructions_ends_the_answer_and_is_left_out(seed_index, seed_retriever):
    """Written once by the default model after an answer to a SQuAD question: the
    reader never gets the prompt's own words as part of an answer."""
    def echoing(sources: dict[int, str]) -> str:
        return f"{cited('2.5')(sources)} If no source states the answer, write just: {NOT_COVERED} [1]"

    model = ScriptedModel([echoing], judgements=[0.9])
    _, checks, answer = ask(seed_index, seed_retriever, model)
    assert answer.text == cited("2.5")(_sources(model)) and len(checks) == 1
    assert "If no source" not in answer.text and answer.timings["stopped_by"] == "repetition"
    assert model.streams[0].messages[0]["content"].count("If no source states the answer, write just") == 1


def test_a_cancel_stops_the_model_before_its_next_piece(seed_index, seed_retriever):
    model = ScriptedModel([cited("2.5")], judgements=[0.9])
    read = []

    def after_two() -> bool:
        read.append(1)
        return len(model.streams[0].pieces) >= 2

    ask(seed_index, seed_retriever, model, should_stop=after_two)
    assert len(model.streams[0].pieces) == 2 and model.last_stats.stopped_by == "cancelled"


def test_a_sentence_cited_to_the_wrong_source_is_pointed_to_the_one_that_states_it(seed_index, seed_retriever):
    model = ScriptedModel([cited("cold war", number_shift=1)], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model, question=ANNOUNCED)
    right, _ = sentence_with(_sources(model), "cold war")
    assert answer.timings["markers_corrected"] == 1
    assert answer.cited == (right,) and answer.text.endswith(f"[{right}]")
    assert [c.verdict for c in answer.citations.checks] == ["supported"]


@pytest.mark.parametrize("where", ["writing", "confirming"])
def test_a_model_that_stops_mid_answer_leaves_its_finished_sentences_and_the_documents_own_words(
        seed_index, seed_retriever, where):
    """The model's process dies (ModelStoppedError, as model_process.py raises on a
    crash) after its first sentence, or while confirming the answer: the sentence it
    finished stays with its check, one line says what happened, and the extractive
    answer follows; nothing is raised to the front end."""
    def two_sentences(sources: dict[int, str]) -> str:
        first = cited("2.5")(sources)
        if where == "writing":
            model.crash_after_pieces = len(first.split()) + 2  # two words into the second sentence
        return f"{first} {cited('cold war')(sources)}"

    model = ScriptedModel([two_sentences], judgements=[0.9], crash_in_judge=where == "confirming")
    streamed, checks, answer = ask(seed_index, seed_retriever, model)
    first = cited("2.5")(_sources(model))
    assert answer.model_stopped == "signal 11, SIGSEGV"
    assert answer.text.startswith(first) and checks[0].verdict == "supported"
    if where == "writing":
        assert answer.text == first  # the unfinished second sentence is not kept
    assert "⚠ the model stopped unexpectedly (signal 11, SIGSEGV)" in streamed
    assert answer.warning.startswith("the model stopped unexpectedly")
    assert answer.alternative is not None and answer.alternative.mode == "extractive"
    assert "2.5" in answer.alternative.text


def _sources(model: ScriptedModel) -> dict[int, str]:
    from scripted_model import prompt_sources

    return prompt_sources(model.streams[0].messages)


# The review's re-reading (rag/answer/cloze.py): a supported sentence with a number is
# re-read with it blanked, from the answer's own prompt; one without, asked about.

def test_a_sentence_whose_blank_the_sources_fill_alike_keeps_its_check(seed_index, seed_retriever):
    model = ScriptedModel([cited("2.5", in_other_words=True), "2.5 per cent"], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model, review=True)
    assert [c.verdict for c in answer.citations.checks] == ["supported"]
    first, blank = model.streams
    # The re-reading extends the answer's own prompt: llama.cpp reads only the new words.
    assert blank.messages[:-1] == first.messages[:-1]
    assert blank.messages[-1]["content"].startswith(first.messages[-1]["content"])
    assert "___" in blank.messages[-1]["content"] and "2.5" not in blank.messages[-1]["content"].split("blank ___")[1]
    # Quoted verbatim, the same sentence is not re-read: its passage states exactly it.
    quoted_model = ScriptedModel([cited("2.5")], judgements=[0.9])
    _, _, quoted_answer = ask(seed_index, seed_retriever, quoted_model, review=True)
    assert len(quoted_model.streams) == 1 and quoted_answer.citations.checks[0].verdict == "supported"
    assert answer.timings["reread"] == 1 and answer.timings["reread_fills"] == ("2.5 per cent",)


def test_a_sentence_whose_cited_passage_fills_its_blank_otherwise_is_contradicted(seed_index, seed_retriever):
    model = ScriptedModel([cited("2.5", in_other_words=True), lambda sources: number_beside(sources, "2.5")], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model, review=True)
    check, = answer.citations.checks
    assert check.verdict == "contradicted" and check.mark == "✗"
    assert "gives" in check.reason and "not “2.5" in check.reason
    assert answer.answers_question is False and "1 contradicted" in answer.summary
    # --strict keeps only what the review confirmed.
    from rag.check.checker import strict_answer

    assert strict_answer(answer).text == "" and strict_answer(answer).dropped_sentences == 1


def test_a_sentence_whose_blank_the_model_cannot_fill_keeps_its_check(seed_index, seed_retriever):
    """"none" proves nothing: made unsure, such blanks cost as many right answers as they
    caught wrong ones on the held-out SQuAD articles (bench/RESULTS.md)."""
    model = ScriptedModel([cited("2.5", in_other_words=True), "none"], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model, review=True)
    assert [c.verdict for c in answer.citations.checks] == ["supported"]
    assert answer.timings["reread_fills"] == ("none",) and answer.alternative is None


@pytest.mark.parametrize("p_yes, verdict", [(0.9, "supported"), (0.2, "unsure")])
def test_a_re_pointed_sentence_without_a_number_is_kept_only_if_the_model_says_its_new_source_states_it(
        seed_index, seed_retriever, p_yes, verdict):
    model = ScriptedModel([cited("cold war", number_shift=1)], judgements=[0.9, p_yes])
    _, _, answer = ask(seed_index, seed_retriever, model, review=True, question=ANNOUNCED)
    check, = answer.citations.checks
    assert check.verdict == verdict and "corrected to" in check.reason
    confirm, statement = model.judged
    assert statement.messages[-1]["content"].startswith(model.streams[0].messages[-1]["content"])
    assert f"does source [{check.sentence.cited[0]}] state this?" in statement.messages[-1]["content"]
    assert answer.timings["reread_yes"] == (p_yes,)


def test_a_sentence_without_a_number_cited_as_written_is_not_asked_about(seed_index, seed_retriever):
    """Asked of every such sentence, "does [n] state this?" did not tell right answers
    from wrong ones (bench/RESULTS.md); only a corrected citation needs it."""
    model = ScriptedModel([cited("cold war")], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model, review=True, question=ANNOUNCED)
    assert [c.verdict for c in answer.citations.checks] == ["supported"] and len(model.judged) == 1


# A question the seeds answer ("Mr Starmer called on European governments to “step up”
# defence capabilities and funding, …"), and two answers: one that only says it back.
STEP_UP = "Who called on European governments to step up defence capabilities and funding?"


def naming(text: str):
    """A script: `text`, cited to the source that says "step up"."""
    def write(sources: dict[int, str]) -> str:
        number, _ = sentence_with(sources, "step up")
        return f"{text} [{number}]"
    return write


def test_an_answer_that_only_restates_the_question_is_shown_unsure(seed_index, seed_retriever):
    """True to its passage (the checker's ✓), but it adds nothing to the question."""
    model = ScriptedModel([naming("European governments were called on to step up defence capabilities and "
                                  "funding.")], judgements=[0.9])
    _, checks, answer = ask(seed_index, seed_retriever, model, question=STEP_UP)
    assert [c.verdict for c in checks] == ["supported"]  # as written: the checker's verdict
    check, = answer.citations.checks
    assert (check.verdict, check.mark) == ("unsure", "?")
    assert check.reason.endswith("; but it only restates the question")
    assert answer.warning == "its sentences only restate the question: they add nothing that answers it"
    assert answer.alternative is not None


def test_the_same_sentence_with_the_asked_for_name_keeps_its_check(seed_index, seed_retriever):
    model = ScriptedModel([naming("Mr Starmer called on European governments to step up defence capabilities "
                                  "and funding.")], judgements=[0.9])
    _, _, answer = ask(seed_index, seed_retriever, model, question=STEP_UP)
    check, = answer.citations.checks
    assert (check.verdict, check.mark) == ("supported", "✓") and answer.warning is None

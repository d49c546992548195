"""The answer path with the real default model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M,
1.1 GB), installed from its PyPI wheels by `rag models install` through the session
fixture (pip's cache makes that cheap after the first time; `make test` installs it
too).

What is asserted holds for any instruction-tuned model that reads, never one
model's wording: streaming, markers that name given sources, a verdict on every
sentence, the right answer given and supported, an off-corpus question declined,
a follow-up that reuses the cached prefix and answers, clean UTF-8 across split
tokens.
"""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from rag.wiring import open_assistant
from rag.config import Settings
from rag.types.answers import Answer
from rag.types.citations import NO_CLAIM, SentenceCheck

from conftest import collect_answer

LAMMY = "What did Lammy tell MPs about sending troops?"


def run(assistant, question: str, **kwargs) -> tuple[list[str], list[SentenceCheck], Answer]:
    return collect_answer(assistant.ask(question, **kwargs))


@pytest.fixture(scope="session")
def model(default_generator):
    return default_generator


@pytest.fixture(scope="session")
def smollm2(smollm2_gguf):
    from rag.answer.generate import LlamaCppGenerator

    return LlamaCppGenerator(smollm2_gguf, n_ctx=2048)


def test_the_packaged_model_is_a_real_chat_model(model, default_gguf):
    from rag.answer.model_files import read_info

    info = read_info(default_gguf)
    assert info.architecture == "qwen2" and 1.2e9 < info.parameters < 2e9
    assert info.has_chat_template and model.template_source == "gguf"
    assert "<|im_start|>" in model._formatter(messages=[{"role": "user", "content": "hi"}]).prompt


def test_a_seed_question_streams_an_answer_whose_citations_map_to_retrieved_passages(seed_retriever, model):
    assistant = open_assistant(seed_retriever.settings, seed_retriever, model)
    pieces, checks, answer = run(assistant, LAMMY)
    assert answer.mode == "local" and answer.model == model.name
    assert len(pieces) >= 5  # token by token, not one block
    assert "".join(pieces).strip().startswith(answer.text[:20])
    assert answer.citations is not None and len(answer.citations.checks) >= 1
    given = {s.number: s for s in answer.sources}
    hit_ids = {h.passage.id for h in answer.hits}
    claims = [c for c in answer.citations.checks if c.verdict != NO_CLAIM]
    if not answer.declined:
        assert claims, "an answer that is not a refusal makes claims"
        for check in claims:  # the grammar: one marker per sentence, naming a given source
            assert check.sentence.cited and all(n in given for n in check.sentence.cited)
            assert check.verdict in ("supported", "unsupported", "wrong source")
        assert answer.cited and all(given[n].passage.id in hit_ids for n in answer.cited)
        # Streamed checks are the final ones, sentence for sentence.
        assert [c.sentence.text for c in checks] == [c.sentence.text for c in answer.citations.checks]
    # A model that reads answers this from its sources: not declined, every claim stated.
    assert not answer.declined and claims
    assert all(c.verdict == "supported" for c in claims), [(c.sentence.text, c.reason) for c in claims]
    # The passage says two things Lammy told MPs; the model's greedy answer gives one or both,
    # which one depending on the key/value cache earlier answers left (prefix reuse shifts the
    # logits a little), so the test does not depend on the order tests run in.
    assert "challenging" in answer.text.lower() or "security across europe" in answer.text.lower()
    # What a reader sees is either supported enough, or comes with the documents' own words.
    if answer.warning is not None:
        assert answer.alternative is not None and answer.alternative.citations.all_supported
        numbers = {s.number for s in answer.shown_sources}
        assert set(answer.alternative.cited) <= numbers
    stats = answer.timings
    assert stats["prompt_tokens"] > 50 and stats["answer_tokens"] >= 5 and stats["time_to_first_token_s"] > 0


def test_an_off_corpus_question_is_declined(seed_retriever, model):
    """Xi Jinping is in none of the five articles (the gates in front of the model
    decline it), and the articles do not say what the G7 decided about a Russian
    gas price cap, though they mention the G7 and Russia (the model itself must say
    that its sources do not answer)."""
    assistant = open_assistant(seed_retriever.settings, seed_retriever, model)
    _, _, answer = run(assistant, "What did Chinese President Xi Jinping say about the peace talks?")
    assert answer.declined or not answer.covered
    _, _, answer = run(assistant, "What price cap on Russian gas did the G7 leaders agree?")
    assert answer.declined or not answer.covered, answer.text


def test_a_follow_up_reuses_the_cached_prefix(seed_retriever, model):
    assistant = open_assistant(seed_retriever.settings, seed_retriever, model)
    _, _, first = run(assistant, "How many votes did the first UN resolution get?")
    _, _, second = run(assistant, "and how many countries abstained?", history=[first.to_turn()])
    assert second.timings["reused_prompt_tokens"] > first.timings["prompt_tokens"] // 2
    assert second.timings["reused_prompt_tokens"] < second.timings["prompt_tokens"]
    # The follow-up is understood in the conversation: the abstentions are given.
    assert not second.declined and any(n in second.text for n in ("65", "70")), second.text


def test_non_ascii_and_curly_quotes_survive_tokens_that_split_a_character(smollm2):
    """Decoding while streaming: a character whose UTF-8 bytes fall in two tokens
    must come out whole. The grammar forces the text, so the model's choice of
    words plays no part; the tokenizer is shown to split these characters (SmolLM2's
    does; the default model's larger vocabulary holds most of them whole)."""
    text = "Łukasz Müller-Ødegård said “ß” costs 5 €."
    tokens = smollm2._llm.tokenize(text.encode(), add_bos=False, special=False)
    partial = [t for t in tokens if not _decodes(smollm2._llm.detokenize([t]))]
    assert partial, "the test needs a character split across tokens"
    grammar = 'root ::= "' + text.replace('"', '\\"') + ' [1]"\n'
    pieces = list(smollm2.stream([{"role": "user", "content": "Say it."}], 64, 0.0, grammar))
    assert "".join(pieces) == text + " [1]"
    assert all("\ufffd" not in p for p in pieces) and len(pieces) > 3


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_the_chat_app_answers_with_the_real_model_and_escape_stops_it(seed_index, tmp_path, embedder_factory,
                                                                      model, monkeypatch):
    from helpers import app_on as make_app
    from helpers import app_wait_until as wait_until
    from helpers import status_text
    from tui.widgets import AnswerView

    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    settings = Settings(index_dir=Path(".rag"))
    app = make_app(settings, embedder_factory, generator=model)
    monkeypatch.setattr("rag.answer.generate.configured_model", lambda s: model.path)

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                             what="index and model")
            assert status_text(app).lstrip().startswith(f"local · {model.name}")
            app.question_input.value = LAMMY
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.answering is None, timeout=120, what="the answer")
            view = app.query(AnswerView).last()
            answer = app.answers[-1]
            assert view.text == answer.text and answer.mode == "local"
            assert str(view.summary.render()).startswith(answer.citations.summary())
            for check in answer.citations.checks:
                if check.verdict != NO_CLAIM:
                    assert f"] {check.mark}" in view.markdown  # each marker followed by its mark

            # A long answer, stopped mid-stream: the model stops at its next token.
            long = settings.replace(max_tokens=400, answer_sentences=12)
            app.settings = long
            app.question_input.value = "Describe everything the articles say about the UN votes."
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.answering is not None and bool(app.answering.view.text),
                             timeout=60, what="the first words")
            await pilot.press("escape")
            assert app.answering is None
            assert app.question_input.value == "Describe everything the articles say about the UN votes."
            await wait_until(pilot, lambda: model.last_stats.stopped_by == "cancelled", timeout=30,
                             what="the model to stop")
            assert model.last_stats.answer_tokens < 400
            assert len(app.answers) == 1

    asyncio.run(scenario())


def test_the_not_in_the_sources_step_tells_an_answering_passage_from_one_that_only_shares_its_words(model):
    """The step after the answer: shown the passage its answer cites and asked
    whether it answers exactly the question, the model says yes when it does, and
    no to a SQuAD-style question whose words are all in the passage but whose
    answer is not (nothing was built in Rotterdam in 2023). The gap, not a fixed
    threshold, is asserted: the 1.5B model is a weak judge (bench/RESULTS.md)."""
    from rag.answer.prompt import judge_messages

    passage = ("The harbour at Leith handled 4,812 ships in 2023. Its new crane, built in Rotterdam in 1998, "
               "lifted its first load in March.")
    stated = model.judge(judge_messages("How many ships did the harbour at Leith handle in 2023?", [passage]))
    unstated = model.judge(judge_messages("How many ships were built in Rotterdam in 2023?", [passage]))
    assert stated > 0.9 and unstated < stated - 0.3, (stated, unstated)


def test_an_answer_the_model_cannot_confirm_is_declined_with_its_draft_kept(seed_retriever, model):
    """The whole step: with the threshold above any confidence, every answer the
    model writes is declined, said as such, with the closest passages beside it."""
    settings = seed_retriever.settings.replace(min_answer_confidence=1.01)
    assistant = open_assistant(settings, seed_retriever, model)
    _, _, answer = run(assistant, LAMMY)
    assert answer.declined and answer.text == "The documents do not cover this."
    assert answer.timings["unconfirmed_draft"] and 0 < answer.timings["answer_confidence"] < 1.01
    assert "could not confirm" in answer.warning and answer.alternative is not None


def test_a_question_the_model_tends_to_decline_with_the_answer_in_its_prompt_is_answered(seed_retriever, model):
    """The default model has declined this seed question with the answering sentence in
    its prompt ("contingent on the US providing support including air, logistics and
    communications"); whether it declines first or not, the reader gets the answer,
    cited and supported, and never the refusal. (The branch where it declines first and
    is asked again is tested on cue with a scripted model in tests/test_answer_branches.py.)"""
    pieces, checks, answer = run(seed_retriever_assistant(seed_retriever, model),
                                 "What American support would British boots on the ground depend on?")
    assert not answer.declined, answer.timings
    assert "".join(pieces).strip() == answer.text and "do not cover" not in "".join(pieces)
    assert any(w in answer.text.lower() for w in ("air", "logistic", "intelligence")), answer.text
    assert checks and all(c.verdict == "supported" for c in checks if c.verdict != NO_CLAIM), \
        [(c.sentence.text, c.reason) for c in checks]


def seed_retriever_assistant(seed_retriever, model):
    return open_assistant(seed_retriever.settings, seed_retriever, model)


def review_of(assistant, question: str, write) -> Answer:
    """The review stage, with the default model, of an answer we wrote: the real
    prompt for `question` (retrieval, sentences, numbering), `write(sources)` as the
    model's text ({number: text} → answer), each sentence checked, then reviewed.
    The review is what is under test, so the answer is given, not left to chance."""
    import time

    from rag.answer.retrieval import retrieve
    from rag.answer.write import Checking, ModelWriter, Written

    retrieved = retrieve(question, (), None, assistant.retriever, assistant.selector, assistant.settings)
    prompt = ModelWriter(assistant.generator, assistant.checker, assistant.selector, assistant.settings,
                         confirms=True).prompt(retrieved, (), None)
    text = write({s.number: s.text for s in prompt.sources})
    given = {s.passage.id for s in prompt.sources}
    extra = tuple(h.passage for h in retrieved.hits if h.passage.id not in given)
    checking = Checking(assistant.checker, prompt.sources, extra)
    checking.advance(text, final=True)
    written = Written(text, checking.report(), tuple(prompt.sources), extra, retrieved.timings,
                      prompt.messages[-1]["content"], tuple(prompt.messages))
    return assistant.reviewer.review(retrieved, written, assistant.generator.name, time.perf_counter())


def _holding(sources: dict[int, str], words: str) -> int:
    return next(n for n, text in sorted(sources.items()) if words in text)


TRUMP_ASKED = "What level of defence spending has Trump demanded from NATO allies?"


@pytest.mark.parametrize("claim, kept", [
    # Every word and number is in the passage, the 5% tied to another actor (issue 39's first case).
    ("NATO's secretary general urged members to reach 5% of defence spending.", False),
    ("Trump has called on NATO members to commit 5% to defence spending.", True),
    ("NATO chief Mark Rutte urged members to stretch to 3%.", True),
])
def test_a_number_put_in_another_actors_mouth_loses_its_check_and_the_same_number_rightly_stated_keeps_it(
        seed_retriever, model, claim, kept):
    assistant = open_assistant(seed_retriever.settings, seed_retriever, model)
    answer = review_of(assistant, TRUMP_ASKED, lambda s: f"{claim} [{_holding(s, 'Rutte')}]")
    check, = answer.citations.checks
    assert check.verdict == ("supported" if kept else "contradicted") or (not kept and check.verdict == "unsure"), \
        (check.verdict, check.reason, answer.timings.get("reread_fills"))
    # Re-read unless it is the passage's own words (then it states exactly that).
    assert answer.timings["reread"] == (0 if check.score == 1.0 else 1)


def test_a_claim_pointed_at_a_passage_that_only_shares_its_words_loses_its_check(seed_retriever, model):
    """Issue 39's second case: "European leaders reaffirmed that Ukraine should not join
    NATO", cited to another source, was re-pointed by the checker to a passage about the
    London summit (similarity 0.53) that says nothing of the kind, and shown ✓. That
    passage scores under the bar a fix must clear (SEARCHED_FIX_THRESHOLD), so the claim
    is not re-pointed: it is ✗ where it cites, and no passage is offered for it. (A
    re-pointed claim the model, asked, does not see in its new source is "?": the
    scripted test in test_answer_branches.py.)"""
    assistant = open_assistant(seed_retriever.settings, seed_retriever, model)
    claim = "European leaders reaffirmed that Ukraine should not join NATO."

    def write(sources: dict[int, str]) -> str:
        summit = _holding(sources, "gather in London")
        return f"{claim} [{next(n for n in sorted(sources) if n != summit)}]"

    answer = review_of(assistant, "What did European leaders agree at the London summit?", write)
    check, = answer.citations.checks
    assert check.verdict == "unsupported" and check.supported_by is None, (check.verdict, check.reason)
    assert "corrected to" not in check.reason


def test_a_claim_re_pointed_to_a_passage_that_states_it_keeps_its_check(seed_retriever, model):
    assistant = open_assistant(seed_retriever.settings, seed_retriever, model)
    claim = "Lavrov claimed such proposals were deceptive and intended to prolong the conflict."

    def write(sources: dict[int, str]) -> str:
        return f"{claim} [{next(n for n in sorted(sources) if 'Lavrov' not in sources[n])}]"

    answer = review_of(assistant, "How did Sergei Lavrov characterise the idea of European peacekeepers?", write)
    check, = answer.citations.checks
    assert "corrected to" in check.reason
    assert check.verdict == "supported", (check.reason, answer.timings.get("reread_yes"))
    assert answer.timings["reread_yes"][0] >= 0.5

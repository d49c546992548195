"""The answer path with a real language model: SmolLM2-135M-Instruct (Q4_1, 98 MB),
installed from its PyPI wheel by `rag models install` through the session fixture
(pip's cache makes that cheap after the first time; `make test` installs it too).

What is asserted holds for any instruction-tuned model under the shipped
constraints, never one model's wording: streaming, markers that name given
sources, a verdict on every sentence, decline or warning where the sources do not
carry the answer, prefix reuse on a follow-up, clean UTF-8 across split tokens.
"""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from rag.assistant import make_assistant
from rag.config import Settings
from rag.types.answers import Answer
from rag.types.citations import NO_CLAIM, SentenceCheck

LAMMY = "What did Lammy tell MPs about sending troops?"


def run(assistant, question: str, **kwargs) -> tuple[list[str], list[SentenceCheck], Answer]:
    pieces, checks, final = [], [], None
    for item in assistant.ask(question, **kwargs):
        if isinstance(item, str):
            pieces.append(item)
        elif isinstance(item, SentenceCheck):
            checks.append(item)
        else:
            final = item
    return pieces, checks, final


@pytest.fixture(scope="session")
def smollm2(smollm2_gguf):
    from rag.generate import LlamaCppGenerator

    return LlamaCppGenerator(smollm2_gguf, n_ctx=4096)


def test_the_packaged_model_is_a_real_chat_model(smollm2, smollm2_gguf):
    from rag.models import read_info

    info = read_info(smollm2_gguf)
    assert info.architecture == "llama" and 100e6 < info.parameters < 200e6
    assert info.has_chat_template and smollm2.template_source == "gguf"
    assert "<|im_start|>" in smollm2._formatter(messages=[{"role": "user", "content": "hi"}]).prompt


def test_a_seed_question_streams_an_answer_whose_citations_map_to_retrieved_passages(seed_retriever, smollm2):
    assistant = make_assistant(seed_retriever, seed_retriever.settings, smollm2)
    pieces, checks, answer = run(assistant, LAMMY)
    assert answer.mode == "local" and answer.model == smollm2.name
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
    # What a reader sees is either supported enough, or comes with the documents' own words.
    if answer.warning is not None:
        assert answer.alternative is not None and answer.alternative.citations.all_supported
        numbers = {s.number for s in answer.shown_sources}
        assert set(answer.alternative.cited) <= numbers
    stats = answer.timings
    assert stats["prompt_tokens"] > 50 and stats["answer_tokens"] >= 5 and stats["time_to_first_token_s"] > 0


def test_an_off_corpus_question_is_declined_or_flagged(seed_retriever, smollm2):
    """Xi Jinping is in none of the five articles. The assistant declines, or
    whatever the model writes is not presented as supported."""
    assistant = make_assistant(seed_retriever, seed_retriever.settings, smollm2)
    _, _, answer = run(assistant, "What did Chinese President Xi Jinping say about the peace talks?")
    supported_claims = [c for c in answer.citations.checks if c.verdict == "supported"]
    assert answer.declined or not answer.covered or answer.warning is not None or not supported_claims


def test_a_follow_up_reuses_the_cached_prefix(seed_retriever, smollm2):
    assistant = make_assistant(seed_retriever, seed_retriever.settings, smollm2)
    _, _, first = run(assistant, "How many votes did the first UN resolution get?")
    _, _, second = run(assistant, "and how many countries abstained?", history=[first.to_turn()])
    assert second.timings["reused_prompt_tokens"] > first.timings["prompt_tokens"] // 2
    assert second.timings["reused_prompt_tokens"] < second.timings["prompt_tokens"]


def test_non_ascii_and_curly_quotes_survive_tokens_that_split_a_character(smollm2):
    """Decoding while streaming: a character whose UTF-8 bytes fall in two tokens
    must come out whole. The grammar forces the text, so the model's choice of
    words plays no part; the tokenizer is shown to split these characters."""
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
                                                                      smollm2, monkeypatch):
    from tests.test_tui import make_app, status_text, wait_until
    from tui.widgets import AnswerView

    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    settings = Settings(index_dir=Path(".rag"))
    app = make_app(settings, embedder_factory, generator=smollm2)
    monkeypatch.setattr("rag.generate.configured_model", lambda s: smollm2.path)

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.retriever is not None and app.model_state == "ready",
                             what="index and model")
            assert status_text(app).lstrip().startswith(f"local · {smollm2.name}")
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
            await wait_until(pilot, lambda: smollm2.last_stats.stopped_by == "cancelled", timeout=30,
                             what="the model to stop")
            assert smollm2.last_stats.answer_tokens < 400
            assert len(app.answers) == 1

    asyncio.run(scenario())

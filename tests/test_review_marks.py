"""The three marks a reader relies on (issue 39): ✓ where the checker and the review
agree, ? where the review cannot confirm, ✗ where the cited passage gives another
answer; shown in `--json` (`Answer.to_json`, what `rag ask --format json` prints),
in the chat app and in the Markdown briefing, which leaves out what is not ✓.
The real seed index, embeddings and checker; the model is scripted
(tests/scripted_model.py), so that one answer holds all three marks on cue."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from rag.check.facts import numbers
from rag.config import Settings
from rag.report.briefing import render_markdown
from rag.text.sentences import split_sentences
from rag.wiring import open_assistant

from conftest import collect_answer
from scripted_model import ScriptedModel, number_beside, reworded, sentence_with

QUESTION = "How much will the UK spend on defence by 2027?"


def _without_numbers(sources: dict[int, str]) -> tuple[int, str]:
    """A source sentence with no number, other than the one about the cold war."""
    for number, text in sorted(sources.items()):
        for sentence in split_sentences(text):
            sentence = sentence.strip()
            if not numbers(sentence) and "cold war" not in sentence and len(sentence.split()) >= 8:
                return number, sentence
    raise AssertionError("no source sentence without a number")


def three_sentences(sources: dict[int, str]) -> str:
    """2.5%, reworded (its blank will be filled with another number of its source: ✗), the cold
    war cited to a source that does not state it (re-pointed, then the model will say
    its new source does not state it: ?), and a sentence quoted as it stands (✓)."""
    (at, two_and_a_half), (war_at, war), (other_at, other) = (
        sentence_with(sources, "2.5"), sentence_with(sources, "cold war"), _without_numbers(sources))
    wrong = next(n for n in sorted(sources) if n != war_at)
    return f"{reworded(two_and_a_half)} [{at}] {war} [{wrong}] {other} [{other_at}]"


def scripted() -> ScriptedModel:
    # Streams: the answer, then the one blank (the 2.5% sentence's, filled with another
    # number its source gives); judgements: the answer confirmed, then whether the cold
    # war's corrected source states it (no). The third sentence is quoted: nothing to ask.
    return ScriptedModel([three_sentences, lambda sources: number_beside(sources, "2.5")], judgements=[0.9, 0.2])


def test_one_answer_holds_the_three_marks_in_its_json_and_its_briefing(seed_index, seed_retriever):
    model = scripted()
    *_, answer = collect_answer(open_assistant(seed_index, seed_retriever, model).ask(QUESTION))
    checks = answer.citations.checks
    assert [c.verdict for c in checks] == ["contradicted", "unsure", "supported"]
    assert [c.mark for c in checks] == ["✗", "?", "✓"]
    data = answer.to_json()
    assert [s["verdict"] for s in data["citations"]["sentences"]] == ["contradicted", "unsure", "supported"]
    assert data["summary"].startswith("1 of 3 sentences supported (1 contradicted, 1 unsure)")
    assert "gives “" in data["citations"]["sentences"][0]["reason"]
    assert "corrected to" in data["citations"]["sentences"][1]["reason"]
    assert "the model says no (P(yes) 0.20)" in data["citations"]["sentences"][1]["reason"]

    briefing = render_markdown(answer)
    body = briefing.split("\n\n")[1]
    assert checks[2].sentence.text in body  # only the ✓ sentence goes out
    assert checks[0].sentence.text not in body and checks[1].sentence.text not in body
    assert "- ✗ “" in briefing and "(left out): contradicted:" in briefing
    assert "- ? “" in briefing and "(left out): unsure:" in briefing


def test_the_chat_app_shows_each_mark_and_says_what_the_review_found(seed_index, tmp_path, embedder_factory,
                                                                    monkeypatch):
    from helpers import app_on, app_wait_until, ask
    from tui.widgets import AnswerView

    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    app = app_on(Settings(index_dir=Path(".rag")), embedder_factory, generator=scripted())
    # The app looks for a model file before it loads one: the scripted model stands in for it.
    monkeypatch.setattr("rag.answer.generate.configured_model", lambda s: Path("scripted-model.gguf"))

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await app_wait_until(pilot, lambda: app.overview is not None and app.model_state == "ready",
                                 what="index and model")
            view = await ask(pilot, app, QUESTION)
            assert isinstance(view, AnswerView)
            answer = app.answers[-1]
            for check in answer.citations.checks:
                assert f"] {check.mark}" in view.markdown  # each sentence followed by its reviewed mark
            summary = str(view.summary.render())
            assert "1 of 3 sentences supported (1 contradicted, 1 unsure)" in summary
            assert "✗ sentence 1, contradicted:" in summary and "? sentence 2, unsure:" in summary

    asyncio.run(scenario())


def test_rag_checks_review_of_a_draft_contradicts_a_number_put_in_another_actors_mouth(index_copy,
                                                                                        embedder_factory,
                                                                                        monkeypatch):
    """`rag check` with a model installed (`Library.check_draft`): the draft's sentence
    with a number has it blanked and filled again from the passage that supports it;
    the scripted fill is the number that passage gives Rutte. `review=False` is
    `--no-model`: the checker alone, which passes the sentence."""
    from helpers import library_on

    draft = ("NATO chief Mark Rutte urged members to commit 5% to defence spending [1].\n\n"
             "## Sources\n\n[1] seeds/004_c47a76e7acbef03d.txt\n")
    model = ScriptedModel(["3%"])
    library = library_on(index_copy, embedder_factory, generator=model)
    monkeypatch.setattr("rag.answer.generate.configured_model", lambda s: Path("scripted-model.gguf"))
    library.open()
    unreviewed = library.check_draft(draft, review=False)
    assert [c.verdict for c in unreviewed.report.checks] == ["supported"]
    assert unreviewed.review == "skipped" and not model.calls

    result = library.check_draft(draft)
    check, = result.report.checks
    assert check.verdict == "contradicted" and "gives “3%”, not “5%”" in check.reason
    assert result.reviewed_by == model.name and result.reread == 1
    blank, = model.streams
    assert "Rutte urged members to commit ___ to defence spending" in blank.messages[-1]["content"]

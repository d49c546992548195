"""`rag ask` and `rag models` as a user runs them: subprocesses, real model files."""
import json
import shutil

import pytest

from conftest import CRASH_ANSWER_TOKENS, CRASH_QUESTIONS, SEEDS
from helpers import assert_no_traceback, run


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_gguf):
    root = tmp_path_factory.mktemp("ask")
    shutil.copytree(SEEDS, root / "seeds")
    assert run(["ingest", "seeds"], cwd=root).returncode == 0
    return root


def test_ask_without_a_model_answers_extractively_and_says_so(project):
    result = run(["ask", "What did David Lammy tell MPs about sending troops?"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    lines = result.stdout.splitlines()
    assert lines[0] == "[extractive mode]"
    assert lines[1].startswith("✓ ")  # the sentence, marked as checked
    answer = " ".join(lines[1:lines.index("")])
    assert "challenging decision" in answer and "[1]" in answer
    assert any(line.endswith("sentences supported") or line.endswith("sentence supported") for line in lines)
    assert "Sources:" in result.stdout and "¶" in result.stdout
    assert "no GGUF model in models/" in result.stderr


def test_ask_json_carries_every_field(project):
    result = run(["ask", "Who is Betsa Mariana?", "--json", "-k", "3"], cwd=project)
    data = json.loads(result.stdout)
    assert data["mode"] == "extractive" and data["model"] is None and data["covered"]
    assert len(data["retrieved"]) == 3 and data["cited_sources"]
    assert {"id", "title", "paragraph", "text", "number"} <= set(data["cited_sources"][0])
    assert data["timings"]["retrieval_ms"] > 0


def test_ask_with_a_local_gguf(project, tiny_gguf):
    result = run(["ask", "What did Lammy say?", "--model", str(tiny_gguf), "--json", "--max-tokens", "8",
                  "--temperature", "0.7"], cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "local" and data["model"] == tiny_gguf.name
    timings = data["timings"]
    assert 0 < timings["answer_tokens"] <= 8 and timings["prompt_tokens"] > 100
    assert timings["time_to_first_token_s"] > 0 and timings["tokens_per_second"] > 0


def test_ask_takes_the_newest_model_in_models_dir(project, tiny_gguf):
    (project / "models").mkdir(exist_ok=True)
    shutil.copy(tiny_gguf, project / "models" / "mine.gguf")
    try:
        result = run(["ask", "What did Lammy say?", "--max-tokens", "4"], cwd=project)
        assert result.returncode == 0 and result.stdout.startswith("[local mode: mine.gguf]")
        forced = run(["ask", "What did Lammy say?", "--extractive"], cwd=project)
        assert forced.stdout.startswith("[extractive mode]")
    finally:
        shutil.rmtree(project / "models")


def test_ask_refuses_empty_questions_and_bad_models(project, tmp_path):
    assert run(["ask", "  "], cwd=project).returncode == 2
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00")
    result = run(["ask", "What did Lammy say?", "--model", str(broken)], cwd=project)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "broken.gguf" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_models_list_reads_gguf_metadata(tmp_path, tiny_gguf):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_gguf, models / "tiny.gguf")
    (models / "cut.gguf").write_bytes(tiny_gguf.read_bytes()[:1000])
    data = json.loads(run(["models", "list", "--json"], cwd=tmp_path).stdout)
    by_file = {row["file"]: row for row in data["installed"]}
    assert by_file["tiny.gguf"]["source"] == "added by hand" and by_file["tiny.gguf"]["licence"] is None
    assert by_file["tiny.gguf"]["quantization"] == "ALL_F32" and by_file["tiny.gguf"]["context_length"] == 2048
    assert by_file["tiny.gguf"]["parameters"] > 100_000
    assert "truncated" in by_file["cut.gguf"]["error"]
    text = run(["models", "list"], cwd=tmp_path).stdout
    assert "tiny.gguf" in text and "ALL_F32" in text and "unreadable" in text


def test_models_pull_offline_fails_at_once_with_what_to_do(tmp_path):
    result = run(["models", "pull"], cwd=tmp_path)
    assert result.returncode == 2
    assert_no_traceback(result)
    message = result.stderr.strip().splitlines()[-1]
    assert "qwen2.5-1.5b-instruct-q4_k_m.gguf" in message and "put it in models/" in message


PLANTED_BRIEFING = """# Briefing: the UN votes

The first UN resolution won 93 votes, with 18 countries against [1]. The amended
resolution received 98 votes in favour [2]. Starmer urged G7 partners to increase
economic pressure on Russia [1]. Zelensky is due in Washington on Friday to sign a
deal on rare earth minerals.

## Sources
[1] Starmer Faces Tensions with Trump Amid Diverging US and European Views on Ukraine, ¶6
[2] seeds/000_a91ecfca0f80e680.txt#7
"""


def test_check_reports_each_planted_error_and_suggests_the_passage(project):
    (project / "brief.md").write_text(PLANTED_BRIEFING, encoding="utf-8")
    result = run(["check", "brief.md", "--json"], cwd=project)
    assert result.returncode == 1, result.stderr  # problems found: exit 1, like a linter
    data = json.loads(result.stdout)
    assert data["sources"]["1"].endswith("¶6") and data["sources"]["2"].endswith("¶7")
    verdicts = [(s["verdict"], s["suggestion"]) for s in data["sentences"]]
    assert verdicts == [
        ("supported", None),
        ("unsupported", None),  # 98 for 89
        ("wrong source", "cite seeds/000_a91ecfca0f80e680.txt#10"),
        ("uncited", "cite seeds/002_1d232bd1e832b10d.txt#4"),
    ]
    assert "“98” is not in [2]" in data["sentences"][1]["reason"]
    assert "89 votes in favor" in data["sentences"][1]["evidence"]["sentence"]  # what the passage does say
    text = run(["check", "brief.md"], cwd=project)
    assert text.returncode == 1 and text.stdout.splitlines()[-1] == (
        "brief.md: 1 of 4 sentences supported (1 unsupported, 1 wrong source, 1 uncited); "
        "not reviewed by a model (none installed: `rag models install`)")


WHOLE_DOCUMENT_BRIEFING = """Foreign Secretary David Lammy told MPs that sending UK troops to Ukraine would be a
challenging decision [1]. Lammy will accompany Starmer to Washington, and he has promised
to cut taxes for every family in Britain [1].

## Sources
[1] seeds/000_a91ecfca0f80e680.txt
"""


def test_check_finds_the_passage_of_a_cited_document_and_names_the_false_part(project):
    (project / "whole.md").write_text(WHOLE_DOCUMENT_BRIEFING, encoding="utf-8")
    data = json.loads(run(["check", "whole.md", "--json"], cwd=project).stdout)
    assert data["sources"]["1"].endswith("(seeds/000_a91ecfca0f80e680.txt, whole document)")
    stated, mixed = data["sentences"]
    assert stated["verdict"] == "supported" and stated["evidence"]["label"].endswith("¶5")
    assert "challenging decision" in stated["evidence"]["sentence"]
    # One clause is in the article (¶5: Lammy accompanies Starmer), the other nowhere.
    assert mixed["verdict"] == "unsupported"
    assert mixed["unsupported_parts"] == ["and he has promised to cut taxes for every family in Britain"]
    assert "does not state “and he has promised to cut taxes" in mixed["reason"]
    text = run(["check", "whole.md"], cwd=project).stdout
    assert "stated in Starmer Faces Tensions with Trump Amid Diverging US and European Views on Ukraine, ¶5" in text


def test_a_markdown_briefing_checks_clean_and_bad_drafts_fail_in_one_line(project):
    exported = run(["ask", "How many votes did the first UN resolution get?", "--format", "markdown"], cwd=project)
    assert exported.returncode == 0, exported.stderr
    briefing = exported.stdout
    assert briefing.startswith("# How many votes") and "## Sources" in briefing and "[^1]: **" in briefing
    assert "*Checked: " in briefing and "93 votes in favor" in briefing
    (project / "export.md").write_text(briefing, encoding="utf-8")
    again = run(["check", "export.md"], cwd=project)
    assert again.returncode == 0 and "sentences supported" in again.stdout.splitlines()[-1]
    assert "✗" not in again.stdout and "?" not in again.stdout.split()[0]
    # No model in this project: the summary says the review did not run, and why.
    assert "not reviewed by a model (none installed" in again.stdout.splitlines()[-1]
    skipped = run(["check", "export.md", "--no-model"], cwd=project)
    assert skipped.returncode == 0 and skipped.stdout.splitlines()[-1].endswith("not reviewed by a model (--no-model)")

    missing = run(["check", "nowhere.md"], cwd=project)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "nowhere.md" in missing.stderr
    (project / "binary.md").write_bytes(b"\x00\x01\x02 not text")
    binary = run(["check", "binary.md"], cwd=project)
    assert binary.returncode == 2 and "binary.md" in binary.stderr and "Traceback" not in binary.stderr


def test_ask_json_and_strict_carry_the_verdicts(project):
    result = run(["ask", "What did David Lammy tell MPs about sending troops?", "--json", "--strict"], cwd=project)
    data = json.loads(result.stdout)
    citations = data["citations"]
    assert citations["claims"] >= 1 and citations["supported"] == citations["claims"]
    assert {"verdict", "reason", "evidence", "cited"} <= set(citations["sentences"][0])
    assert data["dropped_sentences"] == 0  # extractive answers are supported by construction


def test_eval_cite_prints_the_figures(project):
    from conftest import ROOT

    result = run(["eval-cite", str(ROOT / "eval" / "citations.jsonl"), "--json"], cwd=project)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["pairs"] >= 80 and figures["unsupported_precision"] >= 0.9


def test_a_model_crash_costs_one_answer_of_a_batch_not_the_batch(project, smollm2_gguf):
    """`rag ask --batch` with three questions while the model's process segfaults on the
    second: the batch goes on, the second answer says the model stopped and gives the
    extractive answer, the third is the model's again. The crash is staged
    (RAG_STAGED_MODEL_CRASH=2: the runner reads address 0 on its second answer, a real
    SIGSEGV in native code) since no input is known that makes llama.cpp crash on a CPU
    without AMX; SmolLM2 keeps it quick (any local model goes through the same runner)."""
    from rag.answer.model_process import STAGED_CRASH

    questions = project / "three-questions.txt"
    questions.write_text("\n".join(CRASH_QUESTIONS) + "\n", encoding="utf-8")
    result = run(["ask", "--batch", str(questions), "--json", "--model", str(smollm2_gguf), *CRASH_ANSWER_TOKENS],
                 cwd=project,
                 env_extra={STAGED_CRASH: "2"})
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    first, second, third = [json.loads(line) for line in result.stdout.splitlines()]
    for answer in (first, third):
        assert answer["mode"] == "local" and answer["model"] == smollm2_gguf.name
        assert answer["model_stopped"] is None and answer["answer"]
    assert second["model_stopped"] == "signal 11, SIGSEGV"
    assert second["warning"].startswith("the model stopped unexpectedly (signal 11, SIGSEGV)")
    extractive = second["alternative"]
    assert extractive["mode"] == "extractive" and "2.5" in extractive["answer"]
    assert extractive["citations"]["supported"] >= 1


def test_a_model_crash_in_the_plain_chat_costs_one_answer_and_keeps_the_conversation(project, smollm2_gguf):
    """`rag chat --plain`, three questions typed, the model's process segfaulting on the
    second (staged as in the batch test above, for the same reason): the loop answers all
    three, says once that the model stopped, and the conversation keeps all three turns."""
    from rag.answer.model_process import STAGED_CRASH

    index = project / "plain-chat-index"
    shutil.copytree(project / ".rag", index)
    result = run(["chat", "--plain", "--new", "--index-dir", str(index), "--model", str(smollm2_gguf),
                  *CRASH_ANSWER_TOKENS], cwd=project,
                 input="\n".join(CRASH_QUESTIONS) + "\n", env_extra={STAGED_CRASH: "2"})
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert result.stdout.count("the model stopped unexpectedly (signal 11, SIGSEGV)") == 1
    assert "2.5" in result.stdout.split("stopped unexpectedly", 1)[1]  # the extractive answer follows
    history = run(["history", "--json", "--index-dir", str(index)], cwd=project)
    conversations = json.loads(history.stdout)["conversations"]
    assert conversations[0]["turns"] == 3

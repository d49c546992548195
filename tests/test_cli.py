"""The `rag` command as a user runs it: a real subprocess, real model, real store."""
import json
import shutil

import pytest

from rag.index.manifest import IngestLock

from conftest import QUESTIONS, SEEDS
from helpers import assert_no_traceback, run



@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with the seeds plus one file of each kind of bad input, ingested once."""
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEEDS, root / "seeds")
    bad = root / "inbox"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x00\x00binary")
    (bad / "latin1.txt").write_bytes("Résumé of the café talks".encode("latin-1"))
    (bad / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # a JPEG cut short after its first bytes
    (bad / "song.mp3").write_bytes(b"ID3\x03\x00")
    (bad / "notes.md").write_text("# Field notes\n\nThe bridge toll rises to 7 euros in March.\n", encoding="utf-8")
    result = run(["ingest", "seeds", "inbox", "missing.txt"], cwd=root)
    return root, result


def test_help_is_plain_and_lists_the_commands(tmp_path):
    result = run(["--help"], cwd=tmp_path)
    assert result.returncode == 0
    for command in ("ingest", "search", "eval", "chat", "status"):
        assert command in result.stdout


def test_ingest_reports_each_bad_file_on_one_line_and_goes_on(workdir):
    root, result = workdir
    assert result.returncode == 1, result.stderr
    assert_no_traceback(result)
    problems = [line for line in result.stderr.splitlines() if line.startswith("rag: skipped")]
    assert len(problems) == 5
    for name, reason in [("missing.txt", "no such file"), ("empty.txt", "empty file"),
                         ("binary.txt", "binary file"), ("latin1.txt", "not UTF-8"),
                         ("photo.jpg", "damaged or truncated image")]:
        assert any(name in line and reason in line for line in problems), (name, problems)
    assert "added 6, updated 0, removed 0, unchanged 0" in result.stdout
    assert result.stdout.rstrip().endswith("ignored 1 files of other types (.mp3 ×1)")
    assert "index: 6 documents" in result.stdout and "passages in .rag/chroma" in result.stdout
    assert "ignored 1 files of other types (.mp3 ×1)" in result.stdout


def test_search_json_gives_ranked_citable_passages(workdir):
    root, _ = workdir
    result = run(["search", "how much is the bridge toll", "-k", "3", "--json"], cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "how much is the bridge toll" and len(data["hits"]) == 3
    top = data["hits"][0]
    assert top["title"] == "Field notes" and top["paragraph"] == 1 and "7 euros" in top["text"]
    assert top["label"] == "Field notes, ¶1" and top["source"].endswith("notes.md")
    assert {"id", "score", "rank", "start", "end", "dense_rank", "lexical_rank"} <= set(top)


def test_search_text_output_shows_label_score_and_text(workdir):
    root, _ = workdir
    result = run(["search", "What did Lammy tell MPs about troops?", "-k", "1"], cwd=root)
    assert result.returncode == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("[1] Starmer Faces Tensions with Trump") and "¶" in first and "score" in first
    assert "challenging decision" in result.stdout


def test_empty_question_is_refused_at_once(workdir):
    root, _ = workdir
    result = run(["search", "   "], cwd=root)
    assert result.returncode == 2 and result.stderr.strip() == "rag: error: the question is empty; type a question"


def test_eval_json_has_the_three_methods(workdir, tmp_path):
    root, _ = workdir
    result = run(["eval", str(QUESTIONS), "--json"], cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for method in ("dense", "bm25", "hybrid"):
        assert {"recall@1", "recall@5", "recall@10", "mrr"} <= set(data[method])
        assert 0.0 <= data[method]["mrr"] <= 1.0
    assert data["unanswerable"] == 5


def test_eval_answers_scores_every_answer_in_one_process(workdir, tmp_path):
    root, _ = workdir
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "How many votes in favour did the UN resolution drafted by Ukraine get?", '
        '"evidence": ["93 votes in favor"], "answers": ["93"]}\n'
        '{"id": "b", "question": "What did Chinese President Xi Jinping say about the peace talks?", '
        '"evidence": []}\n', encoding="utf-8")
    result = run(["eval", str(questions), "--answers", "--extractive", "--json"], cwd=root)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)["answers"]
    assert answers["mode"] == "extractive" and answers["answerable"] == 1 and answers["unanswerable"] == 1
    assert answers["contains_answer"] == 1.0 and answers["answerable_declined"] == 0.0
    assert answers["answer_correct"] == 1.0 and answers["questions"][0]["holds_key_tokens"] is True
    assert answers["unanswerable_declined"] == 1.0
    by_id = {r["id"]: r for r in answers["questions"]}
    assert by_id["a"]["answers_question"] is True and "93" in by_id["a"]["answer"]
    assert by_id["b"]["answer"] == "The documents do not mention Chinese President Xi Jinping."
    text = run(["eval", str(questions), "--answers", "--extractive"], cwd=root)
    assert "give the expected answer 1.000 (" in text.stdout and "1.000) of 1 answerable" in text.stdout


def test_status_and_chat_loop(workdir):
    root, _ = workdir
    status = json.loads(run(["status", "--json"], cwd=root).stdout)
    assert status["documents"] == 6 and status["embed_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    chat = run(["chat", "-k", "3"], cwd=root,
               input="What did Trump say about European peacekeepers?\nand what about Lavrov?\n   \n")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.startswith("[extractive mode] 6 documents")
    answers = chat.stdout.split("question> ")[1:]
    assert "no issue with European troops" in " ".join(answers[0].split()) and "Sources:" in answers[0]
    assert "✓ " in answers[0] and "supported" in answers[0]  # sentences checked and marked
    assert "Lavrov" in answers[1].split("Sources:")[0]  # the follow-up was answered in context


def test_no_index_yet_says_how_to_make_one(tmp_path):
    result = run(["search", "anything"], cwd=tmp_path)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "no index in .rag; build one with `rag ingest PATH …`" in result.stderr


def test_concurrent_ingest_is_refused(workdir):
    root, _ = workdir
    with IngestLock(root / ".rag"):
        result = run(["ingest", "seeds"], cwd=root)
    assert result.returncode == 2 and "another ingest is running on .rag" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_model_mismatch_is_one_clear_line(workdir, tmp_path):
    root, _ = workdir
    other = tmp_path / "my-model"
    other.mkdir()
    result = run(["search", "troops", "--embed-model", str(other)], cwd=root)
    assert result.returncode == 2
    assert_no_traceback(result)
    line = result.stderr.strip()
    assert "\n" not in line and "built with sentence-transformers/all-MiniLM-L6-v2" in line and "--rebuild" in line


def test_another_precision_or_backend_is_one_clear_line(workdir):
    """The seeds were ingested at the default, int8: exact vectors would not match them."""
    root, _ = workdir
    for flags, way_out in ((["--embed-precision", "float32"], "leave out --embed-precision"),
                           (["--embed-backend", "torch"], "use --embed-backend onnx")):
        result = run(["search", "troops", *flags], cwd=root)
        assert result.returncode == 2, result.stderr
        assert_no_traceback(result)
        line = result.stderr.strip()
        assert "\n" not in line and "holds int8 vectors, not float32" in line and way_out in line, line
        assert "rag ingest --rebuild" in line


def test_index_dir_from_environment_and_flag(workdir, tmp_path):
    root, _ = workdir
    by_env = run(["status", "--json"], cwd=tmp_path, env_extra={"RAG_INDEX_DIR": str(root / ".rag")})
    by_flag = run(["status", "--json", "--index-dir", str(root / ".rag")], cwd=tmp_path)
    assert json.loads(by_env.stdout)["documents"] == json.loads(by_flag.stdout)["documents"] == 6

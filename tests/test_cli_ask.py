"""`rag ask` and `rag models` as a user runs them: subprocesses, real model files."""
import json
import shutil

import pytest

from conftest import SEEDS
from test_cli import assert_no_traceback, run


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
    assert "challenging decision" in lines[1] and lines[1].rstrip().endswith("]")
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
    by_file = {row["file"]: row for row in data}
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

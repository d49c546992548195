"""--llm-url against llama-cpp-python's own OpenAI-compatible server on 127.0.0.1,
serving the tiny test model."""
import json
import os
import shutil
import subprocess
import sys
import urllib.request

import pytest

from rag.answer.generate import OpenAIGenerator, RemoteModelError
from rag.answer.prompt import SYSTEM_PROMPT

from conftest import CITED_GRAMMAR, SEEDS
from helpers import free_port, wait_until
from helpers import run


@pytest.fixture(scope="module")
def llm_server(tiny_gguf, tmp_path_factory):
    port = free_port()
    log_dir = tmp_path_factory.mktemp("llm-server")
    log = open(log_dir / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}/v1"

    def up() -> bool:
        assert proc.poll() is None, (log_dir / "server.log").read_text(errors="replace")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_until(up, 60, "the llama.cpp server to answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_streams_from_the_server(llm_server):
    generator = OpenAIGenerator(llm_server, n_ctx=2048)
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Who is Betsa?"}]
    pieces = list(generator.stream(messages, max_tokens=10, temperature=0.5))
    assert len(pieces) >= 2 and generator.last_stats.answer_tokens == len(pieces)
    assert generator.last_stats.time_to_first_token_s > 0
    text = "".join(generator.stream(messages, max_tokens=120, temperature=0.5, grammar=CITED_GRAMMAR))
    assert text.count("[") == 2  # the server honoured the grammar


def test_rag_ask_through_the_server(llm_server, tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    assert run(["ingest", "seeds"], cwd=tmp_path).returncode == 0
    result = run(["ask", "What did David Lammy tell MPs?", "--llm-url", llm_server, "--n-ctx", "2048", "--json",
                  "--max-tokens", "6"],
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "remote" and llm_server in data["model"]
    assert data["timings"]["answer_tokens"] >= 1


def test_an_unreachable_server_is_one_clear_line(tmp_path):
    generator = OpenAIGenerator(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(RemoteModelError, match="cannot reach the model server"):
        list(generator.stream([{"role": "user", "content": "hi"}], 4, 0.0))


def test_prompts_are_counted_with_the_servers_tokenizer(llm_server):
    generator = OpenAIGenerator(llm_server, n_ctx=2048)
    messages = [{"role": "user", "content": "x" * 300}]
    # The byte-vocabulary model spends a token per character: an estimate would say ~100.
    assert generator.count(messages) >= 300


def test_a_server_that_ends_the_stream_early_is_an_error_not_an_empty_answer(llm_server):
    """llama-cpp-python's server answers 200 and then closes the stream when a prompt
    exceeds its context; that must not pass for an empty answer."""
    generator = OpenAIGenerator(llm_server, n_ctx=2048)
    with pytest.raises(RemoteModelError, match="without finishing"):
        list(generator.stream([{"role": "user", "content": "y" * 3000}], 4, 0.0))

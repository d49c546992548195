"""The model in a runner process of its own (rag/answer/model_process.py), with the tiny
GGUF through llama-cpp-python: it answers as the model in this process does, a cancel
stops it, and a runner that dies (a real SIGSEGV, sent to it or staged inside it)
costs the request in progress, never the program; the next request starts another.

The crashes are staged: no input is known that makes llama.cpp crash on a CPU
without AMX, so the tests send the runner SIGSEGV or set the runner's staged crash
(a read of address 0 in native code)."""
from __future__ import annotations

import os
import signal

import pytest

from rag.answer.model_files import ModelError
from rag.answer.model_process import STAGED_CRASH, ModelProcess
from rag.answer.prompt import SYSTEM_PROMPT
from rag.answer.shape import AnswerShape
from rag.types.errors import ModelStoppedError

MESSAGES = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Who is Betsa Mariana?"}]


@pytest.fixture
def process(tiny_gguf):
    model = ModelProcess(tiny_gguf, n_ctx=2048)
    yield model
    model.close()


def test_it_answers_as_the_model_in_this_process_does(process, tiny_generator):
    assert process.n_ctx == tiny_generator.n_ctx and process.parameters == tiny_generator.parameters
    assert process.count(MESSAGES) == tiny_generator.count(MESSAGES)
    shape = AnswerShape.over([1, 2], 2)
    here = "".join(tiny_generator.stream(MESSAGES, 24, 0.0, shape=shape))
    there = "".join(process.stream(MESSAGES, 24, 0.0, shape=shape))
    assert there == here  # greedy, the same form check, the same text
    assert process.last_stats.answer_tokens == tiny_generator.last_stats.answer_tokens
    assert process.last_stats.stopped_by == tiny_generator.last_stats.stopped_by
    assert process.last_stats.time_to_first_token_s > 0
    question = [{"role": "user", "content": "Is the sky green?"}]
    assert process.judge(question) == pytest.approx(tiny_generator.judge(question), abs=1e-4)


def test_the_runners_cache_keeps_the_shared_prefix(process):
    list(process.stream(MESSAGES, 4, 0.0))
    list(process.stream(MESSAGES[:1] + [{"role": "user", "content": "What did Lammy say?"}], 4, 0.0))
    stats = process.last_stats
    # the system prompt is read once (the template closes a lone system turn a few tokens differently)
    assert process.count(MESSAGES[:1]) - 4 <= stats.reused_prompt_tokens < stats.prompt_tokens


def test_a_cancel_stops_it_before_its_next_token_and_the_next_answer_is_its_own(process, tiny_generator):
    """A reader who cancels at once: the cancel is sent before the runner has read the
    prompt, and the runner, which asks before every token, writes no more than the model
    in this process does when told to stop before its first."""
    assert list(process.stream(MESSAGES, 200, 0.8, should_stop=lambda: True)) == \
        list(tiny_generator.stream(MESSAGES, 200, 0.8, should_stop=lambda: True))
    assert process.last_stats.stopped_by == "cancelled"
    assert process.last_stats.answer_tokens == tiny_generator.last_stats.answer_tokens <= 1
    # A stream dropped half read is stopped and read out, so replies do not cross.
    stream = process.stream(MESSAGES, 200, 0.8)
    next(stream)
    stream.close()
    assert process.last_stats.stopped_by == "cancelled"
    assert process.count(MESSAGES) == tiny_generator.count(MESSAGES)
    text = "".join(process.stream(MESSAGES, 6, 0.0))
    assert text == "".join(tiny_generator.stream(MESSAGES, 6, 0.0))
    assert process.starts == 1


def test_a_runner_killed_mid_answer_raises_and_the_next_request_starts_another(process):
    stream = process.stream(MESSAGES, 400, 0.8)
    next(stream)
    os.kill(process._runner.process.pid, signal.SIGSEGV)
    with pytest.raises(ModelStoppedError) as stopped:
        for _ in stream:
            pass
    assert stopped.value.reason == "signal 11, SIGSEGV"
    assert "stopped unexpectedly" in str(stopped.value)
    assert "".join(process.stream(MESSAGES, 6, 0.0))  # a new runner, the model loaded again
    assert process.starts == 2


def test_a_runner_that_died_between_requests_is_replaced_unseen(process):
    os.kill(process._runner.process.pid, signal.SIGKILL)
    process._runner.process.wait()
    assert process.count(MESSAGES) > 0
    assert process.starts == 2


def test_the_staged_crash_is_a_real_segfault_once(tiny_gguf, monkeypatch):
    monkeypatch.setenv(STAGED_CRASH, "2")
    model = ModelProcess(tiny_gguf, n_ctx=2048)
    try:
        assert "".join(model.stream(MESSAGES, 6, 0.0))
        with pytest.raises(ModelStoppedError, match="SIGSEGV"):
            list(model.stream(MESSAGES, 6, 0.0))
        for _ in range(2):  # the runner started after it runs clean
            assert "".join(model.stream(MESSAGES, 6, 0.0))
        assert model.starts == 2
    finally:
        model.close()


def test_a_file_llama_cpp_cannot_load_is_a_model_error_from_the_runner(tmp_path):
    """A well-formed GGUF that holds no tensors: the file check here passes it, and
    llama.cpp in the runner refuses it; the runner says so and the error is raised here."""
    import gguf

    empty = tmp_path / "no-tensors.gguf"
    writer = gguf.GGUFWriter(str(empty), "llama")
    writer.add_name("no tensors")
    writer.add_context_length(256)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelError, match="llama.cpp cannot load it"):
        ModelProcess(empty, n_ctx=256)

"""A local GGUF model run in a process of its own (rag/answer/runner.py), behind the
same `Generator` protocol as the model in this process.

Why a process: llama.cpp is native code, and native code can crash (llama.cpp's AMX
kernels segfault on some Intel CPUs; a decode has failed at high temperatures). In
this process a crash would end `rag chat`, `rag ask --batch` or `rag mcp` with the
reader's conversation on screen; in the runner it ends the runner only. The request
in progress then raises `ModelStoppedError` (the assistant answers that question
extractively and says why), and the next request starts a runner again, which loads
the model again (seconds: the file is still in the page cache).

Everything else is as in-process: the form check runs beside the model, a cancel
stops it before its next token, its key/value cache (the shared prompt prefix) lives
in the runner between answers, and "does it answer?" reads the runner's
probabilities. The cost is a pickled message per text piece (bench/model_process.py).
"""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence

from rag.answer.generate import GenerationStats
from rag.answer.model_files import ModelError, check_gguf
from rag.answer.prompt import Message
from rag.answer.shape import AnswerShape
from rag.types.answers import Mode
from rag.types.errors import ModelStoppedError
from rag.types.runtime import ModelRuntime

# Tests of crash handling set this to N: the first runner of a program segfaults on its
# Nth answer, after the answer's first piece (runner.py). No input is known that makes
# llama.cpp crash on a CPU without AMX, so the tests stage one, as a real SIGSEGV in
# native code. A runner started again after a crash is started without it.
STAGED_CRASH = "RAG_STAGED_MODEL_CRASH"
# How often a wait for the runner looks at the reader's cancel and at the runner's
# health: a cancel reaches the model within this (a token takes 50-100 ms on 2 cores).
POLL_S = 0.02
# A runner asked to close gets this long before it is killed.
CLOSE_WAIT_S = 2.0


def _why_it_stopped(returncode: int | None) -> str:
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"signal {-returncode}, {name}"
    return f"exit status {returncode}"


@dataclasses.dataclass
class _Runner:
    process: subprocess.Popen
    conn: Connection
    log: IO[bytes]

    def tail(self, lines: int = 3) -> str:
        """The runner's last words on stderr (llama.cpp's assertion, say), one line."""
        try:
            self.log.seek(0)
            text = self.log.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())

    def end(self) -> int | None:
        """Close the runner (asked, then killed), and its exit status."""
        if self.process.poll() is None:
            try:
                self.conn.send(("close", None))
            except (OSError, ValueError):
                pass
            try:
                self.process.wait(CLOSE_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for thing in (self.conn, self.log):
            try:
                thing.close()
            except OSError:
                pass
        return self.process.returncode


def _end_quietly(runner: _Runner) -> None:
    runner.end()


class ModelProcess:
    """A GGUF model in a runner process: `Generator` for the assistant. The model is
    loaded when this is made (ModelError for a file llama.cpp cannot load, as in
    process), and again after a crash, at the next request."""

    mode = Mode.LOCAL
    can_judge = True

    def __init__(self, model_path: Path, n_ctx: int = 4096, extra_buffers: str = "auto", seed: int = 0):
        check_gguf(model_path)  # a missing or foreign file is said before any process starts
        self.path = model_path
        self.name = model_path.name
        self._load = {"path": str(model_path.absolute()), "n_ctx": n_ctx, "extra_buffers": extra_buffers,
                      "seed": seed}
        self._lock = threading.RLock()
        self._runner: _Runner | None = None
        self._open_stream = False
        self.starts = 0  # runners started: 1 + the crashes recovered from
        self.last_stats = GenerationStats()
        self.n_ctx = n_ctx
        self.parameters: int | None = None
        self.template_source = ""
        self.runtime: ModelRuntime | None = None
        self._start()

    # ------------------------------------------------------------------ the runner

    def _start(self) -> _Runner:
        import rag

        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        if self.starts > 0:
            env.pop(STAGED_CRASH, None)  # a staged crash happens once; the runner after it runs clean
        # The same `rag` as this process's, whatever the working folder holds (-P: not on the path).
        package_root = str(Path(rag.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        log = tempfile.TemporaryFile(prefix="rag-model-")
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-m", "rag.answer.runner", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)  # the terminal's Ctrl-C is the program's to handle, not the runner's
        except OSError as exc:
            log.close()
            raise ModelError(f"cannot start the model's process: {exc}") from None
        finally:
            theirs.close()
        runner = _Runner(process, Connection(ours.detach()), log)
        self.starts += 1
        weakref.finalize(self, _end_quietly, runner)  # the runner ends with this object, or at exit
        self._runner = runner
        runner.conn.send(("load", self._load))
        kind, body = self._receive()
        if kind == "error":
            self._discard()
            raise ModelError(body)
        if kind != "ready":
            self._discard()
            raise ModelError(f"the model's process answered {kind!r} to loading")
        self.n_ctx, self.parameters = body["n_ctx"], body["parameters"]
        self.template_source, self.runtime = body["template_source"], body["runtime"]
        return runner

    def _ready(self) -> _Runner:
        """The runner, started again if the last one stopped; an answer left unfinished
        (its stream dropped unread) is stopped first."""
        if self._open_stream:
            self._finish_stream()
        if self._runner is not None and self._runner.process.poll() is not None:
            self._discard()  # it died between requests (killed for memory, say): nobody waited on it
        return self._runner or self._start()

    def _discard(self) -> tuple[str, str]:
        """End the runner; (why it stopped, its last words)."""
        runner, self._runner, self._open_stream = self._runner, None, False
        if runner is None:
            return "it was not running", ""
        alive = runner.process.poll() is None
        status = runner.end()
        return ("it stopped answering" if alive else _why_it_stopped(status)), runner.tail()

    def _stopped(self, why: str | None = None) -> ModelStoppedError:
        reason, detail = self._discard()
        return ModelStoppedError(why or reason, detail)

    def _receive(self, should_stop: Callable[[], bool] | None = None,
                 on_stop: Callable[[], None] | None = None) -> tuple[str, Any]:
        """The runner's next message. While waiting, a cancel (`should_stop`) is passed
        on once (`on_stop`), and a runner that dies is noticed at once."""
        runner = self._runner
        assert runner is not None
        try:
            while True:
                if should_stop is not None and on_stop is not None and should_stop():
                    on_stop()  # asked at every message and every POLL_S: the runner hears it before its next token
                    should_stop = None
                if runner.conn.poll(POLL_S):
                    break
                if runner.process.poll() is not None:
                    raise self._stopped()
            kind, body = runner.conn.recv()
        except (EOFError, OSError):
            try:
                runner.process.wait(CLOSE_WAIT_S)  # closed its end: it is exiting, with a status to tell
            except subprocess.TimeoutExpired:
                pass
            raise self._stopped() from None
        if kind == "failed":
            raise self._stopped(f"llama.cpp failed: {body}")
        return kind, body

    def _request(self, kind: str, body: Any) -> Any:
        with self._lock:
            runner = self._ready()
            try:
                runner.conn.send((kind, body))
            except OSError:
                raise self._stopped() from None
            reply, value = self._receive()
            if reply == "error":
                raise ModelError(value)
            return value

    def close(self) -> None:
        with self._lock:
            self._discard()

    # ------------------------------------------------------------------ Generator

    def count(self, messages: Sequence[Message]) -> int:
        return int(self._request("count", list(messages)))

    def judge(self, messages: Sequence[Message]) -> float:
        return float(self._request("judge", list(messages)))

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None, should_stop: Callable[[], bool] | None = None,
               shape: AnswerShape | None = None) -> Iterator[str]:
        with self._lock:
            runner = self._ready()
            stats = self.last_stats = GenerationStats()
            started = time.perf_counter()
            try:
                runner.conn.send(("stream", {"messages": list(messages), "max_tokens": max_tokens,
                                             "temperature": temperature, "grammar": grammar, "shape": shape}))
            except OSError:
                raise self._stopped() from None
            self._open_stream = True
        first: float | None = None
        cancelled = False

        def cancel() -> None:
            nonlocal cancelled
            cancelled = True
            try:
                runner.conn.send(("cancel", None))
            except OSError:
                pass  # it has gone: the wait below says so

        try:
            while True:
                kind, body = self._receive(should_stop, cancel)
                if kind == "text":
                    if first is None:
                        first = time.perf_counter()
                    yield body
                elif kind == "done":
                    self._open_stream = False
                    self._take_stats(stats, body, started, first, cancelled)
                    return
                elif kind == "error":
                    self._open_stream = False
                    raise ModelError(body)
        finally:
            if self._open_stream:  # closed early (a repeated sentence, the reader's cancel)
                cancel()
                self._finish_stream(stats, started, first)

    def _finish_stream(self, stats: GenerationStats | None = None, started: float = 0.0,
                       first: float | None = None) -> None:
        """Read an answer that was stopped to its end (the runner stops at its next
        token), so the next request's reply is not taken for this one's."""
        with self._lock:
            try:
                while self._open_stream:
                    kind, body = self._receive()
                    if kind in ("done", "error"):
                        self._open_stream = False
                        if kind == "done" and stats is not None:
                            self._take_stats(stats, body, started, first, cancelled=True)
            except ModelStoppedError:
                pass  # it died while stopping: the next request starts another

    @staticmethod
    def _take_stats(stats: GenerationStats, reported: dict, started: float, first: float | None,
                    cancelled: bool) -> None:
        """The runner's counts, with the times as this process saw them (what the reader waits for)."""
        stats.prompt_tokens = reported["prompt_tokens"]
        stats.reused_prompt_tokens = reported["reused_prompt_tokens"]
        stats.answer_tokens = reported["answer_tokens"]
        stats.stopped_by = "cancelled" if cancelled else reported["stopped_by"]
        if first is not None:
            stats.time_to_first_token_s = first - started
            if stats.answer_tokens > 1:
                stats.tokens_per_second = (stats.answer_tokens - 1) / max(1e-9, time.perf_counter() - first)

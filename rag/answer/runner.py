"""The model's own process: `python -P -m rag.answer.runner FD` loads one GGUF through
llama.cpp and answers the program's requests over the socket FD (rag/answer/
model_process.py is the other end). Native code that crashes here (a segfault in
llama.cpp) ends this process only; the program sees the socket close, tells its
reader, and starts another runner for the next question, as Ollama's server does
with its runner.

Messages are (kind, body) pairs, pickled by `multiprocessing.connection`:
    → ("load", {path, n_ctx, extra_buffers, seed})   ← ("ready", {...}) | ("error", message)
    → ("count", messages)                            ← ("ok", tokens)
    → ("judge", messages)                            ← ("ok", p_yes)
    → ("stream", {messages, max_tokens, …})          ← ("text", piece)… then ("done", stats)
    → ("cancel", None) while streaming: the model stops before its next token
    → ("close", None)                                 (or the socket closing): the runner ends
An error the runner understands (a `ModelError`) is ("error", message) and the runner
goes on; anything else is ("failed", what) and the runner ends, since llama.cpp's
state is then unknown.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from rag.answer.model_process import STAGED_CRASH


def _staged_crash_at() -> int | None:
    value = os.environ.get(STAGED_CRASH, "")
    return int(value) if value.isdigit() else None


def _segfault() -> None:
    """A real segmentation fault in native code: a read of address 0."""
    import ctypes

    ctypes.string_at(0)


def serve(conn: Connection) -> int:
    from rag.answer.generate import LlamaCppGenerator
    from rag.answer.model_files import ModelError

    kind, load = conn.recv()
    if kind != "load":
        return 2
    try:
        generator = LlamaCppGenerator(Path(load["path"]), n_ctx=load["n_ctx"], seed=load["seed"],
                                      extra_buffers=load["extra_buffers"])
    except ModelError as exc:
        conn.send(("error", str(exc)))
        return 1
    conn.send(("ready", {"n_ctx": generator.n_ctx, "parameters": generator.parameters,
                         "template_source": generator.template_source,
                         "runtime": dataclasses.replace(generator.runtime, isolated=True)}))
    crash_at = _staged_crash_at()
    answers = 0
    while True:
        try:
            kind, body = conn.recv()
        except (EOFError, OSError):
            return 0  # the program has ended
        try:
            if kind == "close":
                return 0
            if kind == "count":
                conn.send(("ok", generator.count(body)))
            elif kind == "judge":
                conn.send(("ok", generator.judge(body)))
            elif kind == "stream":
                answers += 1
                _stream(conn, generator, body, crash=answers == crash_at)
            # a "cancel" that arrives after its answer ended is dropped
        except ModelError as exc:
            conn.send(("error", str(exc)))
        except (EOFError, BrokenPipeError, ConnectionResetError):
            return 0  # the program went away mid-answer
        except Exception as exc:  # noqa: BLE001 - llama.cpp's state is unknown now: say what, and end
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
            return 1


def _stream(conn: Connection, generator, body: dict, crash: bool) -> None:
    cancelled = False

    def should_stop() -> bool:  # asked before every token
        nonlocal cancelled
        while not cancelled and conn.poll(0):
            cancelled = conn.recv()[0] == "cancel"
        return cancelled

    pieces = generator.stream(body["messages"], body["max_tokens"], body["temperature"], body["grammar"],
                              should_stop=should_stop, shape=body["shape"])
    for piece in pieces:
        conn.send(("text", piece))
        if crash:
            _segfault()
    conn.send(("done", dataclasses.asdict(generator.last_stats)))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m rag.answer.runner FD (started by the program, not by hand)", file=sys.stderr)
        return 2
    from rag.environment import prepare_process

    prepare_process()
    with Connection(int(argv[1])) as conn:
        return serve(conn)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The chat app's responsiveness, measured with Pilot timestamps.

    .venv/bin/rag ingest seeds/ && .venv/bin/python bench/chat_app.py

1. Key echo: the time from a key press to the character in the input, while an
   answer streams from the tiny GGUF (random weights, byte vocabulary: many small
   pieces, the hardest case for the screen), beside the same measurement with
   the app idle. Target: p95 <= 100 ms while streaming.
2. Start-up: a fresh Python process that imports the app, starts it and echoes a
   key, with the index and the embedding model still loading in the background,
   beside the same for a bare Textual app holding only an Input (the floor any
   Textual app pays). Target: <= 2 s. Also when the index became ready.
3. The same start-up reopening a saved conversation of 200 turns (the app shows
   its last turns and keeps the rest in the history). Target: <= 0.6 s.
"""
from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import CACHE, ROOT, SMOKE, bench_parser, smoke_seed_index

PRESSES = 5 if SMOKE else 60


def send_key(app, key: str = "x") -> None:
    """Deliver a key as the terminal driver does. (Pilot.press would also wait for
    the whole app to be idle, which it never is while an answer streams.)"""
    from textual import events

    event = events.Key(key, key)
    event.set_sender(app)
    app._driver.send_message(event)


async def until(condition, what: str, limit_s: float = 60.0, step: float = 0.0005) -> None:
    """Wait for `condition`; a benchmark that waits for ever is a bug, said as one."""
    deadline = time.perf_counter() + limit_s
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"waited {limit_s:.0f} s for {what}")
        await asyncio.sleep(step)


async def _echo_latencies(app, presses: int) -> list[float]:
    box = app.question_input
    out = []
    for _ in range(presses):
        before = len(box.value)
        started = time.perf_counter()
        send_key(app)
        await until(lambda: len(box.value) != before, "a key's echo")
        out.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)  # a fast typist: 50 keys a second at most
    return out


# The tiny model's words are random bytes; under this grammar it writes cited
# sentences of ASCII words without end, so the screen renders and checks text.
STREAM_GRAMMAR = r'''root ::= sentence{300}
sentence ::= word (" " word){3,8} ". [" [1-3] "] "
word ::= [a-z]{2,7}
'''


class GrammarGenerator:
    """The tiny GGUF behind a fixed grammar (bench only)."""

    can_judge = False  # random weights: nothing to confirm an answer with

    def __init__(self, inner):
        self.inner = inner
        self.mode, self.name, self.n_ctx, self.parameters = inner.mode, inner.name, inner.n_ctx, inner.parameters
        self.runtime = inner.runtime

    def judge(self, messages) -> float:
        raise NotImplementedError("the bench's model does not judge")

    @property
    def last_stats(self):
        return self.inner.last_stats

    def count(self, messages):
        return self.inner.count(messages)

    def stream(self, messages, max_tokens, temperature, grammar=None, should_stop=None, shape=None):
        return self.inner.stream(messages, max_tokens, temperature, STREAM_GRAMMAR, should_stop)


def _settings():
    from rag.config import load_settings

    return smoke_seed_index() or load_settings()


def key_echo() -> dict:
    import rag.answer.generate
    from rag.answer.generate import LlamaCppGenerator
    from rag.library import Library
    from rag.wiring import embedder_for
    from tinymodel import write_tiny_gguf
    from tui.app import RagApp

    path = CACHE / "tiny-bench.gguf"
    if not path.exists():
        write_tiny_gguf(path)
    generator = GrammarGenerator(LlamaCppGenerator(path, n_ctx=4096))
    rag.answer.generate.configured_model = lambda settings: path  # the bench's model, through the app's own loader
    settings = _settings().replace(max_tokens=3000, temperature=0.8, n_ctx=4096)
    # The embedder at the index's own precision, as the app's default factory makes it.
    library = Library(settings, load_embedder=lambda name, precision: embedder_for(settings, name, precision),
                      load_generator=lambda s: generator)
    app = RagApp(settings, library=library)
    result = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            def ready() -> bool:
                if app.model_state == "failed" or app.index_state not in ("loading", "ready"):
                    raise SystemExit(f"cannot start: {[n.message for n in app._notifications]}")
                return app.overview is not None and app.model_state == "ready"

            await until(ready, "the index and the model", step=0.05)
            result["idle"] = await _echo_latencies(app, PRESSES)
            app.question_input.value = ""
            app.question_input.value = "What did Lammy tell MPs about sending troops?"
            await pilot.press("enter")
            await until(lambda: app.answers or (app.answering is not None and app.answering.view.text),
                        "the answer to start", step=0.01)
            if app.answers:
                raise SystemExit("the answer ended before the measurement began")
            result["streaming"] = await _echo_latencies(app, PRESSES)
            result["still_streaming"] = app.answering is not None
            result["answer_chars"] = len(app.answering.view.text) if app.answering else None
            app.action_cancel()

    asyncio.run(run())
    return result


STARTUP_APP = r'''
import asyncio, sys, time
t0 = float(sys.argv[1])
from tui.app import RagApp
from rag.config import load_settings
from textual import events
app = RagApp(load_settings(), extractive=True)
async def main():
    async with app.run_test(size=(100, 30)) as pilot:
        event = events.Key("x", "x"); event.set_sender(app); app._driver.send_message(event)
        while app.question_input.value != "x":
            await asyncio.sleep(0.0005)
        interactive = time.time() - t0
        loading = app.overview is None
        from tui.widgets import AnswerView
        expected = min(len(app.session.answers), 20)
        while sum(1 for v in app.query(AnswerView) if v.answer is not None) < expected:
            await asyncio.sleep(0.001)
        shown = time.time() - t0
        # Keys typed while torch and chromadb load in the background thread.
        echoes = []
        while app.overview is None and app.index_state == "loading":
            before = len(app.question_input.value)
            started = time.perf_counter()
            event = events.Key("x", "x"); event.set_sender(app); app._driver.send_message(event)
            while len(app.question_input.value) == before:
                await asyncio.sleep(0.0005)
            echoes.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
        echoes.sort()
        print(interactive, loading, time.time() - t0, echoes[int(0.95 * (len(echoes) - 1))] if echoes else 0.0,
              len(app.session.answers), shown)
asyncio.run(main())
'''

STARTUP_BARE = r'''
import asyncio, sys, time
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import Input
class Bare(App):
    def compose(self):
        yield Input()
app = Bare()
async def main():
    async with app.run_test(size=(100, 30)) as pilot:
        from textual import events
        event = events.Key("x", "x"); event.set_sender(app); app._driver.send_message(event)
        while app.query_one(Input).value != "x":
            await asyncio.sleep(0.0005)
        print(time.time() - t0, False, 0.0, 0.0, 0, 0.0)
asyncio.run(main())
'''


HISTORY_TURNS = 10 if SMOKE else 200


def history_index() -> Path:
    """A copy of ./.rag whose history holds one conversation of HISTORY_TURNS turns:
    real extractive answers to the seed questions, repeated (made once, cached)."""
    import shutil

    from rag.chat.history import ConversationStore
    from rag.evaluation.retrieval import load_questions
    from rag.types.answers import Answer
    from rag.chat.session import ChatOptions, ChatSession
    from rag.library import Library

    target = CACHE / f"chat-history-{HISTORY_TURNS}"
    store = ConversationStore.in_index(target)
    if store.path.exists() and store.conversations() and store.conversations()[0].turns == HISTORY_TURNS:
        return target
    shutil.rmtree(target, ignore_errors=True)
    source = _settings()
    shutil.copytree(source.index_dir, target, ignore=shutil.ignore_patterns("history.sqlite3"))
    settings = source.replace(index_dir=target)
    session = ChatSession.open(Library(settings, extractive=True), ChatOptions(extractive=True))
    questions = [q.question for q in load_questions(ROOT / "eval" / "seed_questions.jsonl")][: 4 if SMOKE else None]
    answers = []
    for question in questions:
        answers += [a for a in session.ask(question, extractive=True) if isinstance(a, Answer)]
    for position in range(len(answers), HISTORY_TURNS):
        store.add(session.conversation_id, position, answers[position % len(answers)])
    return target


def startup(runs: int = 5) -> dict:
    import os

    with_history = history_index()
    index = {"RAG_INDEX_DIR": str(_settings().index_dir)} if SMOKE else {}
    variants = (("rag chat app", STARTUP_APP, index),
                (f"rag chat app reopening {HISTORY_TURNS} turns", STARTUP_APP, {"RAG_INDEX_DIR": str(with_history)}),
                ("bare Textual app with an Input (baseline)", STARTUP_BARE, {}))
    rows = {name: [] for name, _, _ in variants}
    for _ in range(runs):
        for name, script, env in variants:
            done = subprocess.run([sys.executable, "-c", script, repr(time.time())], cwd=Path.cwd(),
                                  capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT), **env})
            if done.returncode:
                raise SystemExit(done.stderr[-2000:])
            interactive, loading, ready, echo_p95, turns, shown = done.stdout.split()
            rows[name].append((float(interactive), loading == "True", float(ready), float(echo_p95), int(turns),
                               float(shown)))
    return rows


def main() -> int:
    parser = bench_parser(__doc__)
    parser.parse_args()
    echo = key_echo()
    p50 = lambda xs: 1000 * statistics.median(xs)  # noqa: E731
    p95 = lambda xs: 1000 * sorted(xs)[int(0.95 * (len(xs) - 1))]  # noqa: E731
    print(f"### Key echo ({PRESSES} presses each; the answer was still streaming at the end: "
          f"{echo['still_streaming']}, {echo['answer_chars']} characters written)\n")
    print("| app state | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for name, key in (("idle (baseline)", "idle"), ("answer streaming from the tiny GGUF", "streaming")):
        xs = echo[key]
        print(f"| {name} | {p50(xs):.1f} | {p95(xs):.1f} | {1000 * max(xs):.1f} |")

    runs = 1 if SMOKE else 5
    rows = startup(runs)
    print(f"\n### Start-up to an interactive prompt (fresh process, {runs} runs, median)\n")
    print("| app | first key echoed after s | index still loading then | index ready after s "
          "| key echo p95 while loading, ms | turns reopened | their last 20 shown after s |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in rows.items():
        interactive = statistics.median(r[0] for r in runs)
        if not name.startswith("rag chat app"):
            print(f"| {name} | {interactive:.2f} | – | – | – | – | – |")
            continue
        loading = sum(r[1] for r in runs)
        ready = statistics.median(r[2] for r in runs)
        echo = statistics.median(r[3] for r in runs)
        shown = statistics.median(r[5] for r in runs) if runs[0][4] else None
        print(f"| {name} | {interactive:.2f} | {loading} of {len(runs)} | {ready:.2f} | {1000 * echo:.0f} "
              f"| {runs[0][4]} | {'–' if shown is None else f'{shown:.2f}'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What many test modules share, in one place: the `rag` command run as a user runs it,
waiting for a condition (in plain code and in the chat app's Pilot), and the app's
small readers. Test modules import these from here, never from one another."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Callable, Sequence

RAG = [sys.executable, "-m", "launcher"]


def rag_env(**extra: str) -> dict[str, str]:
    """This process's environment without any RAG_* setting, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


def run(args: Sequence[str], cwd, input: str | None = None, env_extra: dict[str, str] | None = None,
        timeout: float = 600, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """`rag ARGS` in a subprocess, as a user runs it (`prefix`: a program to run it under,
    e.g. setpriv)."""
    return subprocess.run([*prefix, *RAG, *args], cwd=cwd, input=input, capture_output=True, text=True,
                          env=rag_env(**(env_extra or {})), timeout=timeout)


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


async def app_wait_until(pilot, condition: Callable[[], object], timeout: float = 60.0,
                         what: str = "condition") -> None:
    """`wait_until` inside the chat app: the app runs while it polls."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


# The chat app's readers, for its Pilot tests.
APP_QUESTION = "How many votes did the first UN resolution get?"


def status_text(app) -> str:
    from tui.widgets import StatusBar

    return str(app.query_one(StatusBar).render())


def notes(app, severity: str | None = None) -> list[str]:
    return [n.message for n in app._notifications if severity is None or n.severity == severity]


async def wait_for_note(pilot, app, text: str, severity: str | None = None) -> None:
    """Notifications are posted, then shown: wait for one that contains `text`."""
    await app_wait_until(pilot, lambda: any(text in n for n in notes(app, severity)), timeout=30,
                         what=f"a {severity or ''} notification with {text!r}")


async def ask(pilot, app, question: str):
    """Type a question, press Enter, and wait for its answer: the answer's view."""
    from tui.widgets import AnswerView

    app.question_input.value = question
    await pilot.press("enter")
    await app_wait_until(pilot, lambda: app.answering is None and app.pending is None, what="the answer")
    return app.query(AnswerView).last()


def library_on(settings, embedder_factory, generator=None, extractive: bool = False):
    """The library service on `settings`, with the suite's loaded embedding model and,
    when given, a loaded `generator` (through the library's own seams)."""
    from rag.library import Library

    return Library(settings, extractive=extractive, load_embedder=embedder_factory,
                   load_generator=(lambda s: generator) if generator is not None else None)


def app_on(settings, embedder_factory, generator=None, extractive: bool = False, options=None):
    """The chat app on a library made by `library_on`."""
    from tui.app import RagApp

    extractive = options.extractive if options is not None else extractive
    return RagApp(settings, extractive=extractive, options=options,
                  library=library_on(settings, embedder_factory, generator, extractive))


def session_on(settings, embedder_factory, options=None):
    """A chat session (as `rag chat` opens one) on a library made by `library_on`."""
    from rag.chat.session import ChatOptions, ChatSession

    options = options or ChatOptions()
    return ChatSession.open(library_on(settings, embedder_factory, extractive=options.extractive), options)

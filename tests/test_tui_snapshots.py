"""SVG snapshots of the app (pytest-textual-snapshot) at 80×24 and 120×40: the
empty app, an answered question with its sources, and an error. The real seed
index and MiniLM model answer extractively, which is deterministic. After a
deliberate change of looks, review and update them with
`pytest tests/test_tui_snapshots.py --snapshot-update`."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import Settings

from helpers import APP_QUESTION as QUESTION
from helpers import app_wait_until as wait_until
from helpers import app_on, wait_for_note

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def local_index(seed_index, tmp_path) -> Settings:
    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    return Settings(index_dir=Path(".rag"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_empty_app(snap_compare, local_index, embedder_factory, size):
    app = app_on(local_index, embedder_factory, extractive=True)

    async def ready(pilot):
        await wait_until(pilot, lambda: app.overview is not None, what="the index")

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_answered_question_with_sources(snap_compare, local_index, embedder_factory, size):
    app = app_on(local_index, embedder_factory, extractive=True)

    async def answered(pilot):
        await wait_until(pilot, lambda: app.overview is not None, what="the index")
        app.question_input.value = QUESTION
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.answers) and app.answering is None, what="the answer shown")
        await pilot.press("f2")  # on 80 columns the sources panel comes up when asked for
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=answered)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_error_no_index(snap_compare, embedder_factory, size):
    app = app_on(Settings(index_dir=Path("missing-index")), embedder_factory, extractive=True)

    async def failed(pilot):
        await wait_until(pilot, lambda: app.index_state == "missing", what="the missing index")
        app.question_input.value = QUESTION
        await pilot.press("enter")
        await wait_for_note(pilot, app, "no index", "error")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=failed)

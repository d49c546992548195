"""States that are shown, saved or sent are `StrEnum`s whose values are the strings
written before they were enums: `--json`, `history.sqlite3` and a history file written
with plain strings all read the same. Real seed index, real MiniLM, extractive answers."""
from __future__ import annotations

import dataclasses
import json

import pytest

from rag.chat.history import ConversationStore
from rag.chat.record import answer_from_record, answer_to_record
from rag.types.answers import Answer, Mode
from rag.types.citations import Verdict
from rag.wiring import open_assistant


def _values(data, key: str) -> list:
    """Every value stored under `key`, at any depth of a JSON document."""
    found = []
    if isinstance(data, dict):
        for k, v in data.items():
            found += [v] if k == key else _values(v, key)
    elif isinstance(data, list):
        for item in data:
            found += _values(item, key)
    return found


@pytest.fixture(scope="module")
def answer(seed_retriever, seed_index) -> Answer:
    stream = open_assistant(seed_index, seed_retriever).ask("How many votes did the first UN resolution get?")
    return [item for item in stream if isinstance(item, Answer)][-1]


def test_json_and_saved_records_hold_enum_values(answer):
    for document in (answer.to_json(), answer_to_record(answer)):
        written = json.loads(json.dumps(document))
        verdicts = _values(written, "verdict")
        assert verdicts and set(verdicts) <= {v.value for v in Verdict}
        assert _values(written, "mode") == [Mode.EXTRACTIVE.value]
    back = answer_from_record(json.loads(json.dumps(answer_to_record(answer))))
    assert back.mode is Mode.EXTRACTIVE
    assert all(type(check.verdict) is Verdict for check in back.citations.checks)


def test_a_history_written_with_plain_strings_opens_with_enums(answer, tmp_path):
    # What the code before the enums saved: the same record, with str values.
    plain = dataclasses.replace(
        answer, mode=str(answer.mode.value),
        citations=dataclasses.replace(answer.citations, checks=tuple(
            dataclasses.replace(c, verdict=str(c.verdict.value)) for c in answer.citations.checks)))
    assert all(type(c.verdict) is str for c in plain.citations.checks)
    store = ConversationStore.in_index(tmp_path)
    conversation = store.start()
    store.add(conversation, 0, plain)
    [loaded] = ConversationStore.in_index(tmp_path).load(conversation).answers
    assert loaded.mode is Mode.EXTRACTIVE
    assert [type(c.verdict) for c in loaded.citations.checks] == [Verdict] * len(answer.citations.checks)
    assert [c.verdict for c in loaded.citations.checks] == [c.verdict for c in answer.citations.checks]


def test_app_states_keep_the_strings_the_status_bar_and_tests_read():
    from tui.states import IndexState, ModelState

    assert {s.value for s in IndexState} == {"loading", "ready", "missing", "failed"}
    assert {s.value for s in ModelState} == {"none", "loading", "ready", "failed"}
    assert IndexState.READY == "ready"  # a StrEnum compares equal to its string

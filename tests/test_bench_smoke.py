"""Every benchmark runs: a benchmark that no longer runs is a bug (bench/real_answers.py
once crashed for months unseen). Each script in bench/ is run with `--smoke` (a few
questions on a tiny corpus, its figures meaningless) in a cache folder of the tests'
own; a new script without a smoke mode fails here. The full runs are `make bench`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p.name for p in (ROOT / "bench").glob("*.py") if p.name != "common.py")


# Run first and alone: they build what the others share (the seeds index, the SciFact slice).
BUILDERS = ("answers.py", "query_latency.py")
PARALLEL = 2  # smoke runs at a time: most of a run is starting Python and loading a model


@pytest.fixture(scope="module")
def bench_cache(tmp_path_factory) -> Path:
    """One cache for every smoke run: the seeds index, the SciFact slice and the tiny GGUF are made once."""
    from tinymodel import write_tiny_gguf

    cache = tmp_path_factory.mktemp("bench-cache")
    write_tiny_gguf(cache / "tiny-bench.gguf")  # several scripts use it: written before they run side by side
    return cache


def run_smoke(script: str, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script, "--smoke", *extra], cwd=ROOT / "bench", capture_output=True,
                          text=True, timeout=600, env={**os.environ, "RAG_BENCH_CACHE": str(cache)})


@pytest.fixture(scope="module")
def smoke_runs(bench_cache, default_gguf) -> dict[str, subprocess.CompletedProcess]:
    """Every script's smoke run (but real_answers.py's, below, which needs the CPU to itself
    for the default model): the builders first, then the rest two at a time."""
    runs = {script: run_smoke(script, bench_cache) for script in BUILDERS}
    rest = [s for s in SCRIPTS if s not in BUILDERS and s != "real_answers.py"]
    with ThreadPoolExecutor(PARALLEL) as pool:
        runs.update(zip(rest, pool.map(lambda script: run_smoke(script, bench_cache), rest)))
    return runs


def test_every_script_is_found():
    assert len(SCRIPTS) >= 18 and "real_answers.py" in SCRIPTS and "scifact.py" in SCRIPTS


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s != "real_answers.py"])
def test_the_benchmark_runs_in_its_smoke_mode(script, smoke_runs):
    result = smoke_runs[script]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "|---|" in result.stdout  # it printed its table


def test_the_real_answers_benchmark_runs_and_writes_its_table(default_gguf, bench_cache, tmp_path):
    # One answerable and one off-corpus seed question with the default model, extractive beside it.
    result = run_smoke("real_answers.py", bench_cache, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| seeds | qwen2.5-1.5b shipped | 2 |" in result.stdout
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert {f["config"] for f in figures} == {"extractive", "qwen2.5-1.5b shipped"}
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"answerable", "off"}


def test_the_web_question_set_is_answered_by_its_pages(tmp_path, monkeypatch):
    """real_answers.py's `web` set (the saved news pages of ../shared/benchdata/html): every
    page unpacks, and every answerable question's expected answer is in one page's marked
    article text and every other question's is not asked of it (its kind is said). The rest
    of a `web` run is the seeds' path, run above; answering 37 questions is `make bench`'s."""
    import gzip

    from rag.evaluation.retrieval import holds_key_tokens

    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    from real_answers import web_pages, web_questions

    questions = web_questions()
    assert len(questions) == 37 and len({q.id for q in questions}) == 37
    assert {q.kind for q in questions} == {"answerable", "impossible"}
    pages = sorted(web_pages(tmp_path / "pages").glob("*.html"))
    assert len(pages) == 20 and all(page.read_bytes().lstrip()[:1] == b"<" for page in pages)
    truth = json.loads((ROOT.parent / "shared" / "benchdata" / "html" / "ground-truth.json").read_text())
    bodies = [entry["articleBody"] for entry in truth.values()]
    for q in questions:
        if q.kind == "answerable":
            assert q.answers and any(holds_key_tokens(body, q.answers) for body in bodies), q
        else:
            assert not q.answers, q

"""bench/real_answers.py runs: a benchmark that no longer runs is a bug (it once
crashed for months unseen). One answerable and one off-corpus seed question with
the default model, extractive beside it, in a folder of the test's own; the full
run is `make bench`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_real_answers_benchmark_runs_and_writes_its_table(default_gguf, tmp_path):
    result = subprocess.run(
        [sys.executable, "real_answers.py", "--models", "qwen2.5-1.5b", "--sets", "seeds",
         "--configs", "extractive,shipped", "--limit", "1", "--out", str(tmp_path)],
        cwd=ROOT / "bench", capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| seeds | qwen2.5-1.5b shipped | 2 |" in result.stdout
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert {f["config"] for f in figures} == {"extractive", "qwen2.5-1.5b shipped"}
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"answerable", "off"}

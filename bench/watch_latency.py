"""How soon a file saved in a watched folder is searchable: `rag watch` on a folder
of the seed articles, a new note saved every few seconds, the time from the save
to the watcher's line for it (its update committed: from then on any `rag search`
finds it); beside it the baseline a user without the watcher pays, a `rag ingest`
of the folder run by hand right after the save (from its start to its exit).
Each note is checked by a real `rag search` once the runs are done.

    .venv/bin/python bench/watch_latency.py
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, SMOKE, bench_parser

SAVES = 1 if SMOKE else 12
RAG = [sys.executable, "-m", "launcher"]


def env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_")}, "HF_HUB_OFFLINE": "1"}


def note(folder: Path, n: int) -> str:
    word = f"zebracorn{n:03}"
    (folder / f"note{n:03}.txt").write_text(f"The keeper logged {word} sightings at the north pier.\n",
                                            encoding="utf-8")
    return word


def main() -> int:
    parser = bench_parser(__doc__)
    parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rag-watch-bench-"))
    try:
        watched, manual = work / "watched", work / "manual"
        for folder in (watched, manual):
            if SMOKE:  # one article: the smoke run shows the script runs, in seconds
                folder.mkdir()
                shutil.copy(sorted((ROOT / "seeds").iterdir())[0], folder)
            else:
                shutil.copytree(ROOT / "seeds", folder)
        subprocess.run([*RAG, "ingest", "manual", "--index-dir", "manual-idx"], cwd=work, env=env(), check=True,
                       capture_output=True)
        watcher = subprocess.Popen([*RAG, "watch", "watched", "--index-dir", "watched-idx"], cwd=work, env=env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout or ()], daemon=True).start()

        def wait_for(text: str) -> float:
            while text not in lines.get(timeout=120):
                pass
            return time.perf_counter()

        wait_for("watching")
        latencies, baseline, words = [], [], []
        for n in range(SAVES):
            started = time.perf_counter()
            words.append(note(watched, n))
            latencies.append(wait_for(f"note{n:03}.txt") - started)
            note(manual, n)
            started = time.perf_counter()
            subprocess.run([*RAG, "ingest", "manual", "--index-dir", "manual-idx"], cwd=work, env=env(), check=True,
                           capture_output=True)
            baseline.append(time.perf_counter() - started)
        watcher.terminate()
        watcher.wait(timeout=60)
        for word in sorted({words[0], words[-1]}):
            found = subprocess.run([*RAG, "search", word, "--json", "-k", "1", "--index-dir", "watched-idx"],
                                   cwd=work, env=env(), check=True, capture_output=True, text=True)
            assert word in json.loads(found.stdout)["hits"][0]["text"], word
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, times: list[float], base: float) -> str:
        times = sorted(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        return f"| {name} | {statistics.median(times):.2f} | {p95:.2f} | {statistics.median(times) / base:.2f} |"

    base = statistics.median(baseline)
    print(f"| save → searchable ({SAVES} saves, 2 cores) | p50 s | p95 s | × baseline |")
    print("|---|---|---|---|")
    print(row("`rag ingest` by hand after the save (baseline)", baseline, base))
    print(row("`rag watch` (the update's line)", latencies, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())

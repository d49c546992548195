"""Time of `rag --help`, beside a bare `python -c pass` run the same way.

    .venv/bin/python bench/cli_startup.py
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import SMOKE, bench_parser

RUNS = 2 if SMOKE else 20
BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> list[float]:
    out = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    parser = bench_parser(__doc__)
    parser.parse_args()
    rows = {
        "python -c pass (baseline)": timed([sys.executable, "-c", "pass"]),
        "rag --help": timed([str(BIN / "rag"), "--help"]),
        "rag search --help": timed([str(BIN / "rag"), "search", "--help"]),
    }
    base = statistics.median(rows["python -c pass (baseline)"])
    print(f"| command ({RUNS} runs) | median s | p95 s | × baseline |")
    print("|---|---|---|---|")
    for name, times in rows.items():
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"| {name} | {statistics.median(times):.3f} | {p95:.3f} | {statistics.median(times) / base:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

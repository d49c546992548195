"""The whole product at 10,000, 30,000 and 100,000 passages.

    .venv/bin/python bench/scale.py [--sizes 10000,30000,100000] [--questions 50]

The corpus is public text available here, written as plain-text files of 50
abstracts each (a report-sized file, one paragraph per abstract):
- SciFact's 5,183 abstracts (title and text, about 9,600 passages), the eight
  SQuAD-half articles and the demo corpus, once each;
- then copies of the SciFact abstracts until the size is reached. Copy k of an
  abstract has its sentences rotated k places (an abstract of one sentence gets
  " (k)" at its end) and its title marked "(copy k)": deterministic, still real
  scientific English, and new text, so that every copy is embedded and stored anew.

The index grows in steps, as a library does: the folder gets the files for the
first size and is ingested, then more files up to the next size and ingested
again (only the new files are read and embedded), and so on. At each size:
- ingest: the passages embedded in the step, its wall time and rate, and the peak
  memory (RSS) of the `rag ingest` process, which at the last size holds the
  manifest of every passage and builds the BM25 index over all of them;
- the index size on disk;
- an unchanged re-ingest of the whole folder (`rag ingest` again: hashing only);
- warm search: `Retriever.search` in a fresh process (the index loaded, five
  warm-up queries first), p50 and p95 over SciFact claims;
- `rag ask --extractive`: a fresh process per question, as a person runs it, p50;
- `rag chat` ready: a fresh process starting the app until its index is loaded,
  and that process's peak memory.
Every command is the installed `rag` with the default settings (ONNX Runtime,
int8 vectors). The first size is the baseline each growth ratio is taken against.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import CACHE, ROOT, SMOKE, SMOKE_HELP, bench_parser, load_corpus, load_queries

RAG = [str(ROOT / ".venv" / "bin" / "rag")] if (ROOT / ".venv" / "bin" / "rag").exists() else [
    sys.executable, "-m", "launcher"]
PER_FILE = 50
PASSAGES_PER_ABSTRACT = 1.86  # SciFact: 9,637 passages from 5,183 abstracts at 254 word pieces

CHAT_READY = r'''
import asyncio, resource, sys, time
t0 = float(sys.argv[1])
from tui.app import RagApp
from rag.config import load_settings
app = RagApp(load_settings(), extractive=True)
async def main():
    async with app.run_test(size=(100, 30)):
        while app.overview is None:
            if app.index_state not in ("loading", "ready"):
                raise SystemExit(f"index failed: {app.index_state}")
            await asyncio.sleep(0.01)
        print(time.time() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
asyncio.run(main())
'''


def sentences(text: str) -> list[str]:
    from rag.text.sentences import sentence_spans

    return [text[a:b].strip() for a, b in sentence_spans(text) if text[a:b].strip()]


def abstract_copy(row: dict, k: int) -> tuple[str, str]:
    """(title, paragraph) of copy k of one SciFact abstract."""
    title = row.get("title") or row["_id"]
    if k == 0:
        return title, f"{title} {row['text']}".strip()
    parts = sentences(row["text"])
    if len(parts) > 1:
        shift = k % len(parts)
        body = " ".join(parts[shift:] + parts[:shift])
    else:
        body = f"{row['text'].strip()} ({k})"
    return f"{title} (copy {k})", f"{title} (copy {k}) {body}"


def write_corpus(folder: Path, target: int, corpus: list[dict]) -> int:
    """Make `folder` hold files for about `target` passages (adding to what is
    there, never changing a file already written). Returns the estimate."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = folder / "extra"
    if not extra.exists():
        extra.mkdir()
        for seed in sorted((ROOT / "seeds").glob("*.txt")):
            (extra / seed.name).write_bytes(seed.read_bytes())
        squad = json.loads((ROOT.parent / "shared" / "benchdata" / "squad-half" / "dev-v2.0-half.json")
                           .read_text(encoding="utf-8"))
        for n, article in enumerate(squad["data"][: 0 if SMOKE else None]):  # a smoke run: the seeds only
            text = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
            (extra / f"squad-{n:02d}.txt").write_text(f"{article['title']}\n\n{text}\n", encoding="utf-8")
    estimate = 91 if SMOKE else 330  # the seeds and SQuAD-half articles: 91 + 241 passages
    n_files = 0
    k = 0
    while estimate < target:
        for lo in range(0, len(corpus), PER_FILE):
            if estimate >= target:
                break
            path = folder / f"copy-{k:02d}" / f"abstracts-{lo // PER_FILE:04d}.txt"
            if not path.exists():
                path.parent.mkdir(exist_ok=True)
                paragraphs = [abstract_copy(row, k)[1] for row in corpus[lo:lo + PER_FILE]]
                path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
            estimate += PASSAGES_PER_ABSTRACT * len(corpus[lo:lo + PER_FILE])
            n_files += 1
        k += 1
    return int(estimate)


MEASURE = r'''
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
sys.stderr.write(done.stdout[-300:] + done.stderr[-600:])
'''


def measured(args: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, output tail) of one command, measured by a
    fresh Python process so that the peak belongs to this command alone."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], env=env, capture_output=True, text=True)
    elapsed, rss_kib, code = done.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(args)} exited {code}: {done.stderr}")
    return float(elapsed), int(rss_kib) / 1024, done.stderr


def disk_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def warm_search(index_dir: Path, questions: list[str]) -> tuple[float, float]:
    from rag.config import Settings
    from rag.wiring import open_retriever

    retriever = open_retriever(Settings(index_dir=index_dir))  # the model and precision the index was built with
    for q in questions[:5]:
        retriever.search(q, k=5)
    times = []
    for q in questions:
        started = time.perf_counter()
        retriever.search(q, k=5)
        times.append(time.perf_counter() - started)
    times.sort()
    return 1000 * statistics.median(times), 1000 * times[int(0.95 * (len(times) - 1))]


def main() -> int:
    parser = bench_parser(__doc__, smoke=SMOKE_HELP + " (one size, just above the seeds)")
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--asks", type=int, default=5)
    parser.add_argument("--work", type=Path, default=CACHE / "scale")
    parser.add_argument("--search-only", type=Path, metavar="INDEX", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.questions, args.asks = "150", 3, 1
    if args.search_only:
        print(*warm_search(args.search_only, list(load_queries().values())[: args.questions]))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    folder, index_dir = args.work / "corpus", args.work / "index"
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "PYTHONPATH": str(ROOT)}
    corpus = load_corpus()
    claims = list(load_queries().values())
    rows = []
    for size in sizes:
        write_corpus(folder, size, corpus)
        before = _passages(index_dir)
        seconds, ingest_rss, tail = measured([*RAG, "ingest", str(folder)], env)
        passages = _passages(index_dir)
        print(f"[{size}] ingest: {passages - before} passages in {seconds:.0f} s ({tail.strip().splitlines()[-1]})",
              file=sys.stderr, flush=True)
        again, _, again_tail = measured([*RAG, "ingest", str(folder)], env)
        # A file that always fails to parse: the first ingest tries it; the second must
        # read nothing and write nothing (no BM25 folder, no manifest rewritten).
        broken = folder / "unparseable.pdf"
        broken.write_bytes(b"%PDF-1.7\n" + b"\x00not a pdf at all\n" * 2000)
        tried, _, _ = measured([*RAG, "ingest", str(folder)], env)
        generation = json.loads((index_dir / "manifest.json").read_text())["generation"]
        unreadable, _, unreadable_tail = measured([*RAG, "ingest", str(folder)], env)
        written = json.loads((index_dir / "manifest.json").read_text())["generation"] != generation
        broken.unlink()
        measured([*RAG, "ingest", str(folder)], env)  # the file gone again, as the next size expects
        # In a fresh process: a Chroma client kept open here from the last size would
        # hold that size's HNSW segments, stale once another process has written more.
        search = subprocess.run([sys.executable, __file__, "--search-only", str(index_dir),
                                 "--questions", str(args.questions)], env=env, capture_output=True, text=True)
        if search.returncode:
            raise SystemExit(search.stderr[-2000:])
        p50, p95 = (float(x) for x in search.stdout.split())
        asks = sorted(measured([*RAG, "ask", "--extractive", q], env)[0] for q in claims[100:100 + args.asks])
        chat = subprocess.run([sys.executable, "-c", CHAT_READY, repr(time.time())], env=env, capture_output=True,
                              text=True)
        if chat.returncode:
            raise SystemExit(chat.stderr[-2000:])
        ready, chat_rss_kib = chat.stdout.split()
        rows.append({"size": size, "passages": passages, "embedded": passages - before, "ingest_s": seconds,
                     "ingest_rss": ingest_rss, "disk": disk_mib(index_dir), "reingest_s": again,
                     "search_p50": p50, "search_p95": p95, "ask_p50": statistics.median(asks),
                     "chat_ready": float(ready), "chat_rss": int(chat_rss_kib) / 1024,
                     "reingest_tail": again_tail.strip().splitlines()[-1] if again_tail.strip() else "",
                     "unreadable_tried_s": tried, "unreadable_again_s": unreadable, "unreadable_wrote": written,
                     "unreadable_tail": " / ".join(unreadable_tail.strip().splitlines()[-3:])})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print_table(rows)
    return 0


def _passages(index_dir: Path) -> int:
    from rag.index.manifest import read_manifest

    manifest = read_manifest(index_dir) if index_dir.exists() else None
    return manifest.passage_count if manifest else 0


def print_table(rows: list[dict]) -> None:
    base = rows[0]
    print("| passages in the index | ingest step: passages, s, passages/s | ingest peak RSS | index on disk "
          "| unchanged re-ingest | warm search p50 / p95 | `rag ask --extractive` p50 | `rag chat` ready "
          "| `rag chat` RSS | one unparseable file: first ingest / again (wrote?) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        grow = lambda key: "" if r is base else f" ({r[key] / base[key]:.1f}x)"  # noqa: E731
        print(f"| {r['passages']:,} | {r['embedded']:,}, {r['ingest_s']:.0f} s, {r['embedded'] / r['ingest_s']:.1f}/s "
              f"| {r['ingest_rss']:.0f} MiB{grow('ingest_rss')} | {r['disk']:.0f} MiB{grow('disk')} "
              f"| {r['reingest_s']:.1f} s{grow('reingest_s')} | {r['search_p50']:.1f} / {r['search_p95']:.1f} ms"
              f"{grow('search_p50')} | {r['ask_p50']:.2f} s{grow('ask_p50')} | {r['chat_ready']:.2f} s"
              f"{grow('chat_ready')} | {r['chat_rss']:.0f} MiB{grow('chat_rss')} "
              f"| {r['unreadable_tried_s']:.1f} s / {r['unreadable_again_s']:.1f} s "
              f"({'wrote' if r['unreadable_wrote'] else 'nothing written'}) |")


if __name__ == "__main__":
    raise SystemExit(main())

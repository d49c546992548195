"""Answering cost on a laptop CPU: our prompt against a naive RAG prompt, side by side.

    .venv/bin/python bench/llm.py [--speed-questions 5] [--max-tokens 32]

The model is a synthetic GGUF with Llama-3.2-1B's shapes at Q8_0 and random weights
(written once to bench/.cache, about 30 s): speed does not depend on weight values.
naive: the top-5 whole passages in a plain template.
ours:  the assistant's prompt: its instructions, and only the sentences of the top
       passages that bear on the question (rag.answer.assistant.compact_sources).
Prompt tokens and evidence coverage are measured on every answerable seed question;
speed (each prompt read from an empty cache) on the first few. The follow-up rows
ask a second question in a conversation whose prompt extends the first turn's.
"""
from __future__ import annotations
import resource
import shutil
import statistics
import threading
import time

from common import CACHE, ROOT, SMOKE, bench_parser, reference_embedder, smoke_seed_index
from tinymodel import write_synthetic_gguf, write_tiny_gguf

from rag.answer.retrieval import condense
from rag.answer.write import compact_sources
from rag.answer.generate import LlamaCppGenerator
from rag.answer.prompt import fit_prompt
from rag.config import Settings
from rag.evaluation.retrieval import is_relevant, load_questions
from rag.ingest.pipeline import ingest_paths
from rag.retrieve.select_sentences import SentenceSelector
from rag.types.answers import Turn
from rag.wiring import open_retriever

# A smoke run takes the tiny random GGUF: the synthetic 1B model is 1.3 GB to write.
MODEL = CACHE / ("tiny-bench-8k.gguf" if SMOKE else "synthetic-llama-3.2-1b-q8_0.gguf")
NAIVE_SYSTEM = "Answer the question using the context below."
FOLLOW_UPS = [
    ("What did David Lammy tell MPs about sending troops to Ukraine?", "and what did Macron say?"),
    ("How much will the UK spend on defence by 2027?", "how will it be paid for?"),
    ("What did Pete Hegseth say about Ukraine joining NATO?", "and what did Starmer say about that?"),
]


def naive_messages(question: str, hits) -> list[dict]:
    context = "\n\n".join(h.passage.text for h in hits[:5])
    return [{"role": "system", "content": NAIVE_SYSTEM},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"}]


class PeakRss:
    """Peak resident memory while a block runs, sampled every 20 ms."""

    def __enter__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.peak = max(self.peak, int(line.split()[1]) // 1024)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed(generator, messages, max_tokens: int, cold: bool) -> dict:
    if cold:
        generator._llm.reset()  # read the whole prompt: no cached prefix
    with PeakRss() as rss:
        started = time.perf_counter()
        list(generator.stream(messages, max_tokens, temperature=0.0))
        total = time.perf_counter() - started
    s = generator.last_stats
    return {"prompt": s.prompt_tokens, "reused": s.reused_prompt_tokens, "ttft": s.time_to_first_token_s,
            "tps": s.tokens_per_second, "answer": s.answer_tokens, "total": total, "rss": rss.peak}


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--speed-questions", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    if args.smoke:
        args.speed_questions, args.max_tokens = 1, 4

    if not MODEL.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_tiny_gguf(MODEL, n_ctx=8192) if SMOKE else write_synthetic_gguf(MODEL)
        print(f"wrote {MODEL.name} in {time.perf_counter() - started:.0f} s")
    settings = smoke_seed_index()
    if settings is None:
        settings = Settings(index_dir=CACHE / "seeds-index")
        shutil.rmtree(settings.index_dir, ignore_errors=True)
        embedder = reference_embedder()
        ingest_paths([ROOT / "seeds"], settings, lambda name, precision: embedder)
    retriever = open_retriever(settings)
    selector = SentenceSelector(retriever.embedder)
    generator = LlamaCppGenerator(MODEL, n_ctx=4096)

    def ours(question: str, history=()):
        query = condense(question, history)  # as the assistant searches a follow-up
        hits = retriever.search(query, settings.k)
        scored = selector.score(query, hits)
        return fit_prompt(question, compact_sources(hits, scored, settings.prompt_sentences), generator.count,
                          generator.n_ctx, args.max_tokens, history), hits

    questions = [q for q in load_questions(ROOT / "eval" / "seed_questions.jsonl") if q.answerable]
    questions = questions[:2] if SMOKE else questions
    rows = []
    for q in questions:
        prompt, hits = ours(q.question)
        naive = naive_messages(q.question, hits)
        rows.append({
            "q": q, "ours": prompt.messages, "naive": naive,
            "ours_tokens": prompt.prompt_tokens, "naive_tokens": generator.count(naive),
            "ours_evidence": is_relevant(prompt.messages[-1]["content"], q.evidence),
            "naive_evidence": is_relevant(naive[-1]["content"], q.evidence),
        })
    n = len(rows)
    ours_tokens = statistics.mean(r["ours_tokens"] for r in rows)
    naive_tokens = statistics.mean(r["naive_tokens"] for r in rows)
    print(f"## Prompt size, {n} answerable seed questions (tokens of {MODEL.name})")
    print("| prompt | mean tokens | × naive | evidence phrase in prompt |")
    print("|---|---|---|---|")
    print(f"| naive (top-5 passages) | {naive_tokens:.0f} | 1.00 | "
          f"{sum(r['naive_evidence'] for r in rows) / n:.3f} |")
    print(f"| ours (instructions + selected sentences) | {ours_tokens:.0f} | {ours_tokens / naive_tokens:.2f} | "
          f"{sum(r['ours_evidence'] for r in rows) / n:.3f} |")
    missing = [r["q"].id for r in rows if not r["ours_evidence"]]
    if missing:
        print(f"evidence not in our prompt: {', '.join(missing)}")

    print(f"\n## Speed, first {args.speed_questions} questions, {args.max_tokens} answer tokens, cold cache")
    timed(generator, rows[0]["ours"], 4, cold=True)  # warm-up
    speed = {"naive": [], "ours": []}
    for r in rows[: args.speed_questions]:
        for name in ("naive", "ours"):
            speed[name].append(timed(generator, r[name], args.max_tokens, cold=True))
    print("| prompt | prompt tokens | time to first token s | generation tokens/s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name in ("naive", "ours"):
        runs = speed[name]
        print(f"| {name} | {statistics.mean(x['prompt'] for x in runs):.0f} | "
              f"{statistics.median(x['ttft'] for x in runs):.2f} | "
              f"{statistics.median(x['tps'] for x in runs):.1f} | {max(x['rss'] for x in runs)} |")
    ratio = statistics.median(x['ttft'] for x in speed['ours']) / statistics.median(x['ttft'] for x in speed['naive'])
    tps = statistics.median(x['tps'] for x in speed['ours']) / statistics.median(x['tps'] for x in speed['naive'])
    print(f"ours/naive: time to first token {ratio:.2f}×, generation tokens/s {tps:.2f}×")

    print("\n## Follow-up question: cached prefix against the same prompt read cold")
    print("| follow-up | prompt tokens | reused from cache | TTFT cached s | TTFT cold s | cached/cold |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for first_q, follow_q in FOLLOW_UPS[: 1 if SMOKE else None]:
        first, _ = ours(first_q)
        generator._llm.reset()
        answer = "".join(generator.stream(first.messages, args.max_tokens, temperature=0.0))
        follow, _ = ours(follow_q, [Turn(first_q, answer.strip(), first.messages[-1]["content"])])
        cached = timed(generator, follow.messages, args.max_tokens, cold=False)
        cold = timed(generator, follow.messages, args.max_tokens, cold=True)
        ratios.append(cached["ttft"] / cold["ttft"])
        print(f"| {follow_q} | {cached['prompt']} | {cached['reused']} | {cached['ttft']:.2f} | "
              f"{cold['ttft']:.2f} | {ratios[-1]:.2f} |")
    print(f"median cached/cold time to first token: {statistics.median(ratios):.2f}×")
    print(f"\nprocess peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

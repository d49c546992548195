"""The citation checker: how well it judges, and what it adds to an answer's time.

    .venv/bin/rag ingest seeds/ && .venv/bin/python bench/citations.py

Four tables:
1. the labelled set (eval/citations.jsonl): precision and recall of flagging a
   sentence (unsupported or wrong source), on the odd and even ids and all, and
   the sweep of `support_threshold`. Nothing is fitted on this set any more (the
   support score is fitted on WiCE, bench/fit_support.py): all of it is held out;
2. extractive answers for every seed question: share of sentences supported;
3. answers the tiny random GGUF writes under a citing grammar: verdict counts;
4. time to check a five-sentence answer (five labelled sentences citing five
   passages, non-verbatim as a model writes them), beside the baseline of the
   answer itself (retrieval and sentence selection): warm, as `rag ask` runs it
   with the embedding cache that selection filled; and cold, with no cache.
"""
from __future__ import annotations

import statistics
import time

from common import CACHE, ROOT, SMOKE, bench_parser, reference_embedder, smoke_seed_index

from rag.check.checker import DEFAULT_THRESHOLD
from rag.config import load_settings
from rag.embedding.cache import EmbeddingCache
from rag.evaluation.citations import load_pairs, metrics, run_pairs
from rag.evaluation.retrieval import load_questions
from rag.index.lookup import PassageLookup
from rag.retrieve.select_sentences import SentenceSelector
from rag.types.answers import Answer, Source
from rag.types.citations import SUPPORTED
from rag.wiring import open_assistant, open_checker, open_retriever

LABELLED = ROOT / "eval" / "citations.jsonl"
QUESTIONS = ROOT / "eval" / "seed_questions.jsonl"
GRAMMAR = r'''root ::= sentence " " sentence
sentence ::= word (" " word){2,5} "." " [" [1-3] "]"
word ::= [a-z]{2,6}
'''


def precision_recall(results) -> tuple[float, float]:
    tp = sum(1 for r in results if r.flagged and r.should_flag)
    fp = sum(1 for r in results if r.flagged and not r.should_flag)
    fn = sum(1 for r in results if not r.flagged and r.should_flag)
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def _load_pairs():
    pairs = load_pairs(LABELLED)
    return pairs[::10] if SMOKE else pairs  # every kind of pair, a few of each


def _questions():
    return load_questions(QUESTIONS)[: 2 if SMOKE else None]


def labelled_table(retriever, cache, settings) -> None:
    pairs = _load_pairs()
    print(f"### Labelled set: {len(pairs)} pairs (support threshold {DEFAULT_THRESHOLD}; fitted on WiCE, not on these)\n")
    results = run_pairs(pairs, open_checker(settings, cache, threshold=DEFAULT_THRESHOLD), retriever)
    figures = metrics(results, retriever)
    halves = {"odd ids": [r for r in results if int(r.pair.id[1:]) % 2],
              "even ids": [r for r in results if not int(r.pair.id[1:]) % 2], "all": results}
    print("| pairs | count | unsupported precision | unsupported recall |")
    print("|---|---|---|---|")
    for name, group in halves.items():
        p, r = precision_recall(group)
        print(f"| {name} | {len(group)} | {p:.3f} | {r:.3f} |")
    accuracy = figures["wrong_source_accuracy"]
    print(f"\nwrong source: {'–' if accuracy is None else f'{accuracy:.3f}'} of {figures['wrong_source_pairs']} pairs got "
          "a wrong-source verdict naming the right passage\n")
    print("| kind | label | pairs | judged right |")
    print("|---|---|---|---|")
    for kind, row in figures["kinds"].items():
        print(f"| {kind} | {row['label']} | {row['pairs']} | {row['judged_right']} |")
    for m in figures["mistakes"]:
        print(f"- {m['id']} ({m['kind']}): judged {m['verdict']}: {m['sentence']}")

    print("\nThreshold sweep (precision / recall of flagging):\n")
    print("| support_threshold | odd ids | even ids |")
    print("|---|---|---|")
    for threshold in (0.5,) if SMOKE else (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        rs = run_pairs(pairs, open_checker(settings, cache, threshold=threshold), retriever)
        odd = precision_recall([r for r in rs if int(r.pair.id[1:]) % 2])
        even = precision_recall([r for r in rs if not int(r.pair.id[1:]) % 2])
        print(f"| {threshold:.2f} | {odd[0]:.3f} / {odd[1]:.3f} | {even[0]:.3f} / {even[1]:.3f} |")


def extractive_table(retriever, settings) -> None:
    assistant = open_assistant(settings, retriever)
    claims = supported = 0
    for q in _questions():
        answer = [i for i in assistant.ask(q.question) if isinstance(i, Answer)][0]
        claims += answer.citations.claims
        supported += answer.citations.count(SUPPORTED)
    print("\n### Extractive answers, every seed question\n")
    print("| sentences checked | supported | share |")
    print("|---|---|---|")
    print(f"| {claims} | {supported} | {supported / max(1, claims):.3f} |")


def tiny_model_table(retriever, settings) -> None:
    from rag.answer.generate import LlamaCppGenerator
    from tinymodel import write_tiny_gguf

    path = CACHE / "tiny-bench.gguf"
    if not path.exists():
        write_tiny_gguf(path)
    assistant = open_assistant(settings, retriever, LlamaCppGenerator(path, n_ctx=2048))
    counts: dict[str, int] = {}
    for q in load_questions(QUESTIONS)[: 2 if SMOKE else 10]:
        answer = [i for i in assistant.ask(q.question, grammar=GRAMMAR, max_tokens=100, temperature=0.8)
                  if isinstance(i, Answer)][0]
        for check in answer.citations.checks:
            counts[check.verdict] = counts.get(check.verdict, 0) + 1
    print("\n### Tiny random GGUF under a citing grammar (10 questions, 2 sentences each, up to 100 tokens)\n")
    print("| verdict | sentences |")
    print("|---|---|")
    for verdict, n in sorted(counts.items()):
        print(f"| {verdict} | {n} |")


def latency_table(retriever, embedder, settings) -> None:
    pairs = _load_pairs()
    lookup = PassageLookup(retriever.index)
    groups = [pairs[i:i + 5] for i in range(0, len(pairs) - 4, 5)]
    baseline, warm, cold = [], [], []
    for group in groups:
        passages = [lookup.by_reference(p.cites) for p in group]
        sources = [Source(n, p, p.text) for n, p in enumerate(passages, 1)]
        answer = " ".join(f"{p.sentence} [{n}]" for n, p in enumerate(group, 1))
        question = group[0].sentence
        # Baseline: the answer itself, as `rag ask` makes it before checking.
        cache = EmbeddingCache(embedder)
        started = time.perf_counter()
        hits = retriever.search(question, settings.k)
        SentenceSelector(cache).score(question, hits)
        baseline.append(time.perf_counter() - started)
        # Warm: selection has embedded these passages' sentences into the shared cache.
        SentenceSelector(cache).score(question, [type(hits[0])(p, 0.0, 1) for p in passages])
        started = time.perf_counter()
        open_checker(settings, cache).check_answer(answer, sources)
        warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        open_checker(settings, embedder).check_answer(answer, sources)
        cold.append(time.perf_counter() - started)
    p50 = lambda xs: 1000 * statistics.median(xs)  # noqa: E731
    p95 = lambda xs: 1000 * sorted(xs)[int(0.95 * (len(xs) - 1))]  # noqa: E731
    print(f"\n### Time to check a five-sentence answer ({len(groups)} answers)\n")
    print("| step | p50 ms | p95 ms | ratio to the answer (p50) |")
    print("|---|---|---|---|")
    print(f"| baseline: the answer (retrieval + sentence selection) | {p50(baseline):.1f} | {p95(baseline):.1f} | 1.00 |")
    print(f"| checking, warm cache (as `rag ask` runs it) | {p50(warm):.1f} | {p95(warm):.1f} | "
          f"{p50(warm) / p50(baseline):.2f} |")
    print(f"| checking, cold (no cache; `rag check`) | {p50(cold):.1f} | {p95(cold):.1f} | "
          f"{p50(cold) / p50(baseline):.2f} |")


def main() -> int:
    parser = bench_parser(__doc__)
    parser.parse_args()
    settings = smoke_seed_index() or load_settings()
    embedder = reference_embedder()
    retriever = open_retriever(settings, embedder=embedder)
    cache = EmbeddingCache(embedder)
    labelled_table(retriever, cache, settings)
    extractive_table(retriever, settings)
    tiny_model_table(retriever, settings)
    latency_table(retriever, embedder, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

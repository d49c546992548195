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

from common import CACHE, ROOT

from rag.assistant import make_assistant
from rag.cite import DEFAULT_THRESHOLD, CitationChecker
from rag.config import load_settings
from rag.embed import Embedder, EmbeddingCache
from rag.evaluate import load_questions
from rag.evaluate_citations import load_pairs, metrics, run_pairs
from rag.index import Index
from rag.lookup import PassageLookup
from rag.retrieve import Retriever
from rag.select import SentenceSelector
from rag.types.answers import Answer, Source
from rag.types.citations import SUPPORTED

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


def labelled_table(retriever, cache) -> None:
    pairs = load_pairs(LABELLED)
    print(f"### Labelled set: {len(pairs)} pairs (support threshold {DEFAULT_THRESHOLD}; fitted on WiCE, not on these)\n")
    results = run_pairs(pairs, CitationChecker(cache), retriever)
    figures = metrics(results, retriever)
    halves = {"odd ids": [r for r in results if int(r.pair.id[1:]) % 2],
              "even ids": [r for r in results if not int(r.pair.id[1:]) % 2], "all": results}
    print("| pairs | count | unsupported precision | unsupported recall |")
    print("|---|---|---|---|")
    for name, group in halves.items():
        p, r = precision_recall(group)
        print(f"| {name} | {len(group)} | {p:.3f} | {r:.3f} |")
    print(f"\nwrong source: {figures['wrong_source_accuracy']:.3f} of {figures['wrong_source_pairs']} pairs got "
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
    for threshold in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        rs = run_pairs(pairs, CitationChecker(cache, threshold), retriever)
        odd = precision_recall([r for r in rs if int(r.pair.id[1:]) % 2])
        even = precision_recall([r for r in rs if not int(r.pair.id[1:]) % 2])
        print(f"| {threshold:.2f} | {odd[0]:.3f} / {odd[1]:.3f} | {even[0]:.3f} / {even[1]:.3f} |")


def extractive_table(retriever, settings) -> None:
    assistant = make_assistant(retriever, settings)
    claims = supported = 0
    for q in load_questions(QUESTIONS):
        answer = [i for i in assistant.ask(q.question) if isinstance(i, Answer)][0]
        claims += answer.citations.claims
        supported += answer.citations.count(SUPPORTED)
    print("\n### Extractive answers, every seed question\n")
    print("| sentences checked | supported | share |")
    print("|---|---|---|")
    print(f"| {claims} | {supported} | {supported / max(1, claims):.3f} |")


def tiny_model_table(retriever, settings) -> None:
    from rag.generate import LlamaCppGenerator
    from tinymodel import write_tiny_gguf

    path = CACHE / "tiny-bench.gguf"
    if not path.exists():
        write_tiny_gguf(path)
    assistant = make_assistant(retriever, settings, LlamaCppGenerator(path, n_ctx=2048))
    counts: dict[str, int] = {}
    for q in load_questions(QUESTIONS)[:10]:
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
    pairs = load_pairs(LABELLED)
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
        CitationChecker(cache).check_answer(answer, sources)
        warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        CitationChecker(EmbeddingCache(embedder)).check_answer(answer, sources)
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
    settings = load_settings()
    index = Index.open(settings)
    embedder = Embedder(index.manifest.embed_model)
    retriever = Retriever(index, embedder, settings)
    cache = EmbeddingCache(embedder)
    labelled_table(retriever, cache)
    extractive_table(retriever, settings)
    tiny_model_table(retriever, settings)
    latency_table(retriever, embedder, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Answer-level quality of extractive answers, on questions nobody here wrote.

Sets:
- seeds: eval/seed_questions.jsonl on the five demo articles (35 answerable, 5 not).
- squad, two folds: SQuAD 2.0 dev, `../shared/benchdata/squad-half/` (eight Wikipedia
  articles). Fold A ingests articles 1–4 and asks their answerable questions
  ("answer"), SQuAD's unanswerable questions about them ("unanswerable": a swapped
  name, a detail the paragraph never gives), and answerable questions about
  articles 5–8 ("off-corpus"); fold B swaps the halves. Questions are sampled with
  a fixed seed (`--per-kind` each kind and fold).

Configurations, run side by side in one process on the same indexes:
- before: the selection and refusal of the previous release (no name check, no
  answer-type bonus);
- each setting considered; the shipped one is marked.

Figures: answer contains an expected answer (SQuAD normalisation) among answerable
questions; false refusals (answerable questions declined); off-corpus and
unanswerable questions declined; answer time per question.

    .venv/bin/python bench/answer_quality.py [--per-kind 100] [--ceiling] [--configs before,…] [--sets seeds,squad]
"""
from __future__ import annotations
import json
import random
import time
from pathlib import Path

from common import CACHE, ROOT, bench_parser, reference_embedder

from rag.config import Settings
from rag.evaluation.retrieval import EvalQuestion, evaluate_answers, load_questions
from rag.wiring import open_assistant, open_retriever

SQUAD = ROOT.parent / "shared" / "benchdata" / "squad-half" / "dev-v2.0-half.json"

CONFIGS = {  # name -> settings changes
    "before": {"refuse_missing_names": False, "answer_type_bonus": 0.0, "min_term_coverage": 0.0},
    "key terms + type bonus (no word coverage)": {"min_term_coverage": 0.0},
    "word coverage 0.4 below similarity 0.5": {"min_term_coverage": 0.4},
    "shipped: word coverage 0.5 below similarity 0.5": {},
    "word coverage 0.6 below similarity 0.5": {"min_term_coverage": 0.6},
    "word coverage 0.5 below similarity 0.55": {"weak_similarity": 0.55},
}


def squad_fold(fold: str, per_kind: int) -> tuple[Path, list[EvalQuestion], dict[str, str]]:
    """The corpus folder of one fold and its questions, with each question's kind."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    inside = range(0, 4) if fold == "A" else range(4, 8)
    corpus = CACHE / f"squad-fold-{fold}"
    corpus.mkdir(parents=True, exist_ok=True)
    answerable, unanswerable, off = [], [], []
    for i, article in enumerate(data):
        if i in inside:
            paragraphs = [p["context"].strip() for p in article["paragraphs"]]
            (corpus / f"{article['title']}.txt").write_text(
                article["title"].replace("_", " ") + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                if i in inside and not qa.get("is_impossible"):
                    answerable.append(EvalQuestion(qa["id"], qa["question"].strip(), answers, None, answers))
                elif i in inside:
                    unanswerable.append(EvalQuestion(qa["id"], qa["question"].strip(), ()))
                elif not qa.get("is_impossible"):
                    off.append(EvalQuestion(qa["id"], qa["question"].strip(), ()))
    rng = random.Random(20261124)
    kinds = {}
    questions = []
    for kind, pool in (("answer", answerable), ("unanswerable", unanswerable), ("off-corpus", off)):
        for q in rng.sample(pool, min(per_kind, len(pool))):
            kinds[q.id] = kind
            questions.append(q)
    return corpus, questions, kinds


def build(name: str, paths, embedder) -> Settings:
    from rag.ingest.pipeline import ingest_paths

    settings = Settings(index_dir=CACHE / f"aq-{name}-index")
    ingest_paths(paths, settings, lambda _name, _precision: embedder)
    return settings


def run(settings: Settings, changes: dict, embedder, questions, kinds) -> dict:
    settings = settings.replace(**changes)
    assistant = open_assistant(settings, open_retriever(settings, embedder=embedder))
    started = time.perf_counter()
    _, records = evaluate_answers(assistant, questions, extractive=True)
    seconds = time.perf_counter() - started
    by_kind: dict[str, list] = {}
    for record in records:
        by_kind.setdefault(kinds[record.id], []).append(record)
    share = lambda rs, f: sum(map(f, rs)) / len(rs) if rs else float("nan")  # noqa: E731
    return {
        "answer": share(by_kind.get("answer", []), lambda r: bool(r.contains_answer)),
        "false refusals": share(by_kind.get("answer", []), lambda r: r.declined),
        "unanswerable declined": share(by_kind.get("unanswerable", []), lambda r: r.declined),
        "off-corpus declined": share(by_kind.get("off-corpus", []), lambda r: r.declined),
        "ms/question": 1000 * seconds / len(records),
    }


def ceiling(settings: Settings, embedder, questions, kinds) -> dict:
    """Where the expected answer is lost: in the top 5 passages at all, in the top
    passage, in the extractive answer, in the best 1 / 3 scored sentences."""
    from rag.answer.extractive import choose
    from rag.retrieve.question import analyse
    from rag.retrieve.select_sentences import SentenceSelector, singles
    from rag.evaluation.retrieval import contains_answer

    retriever = open_retriever(settings, embedder=embedder)
    selector = SentenceSelector(embedder, type_bonus=settings.answer_type_bonus)
    from rag.answer.write import compact_sources

    counts = dict.fromkeys(("top 5 passages", "top passage", "answer", "best sentence", "best 3 sentences",
                            "prompt, 3 sentences", "prompt, 5 sentences"), 0)
    answerable = [q for q in questions if kinds[q.id] == "answer"]
    for q in answerable:
        hits = retriever.search(q.question, settings.k)
        scored = selector.score(q.question, hits, analysis=analyse(q.question))
        best = sorted(singles(scored), key=lambda s: -s.score)
        counts["top 5 passages"] += any(contains_answer(h.passage.text, q.expected) for h in hits)
        counts["top passage"] += bool(hits) and contains_answer(hits[0].passage.text, q.expected)
        counts["answer"] += contains_answer(" ".join(c.text for c in choose(scored)), q.expected)
        counts["best sentence"] += any(contains_answer(s.text, q.expected) for s in best[:1])
        counts["best 3 sentences"] += any(contains_answer(s.text, q.expected) for s in best[:3])
        # What a model's prompt holds: 3 source sentences for a small model, 5 otherwise.
        for n in (3, 5):
            prompt = " ".join(text for _, text in compact_sources(hits, scored, n))
            counts[f"prompt, {n} sentences"] += contains_answer(prompt, q.expected)
    return {key: value / len(answerable) for key, value in counts.items()}


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--per-kind", type=int, default=100, help="questions of each kind per SQuAD fold")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--ceiling", action="store_true", help="also show where the expected answer is lost")
    parser.add_argument("--sets", default="seeds,squad", help="seeds, squad, or both")
    args = parser.parse_args()
    if args.smoke:
        args.per_kind, args.configs, args.ceiling = 2, next(iter(CONFIGS)), True
    embedder = reference_embedder()
    sets = []
    seeds = load_questions(ROOT / "eval" / "seed_questions.jsonl")[: 4 if args.smoke else None]
    if "seeds" in args.sets:
        sets.append(("seeds", build("seeds", [ROOT / "seeds"], embedder), seeds,
                     {q.id: "answer" if q.answerable else "unanswerable" for q in seeds}))
    for fold in (("A",) if args.smoke else ("A", "B")) if "squad" in args.sets else ():
        corpus, questions, kinds = squad_fold(fold, args.per_kind)
        sets.append((f"squad {fold}", build(f"squad-{fold}", [corpus], embedder), questions, kinds))
    names = [c for c in args.configs.split(",") if c]
    if args.ceiling:
        print("where the expected answer is (answerable questions, shipped settings)\n")
        print("| set | " + " | ".join(("top 5 passages", "top passage", "answer", "best sentence",
                                       "best 3 sentences", "prompt, 3 sentences", "prompt, 5 sentences")) + " |")
        print("|---|---|---|---|---|---|---|---|")
        for set_name, settings, questions, kinds in sets:
            figures = ceiling(settings, embedder, questions, kinds)
            print(f"| {set_name} | " + " | ".join(f"{v:.3f}" for v in figures.values()) + " |")
        print()
    print(f"extractive answers; SQuAD: {args.per_kind} questions of each kind per fold\n")
    print("| set | configuration | answer contains expected | false refusals | unanswerable declined "
          "| off-corpus declined | ms/question |")
    print("|---|---|---|---|---|---|---|")
    for set_name, settings, questions, kinds in sets:
        for name in names:
            r = run(settings, CONFIGS[name], embedder, questions, kinds)
            cells = [f"{r[k]:.3f}" if r[k] == r[k] else "–" for k in
                     ("answer", "false refusals", "unanswerable declined", "off-corpus declined")]
            print(f"| {set_name} | {name} | " + " | ".join(cells) + f" | {r['ms/question']:.0f} |", flush=True)


if __name__ == "__main__":
    main()

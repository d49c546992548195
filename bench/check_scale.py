"""`rag check` on long drafts: how time grows with the number of claims when each
claim cites its own document, against the checker as it was before (every
sentence compared with every source the draft lists), run side by side.

Data: SciFact test claims (real sentences people wrote) and, for each, the first
abstract its qrels name, written as a report of its own with nine other abstracts
of the corpus (none cited by a claim) as further paragraphs, so that a cited
document is the size of a news article or a short report (20-30 passages), and
ingested through the real ingest. The draft: one paragraph per claim, "claim [i]", and a source
list "[i]: reports/ID.txt" (a whole document cited), as a briefing cites reports.

    .venv/bin/python bench/check_scale.py [--sizes 10,50,100,200] [--before-limit 50]

For drafts above --before-limit claims, the former way is timed on the first
--before-limit sentences of the same draft (with every source of the whole draft
listed, as it would be) and its total extrapolated; the table says so. The
former way runs with today's checker, which embeds the other sources only for a
sentence its own source does not support, so it is faster than the code before
issue 27 was: `--now-only`, run in a checkout of that code, times it.
"""
from __future__ import annotations
import random
import shutil
import tempfile
import time
from pathlib import Path

from common import bench_parser, load_corpus, load_qrels, load_queries

from rag.check.checker import parse_answer
from rag.config import Settings
from rag.index.lookup import PassageLookup
from rag.ingest.pipeline import ingest_paths
from rag.report.briefing import check_draft, read_draft
from rag.wiring import embedder_for, open_checker, open_retriever


FILLERS = 9  # other abstracts per document


def claims_with_documents(n: int) -> list[tuple[str, dict, list[dict]]]:
    queries, qrels = load_queries(), load_qrels("test")
    corpus = {str(row["_id"]): row for row in load_corpus()}
    cited = {doc for docs in qrels.values() for doc in docs}
    fillers = [row for key, row in sorted(corpus.items(), key=lambda kv: int(kv[0])) if key not in cited]
    random.Random(26).shuffle(fillers)
    out, used = [], set()
    for qid in sorted(qrels, key=int):
        doc = next(iter(qrels[qid]))
        if doc in used or doc not in corpus:
            continue
        used.add(doc)
        start = len(out) * FILLERS
        out.append((queries[qid], corpus[doc], fillers[start:start + FILLERS]))
        if len(out) == n:
            break
    return out


def report_text(row: dict, fillers: list[dict]) -> str:
    paragraphs = [f"{r.get('title', '')}. {r['text']}" for r in [row, *fillers]]
    return f"Report {row['_id']}\n\n" + "\n\n".join(paragraphs) + "\n"


def draft_text(pairs: list[tuple[str, dict, list[dict]]]) -> str:
    body = "\n\n".join(f"{claim.rstrip('.')}. [{i}]" for i, (claim, _, _) in enumerate(pairs, 1))
    sources = "\n".join(f"[{i}]: reports/{row['_id']}.txt" for i, (_, row, _) in enumerate(pairs, 1))
    return f"{body}\n\n## Sources\n{sources}\n"


def check_before(text: str, lookup, retriever, checker, k: int, limit: int | None):
    """The former loop: every sentence compared with every source of the draft."""
    from rag.report.briefing import resolve_source
    from rag.types.answers import Source

    draft = read_draft(text)
    resolved = {n: resolve_source(d, lookup) for n, d in draft.sources.items()}
    numbered = [Source(n, p, p.text) for n, passages in sorted(resolved.items()) for p in passages]
    checks = []
    for sentence in parse_answer(draft.body)[:limit]:
        found = [h.passage for h in retriever.search(sentence.text, k)]
        checks.extend(checker.check_sentences([sentence], numbered, found))
    return checks


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--sizes", default="10,50,100,200")
    parser.add_argument("--before-limit", type=int, default=50)
    parser.add_argument("--now-only", action="store_true",
                        help="time only `check_draft` as this checkout has it (run in an older checkout "
                             "for its own time on the same drafts)")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.before_limit = "1,2", 1
    sizes = [int(s) for s in args.sizes.split(",")]
    pairs = claims_with_documents(max(sizes))
    folder = Path(tempfile.mkdtemp(prefix="check-scale-"))
    try:
        docs = folder / "reports"
        docs.mkdir()
        for _, row, fillers in pairs:
            (docs / f"{row['_id']}.txt").write_text(report_text(row, fillers), encoding="utf-8")
        settings = Settings(index_dir=folder / "index")
        embedder = embedder_for(settings)
        report = ingest_paths([docs], settings, lambda name, precision: embedder)
        retriever = open_retriever(settings, embedder=embedder)
        lookup = PassageLookup(retriever.index)
        print(f"{len(pairs)} reports ingested ({report.passages_total} passages)\n")
        rows = []
        for n in sizes:
            text = draft_text(pairs[:n])
            started = time.perf_counter()
            now = check_draft(text, lookup, retriever, open_checker(settings, embedder), settings.k)
            seconds = time.perf_counter() - started
            if args.now_only:
                print(f"{n} claims: {seconds:.1f} s ({seconds / n:.3f} s per claim)", flush=True)
                continue
            limit = None if n <= args.before_limit else args.before_limit
            started = time.perf_counter()
            before = check_before(text, lookup, retriever, open_checker(settings, embedder),
                                  settings.k, limit)
            before_seconds = time.perf_counter() - started
            checked = len(before)
            before_total = before_seconds * n / checked if checked else float("nan")
            same = sum(a.verdict == b.verdict for a, b in zip(now.report.checks, before))
            rows.append((n, seconds, before_total, limit is not None, same, checked))
            print(f"{n} claims: {seconds:.1f} s now, {before_total:.1f} s before"
                  f"{' (extrapolated from the first %d)' % checked if limit else ''}; "
                  f"verdicts equal {same}/{checked}", flush=True)
        print("\n| claims (each citing its own document) | `rag check` now, s | per claim, s | before, s | "
              "before per claim, s | before / now | verdicts equal |")
        print("|---|---|---|---|---|---|---|")
        for n, seconds, before_total, extrapolated, same, checked in rows:
            mark = " (extrapolated)" if extrapolated else ""
            print(f"| {n} | {seconds:.1f} | {seconds / n:.3f} | {before_total:.1f}{mark} | {before_total / n:.3f} | "
                  f"{before_total / seconds:.1f}× | {same}/{checked} |")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Extractive answers on the seed question set: does the answer quote the evidence?

    .venv/bin/python bench/answers.py     # needs `rag ingest seeds/` in the working directory's .rag

For each answerable question: the answer must contain a sentence holding an
evidence phrase. For each unanswerable one: the answer must be "not covered".
"""
from __future__ import annotations
from pathlib import Path

from common import ROOT, bench_parser, smoke_seed_index

from rag.answer.assistant import Assistant
from rag.config import load_settings
from rag.evaluation.retrieval import is_relevant, load_questions
from rag.types.answers import Answer
from rag.wiring import open_assistant, open_retriever


def run(assistant: Assistant, questions):
    rows = []
    for q in questions:
        answer = [item for item in assistant.ask(q.question, extractive=True) if isinstance(item, Answer)][0]
        ok = (answer.covered and is_relevant(answer.text, q.evidence)) if q.answerable else not answer.covered
        rows.append((q, answer, ok))
    return rows


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("questions", nargs="?", type=Path, default=ROOT / "eval" / "seed_questions.jsonl")
    args = parser.parse_args()
    settings = smoke_seed_index() or load_settings()
    assistant = open_assistant(settings, open_retriever(settings))  # the index's own model
    questions = load_questions(args.questions)[: 4 if args.smoke else None]
    rows = run(assistant, questions)
    answerable = [r for r in rows if r[0].answerable]
    unanswerable = [r for r in rows if not r[0].answerable]
    print("| questions | count | correct | share |")
    print("|---|---|---|---|")
    for name, group in (("answerable: answer quotes the evidence", answerable),
                        ("unanswerable: 'not covered'", unanswerable)):
        good = sum(ok for _, _, ok in group)
        print(f"| {name} | {len(group)} | {good} | {good / max(1, len(group)):.3f} |")
    for q, answer, ok in rows:
        if not ok:
            print(f"- {q.id} {q.question!r}: {answer.text[:160]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Real answers from real local models: extractive, the model with the plain prompt,
and the model with the shipped constraints, side by side on the same questions.

    .venv/bin/python bench/real_answers.py [--models smollm2,gemma3-270m] [--squad 100] [--off 50]

Question sets (none written for this project except the seeds):
- seeds: eval/seed_questions.jsonl over the five demo articles (answerable ones have
  evidence phrases; the others are off-corpus).
- squad: SQuAD 2.0 dev, `../shared/benchdata/squad-half/`. The first six of its eight
  articles are ingested (one file each: title line, then the paragraphs); `--squad`
  answerable questions are drawn from them (seeded, so the draw is the same on every
  run), and `--off` questions from the two articles left out are the off-corpus set.

Rows: extractive (no model); `plain` = the model with the prompt alone (no grammar,
no answer-level fallback: the assistant before this benchmark); `shipped` = the
defaults (citation grammar, at most three sentences, repetition stop, fallback).

Columns: cited = share of claim sentences carrying a marker that names a given
source; supported = share of claim sentences the checker marks supported; clean =
the same, over answers shown without a warning; answer = share of answerable
questions whose answer text contains an expected answer (SQuAD normalisation);
shown = the same counting the extractive answer shown beside a warned answer;
refused = answerable questions declined; declined = off-corpus questions declined;
TTFT p50 and tokens/s (prompt read, generation) are medians on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
from collections import Counter
import time
from dataclasses import dataclass
from pathlib import Path

from common import CACHE, ROOT

from rag.assistant import make_assistant
from rag.config import Settings
from rag.embed import Embedder
from rag.evaluate import contains_answer, load_questions
from rag.generate import LlamaCppGenerator
from rag.index import Index
from rag.ingest import ingest_paths
from rag.model_catalog import install, lookup
from rag.retrieve import Retriever
from rag.types.answers import Answer
from rag.types.citations import NO_CLAIM, SUPPORTED

SQUAD = ROOT.parent / "shared" / "benchdata" / "squad-half" / "dev-v2.0-half.json"
INGESTED_ARTICLES = 6


@dataclass(frozen=True)
class Question:
    set: str
    id: str
    text: str
    answers: tuple[str, ...]  # empty: off-corpus


def squad_questions(n_answerable: int, n_off: int, corpus_dir: Path) -> list[Question]:
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    corpus_dir.mkdir(parents=True, exist_ok=True)
    inside, outside = [], []
    for i, article in enumerate(data):
        title = article["title"].replace("_", " ")
        if i < INGESTED_ARTICLES:
            paragraphs = [p["context"].strip() for p in article["paragraphs"]]
            (corpus_dir / f"{article['title']}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n",
                                                                 encoding="utf-8")
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                if qa.get("is_impossible"):
                    continue
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                (inside if i < INGESTED_ARTICLES else outside).append(
                    Question("squad", qa["id"], qa["question"].strip(), answers))
    rng = random.Random(20261124)
    answerable = rng.sample(inside, n_answerable)
    off = [Question("squad", q.id, q.text, ()) for q in rng.sample(outside, n_off)]
    return answerable + off


def seed_questions() -> list[Question]:
    return [Question("seeds", q.id, q.question, q.evidence)
            for q in load_questions(ROOT / "eval" / "seed_questions.jsonl")]


def build_index(name: str, paths, embedder) -> Settings:
    settings = Settings(index_dir=CACHE / f"{name}-index")
    ingest_paths(paths, settings, lambda _name: embedder)
    return settings


def ask(assistant, question: str, extractive: bool) -> Answer:
    return [x for x in assistant.ask(question, extractive=extractive) if isinstance(x, Answer)][-1]


def measure(rows: list[tuple[Question, Answer]]) -> dict:
    claims = supported = cited = clean_claims = clean_supported = 0
    answerable = [(q, a) for q, a in rows if q.answers]
    off = [(q, a) for q, a in rows if not q.answers]
    for _, a in rows:
        numbers = {s.number for s in a.sources}
        for check in (a.citations.checks if a.citations else ()):
            if check.verdict == NO_CLAIM:
                continue
            claims += 1
            ok = check.verdict == SUPPORTED
            supported += ok
            cited += bool(check.sentence.cited) and all(n in numbers for n in check.sentence.cited)
            if a.warning is None:
                clean_claims += 1
                clean_supported += ok
    declined = lambda a: (not a.covered) or a.declined  # noqa: E731
    stats = [a.timings for _, a in rows if a.timings.get("time_to_first_token_s") is not None]
    prompt_speed = [(t["prompt_tokens"] - t["reused_prompt_tokens"]) / t["time_to_first_token_s"] for t in stats]
    share = lambda n, d: n / d if d else float("nan")  # noqa: E731
    return {
        "answers": len(rows),
        "claims": claims,
        "cited": share(cited, claims),
        "supported": share(supported, claims),
        "clean": share(clean_supported, clean_claims),
        "warned": share(sum(a.warning is not None for _, a in rows), len(rows)),
        "answer": share(sum(contains_answer(a.text, q.answers) for q, a in answerable), len(answerable)),
        "shown": share(sum(contains_answer(a.text + " " + (a.alternative.text if a.alternative else ""), q.answers)
                           for q, a in answerable), len(answerable)),
        "refused": share(sum(declined(a) for _, a in answerable), len(answerable)),
        "declined": share(sum(declined(a) for _, a in off), len(off)),
        "ttft_p50": statistics.median([t["time_to_first_token_s"] for t in stats]) if stats else None,
        "prompt_tps": statistics.median(prompt_speed) if prompt_speed else None,
        "gen_tps": statistics.median([t["tokens_per_second"] for t in stats if t.get("tokens_per_second")])
        if stats else None,
        # How model answers ended: "stop" (end of grammar or end token), "length"
        # (the token limit), "repetition" (a sentence said twice).
        "stops": dict(Counter(t.get("stopped_by") or "?" for t in stats)),
    }


def fmt(value, digits=3) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="smollm2,gemma3-270m")
    parser.add_argument("--squad", type=int, default=100)
    parser.add_argument("--off", type=int, default=50)
    parser.add_argument("--sets", default="seeds,squad")
    parser.add_argument("--configs", default="extractive,plain,shipped")
    parser.add_argument("--show", type=int, default=3, help="answers printed in full per model and set")
    parser.add_argument("--limit", type=int, default=0,
                        help="at most N answerable and N/4 off-corpus questions per set (for a quick run)")
    args = parser.parse_args()

    embedder = Embedder()
    sets = {}
    if "seeds" in args.sets:
        sets["seeds"] = (build_index("seeds", [ROOT / "seeds"], embedder), seed_questions())
    if "squad" in args.sets:
        corpus = CACHE / "squad-corpus"
        questions = squad_questions(args.squad, args.off, corpus)
        sets["squad"] = (build_index("squad", [corpus], embedder), questions)

    if args.limit:
        for name, (base, questions) in sets.items():
            sets[name] = (base, [q for q in questions if q.answers][:args.limit]
                          + [q for q in questions if not q.answers][:max(1, args.limit // 4)])
    table = []
    samples = []
    sentences = []  # every model sentence with its verdict, for labelling by hand
    model_keys = [m for m in args.models.split(",") if m]
    for key in model_keys:
        path, _ = install(key, CACHE / "models", quiet=True)
        started = time.perf_counter()
        generator = LlamaCppGenerator(path, n_ctx=4096)
        load_s = time.perf_counter() - started
        print(f"{lookup(key).title}: loaded in {load_s:.1f} s", flush=True)
        for set_name, (base, questions) in sets.items():
            retriever = Retriever(Index.open(base), embedder, base)
            for config in args.configs.split(","):
                if config == "extractive" and key != model_keys[0]:
                    continue  # the same for every model
                settings = base if config != "plain" else base.replace(constrain_answers=False,
                                                                       min_supported_share=0.0)
                assistant = make_assistant(retriever, settings, generator)
                rows = []
                t0 = time.perf_counter()
                for q in questions:
                    rows.append((q, ask(assistant, q.text, extractive=config == "extractive")))
                figures = measure(rows)
                label = "extractive" if config == "extractive" else f"{key} {config}"
                table.append((set_name, label, figures))
                print(f"{set_name:<6} {label:<22} {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()})}"
                      f" ({time.perf_counter() - t0:.0f} s)", flush=True)
                if config != "extractive":
                    sentences += [{"set": set_name, "config": label, "question": q.text, "sentence": c.sentence.text,
                                   "cited": list(c.sentence.cited), "verdict": c.verdict, "reason": c.reason,
                                   "cited_text": " | ".join(src.text for src in a.sources
                                                            if src.number in c.sentence.cited)}
                                  for q, a in rows for c in (a.citations.checks if a.citations else ())
                                  if c.verdict != NO_CLAIM]
                    picked = [r for r in rows if r[0].answers][:args.show] + [r for r in rows if not r[0].answers][:1]
                    samples += [(set_name, label, q, a) for q, a in picked]

    print("\n| set | configuration | answers | cited | supported | supported, unwarned | warned | "
          "holds answer | holds answer as shown | answerable refused | off-corpus declined | "
          "TTFT p50 s | prompt tok/s | gen tok/s |")
    print("|---" * 14 + "|")
    for set_name, label, f in table:
        print(f"| {set_name} | {label} | {f['answers']} | {fmt(f['cited'])} | {fmt(f['supported'])} | "
              f"{fmt(f['clean'])} | {fmt(f['warned'])} | {fmt(f['answer'])} | {fmt(f['shown'])} | "
              f"{fmt(f['refused'])} | {fmt(f['declined'])} | {fmt(f['ttft_p50'], 2)} | "
              f"{fmt(f['prompt_tps'], 0)} | {fmt(f['gen_tps'], 0)} |")
    print("\nHow model answers ended:")
    for set_name, label, f in table:
        if f["stops"]:
            print(f"- {set_name}, {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(f["stops"].items())))
    print("\nAnswers in full:")
    for set_name, label, q, a in samples:
        print(f"\n**{set_name}, {label}** Q: {q.text}  (expected: {' / '.join(q.answers) or 'off-corpus'})")
        for check in (a.citations.checks if a.citations else ()):
            print(f"    {check.mark} {check.sentence.text} {list(check.sentence.cited) or ''}")
        if not a.citations or not a.citations.checks:
            print(f"    {a.text!r}")
        if a.alternative is not None:
            print(f"    ! {a.warning}; shown beside it:")
            for check in a.alternative.citations.checks:
                print(f"      {check.mark} {check.sentence.text} {list(check.sentence.cited)}")
    with open(CACHE / "real_answers_sentences.jsonl", "w", encoding="utf-8") as handle:
        for row in sentences:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    out = CACHE / "real_answers.json"
    out.write_text(json.dumps([{"set": s, "config": c, **f} for s, c, f in table], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

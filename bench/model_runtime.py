"""What running the model safely costs, on this machine, in one run:

    .venv/bin/python bench/model_runtime.py [--questions 8] [--max-tokens 64]

1. Extra buffer types on and off (issue 37): llama.cpp repacks weights into extra
   buffer types unless told not to; on a CPU with AMX that repacking crashes, so the
   program turns it off there (rag/answer/cpu_features.py). Here: prompt tokens/s and
   generation tokens/s of the same prompts with both, each prompt read whole (the
   key/value cache emptied first), the two models taking turns question by question.
2. The model in this process against the model in a runner process (what the product
   does now, rag/answer/model_process.py): time to first token and generation tokens/s
   of the same prompts in the same order (so both reuse the same cached prefix), taking
   turns question by question.

The prompts are the assistant's own (instructions, the selected sentences of the top
passages, the question) for the answerable seed questions, written greedily under the
answer's form check, as `rag ask` writes them.
"""
from __future__ import annotations

import statistics
import time

from common import CACHE, ROOT, SMOKE, bench_parser, smoke_seed_index

from rag.answer.write import compact_sources, system_prompt
from rag.answer.generate import LlamaCppGenerator
from rag.answer.model_catalog import default_model
from rag.answer.model_process import ModelProcess
from rag.answer.prompt import fit_prompt
from rag.answer.shape import AnswerShape
from rag.config import Settings
from rag.evaluation.retrieval import load_questions
from rag.ingest.pipeline import ingest_paths
from rag.retrieve.select_sentences import SentenceSelector
from rag.wiring import embedder_loader, open_retriever


def seeds_index() -> Settings:
    settings = smoke_seed_index()
    if settings is not None:
        return settings
    settings = Settings(index_dir=CACHE / "seeds-index")
    if not (settings.index_dir / "manifest.json").exists():
        ingest_paths([ROOT / "seeds"], settings, embedder_loader(settings))
    return settings


def prompts(settings: Settings, generator, count: int, max_tokens: int) -> list[tuple]:
    retriever = open_retriever(settings)
    selector = SentenceSelector(retriever.embedder)
    out = []
    for q in [q for q in load_questions(ROOT / "eval" / "seed_questions.jsonl") if q.answerable][:count]:
        hits = retriever.search(q.question, settings.k)
        scored = selector.score(q.question, hits)
        prompt = fit_prompt(q.question, compact_sources(hits, scored, settings.prompt_sentences), generator.count,
                            generator.n_ctx, max_tokens, (), system=system_prompt(settings))
        shape = AnswerShape.over([s.number for s in prompt.sources], settings.answer_sentences)
        out.append((prompt.messages, shape))
    return out


def write(generator, messages, shape, max_tokens: int, cold: bool) -> dict:
    if cold:
        generator._llm.reset()  # read the whole prompt
    started = time.perf_counter()
    list(generator.stream(messages, max_tokens, temperature=0.0, shape=shape))
    total = time.perf_counter() - started
    s = generator.last_stats
    read = s.prompt_tokens - s.reused_prompt_tokens
    return {"read": read, "prompt_tps": read / s.time_to_first_token_s if s.time_to_first_token_s else None,
            "ttft": s.time_to_first_token_s, "tps": s.tokens_per_second, "tokens": s.answer_tokens, "total": total}


def median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if r[key] is not None]
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    if SMOKE:
        args.questions, args.max_tokens = 1, 4
    model = CACHE / "tiny-bench.gguf" if SMOKE else ROOT / "models" / default_model().filename
    if SMOKE and not model.exists():
        from tinymodel import write_tiny_gguf

        write_tiny_gguf(model)
    settings = seeds_index()

    on = LlamaCppGenerator(model, n_ctx=4096, extra_buffers="on")
    off = LlamaCppGenerator(model, n_ctx=4096, extra_buffers="off")
    asked = prompts(settings, on, args.questions, args.max_tokens)
    rows: dict[str, list[dict]] = {"on": [], "off": []}
    for messages, shape in asked:
        for name, generator in (("on", on), ("off", off)):
            rows[name].append(write(generator, messages, shape, args.max_tokens, cold=True))
    del off
    print(f"## Extra buffer types on and off: {model.name}, {len(asked)} seed prompts read whole, "
          f"{args.max_tokens} tokens at most, greedy; medians\n")
    print(f"CPU: {on.runtime.cpu}; llama.cpp features: {' '.join(on.runtime.features)}\n")
    print("| extra buffers | prompt tokens read | prompt tokens/s | time to first token (s) | generation tokens/s |")
    print("|---|---|---|---|---|")
    for name in ("on", "off"):
        r = rows[name]
        print(f"| {name} | {median(r, 'read'):.0f} | {median(r, 'prompt_tps'):.1f} | {median(r, 'ttft'):.3f} "
              f"| {median(r, 'tps'):.2f} |")
    ratio = median(rows["off"], "prompt_tps") / median(rows["on"], "prompt_tps")
    print(f"\noff/on prompt tokens/s: {ratio:.3f}; generation: "
          f"{median(rows['off'], 'tps') / median(rows['on'], 'tps'):.3f}\n")

    isolated = ModelProcess(model, n_ctx=4096)
    on._llm.reset()
    rows = {"this process": [], "runner process": []}
    for messages, shape in asked:  # the same order for both: the same prefix reuse
        rows["this process"].append(write(on, messages, shape, args.max_tokens, cold=False))
        rows["runner process"].append(write(isolated, messages, shape, args.max_tokens, cold=False))
    print(f"## The model in this process and in a runner process: {model.name}, the same {len(asked)} prompts "
          "in the same order, medians\n")
    print("| where the model runs | prompt tokens read | prompt tokens/s | time to first token (s) "
          "| generation tokens/s | whole answer (s) |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {median(r, 'read'):.0f} | {median(r, 'prompt_tps'):.1f} | {median(r, 'ttft'):.3f} "
              f"| {median(r, 'tps'):.2f} | {median(r, 'total'):.2f} |")
    here, there = rows["this process"], rows["runner process"]
    print(f"\nrunner/this process: time to first token {median(there, 'ttft') / median(here, 'ttft'):.3f}, "
          f"generation tokens/s {median(there, 'tps') / median(here, 'tps'):.3f}, "
          f"whole answer {median(there, 'total') / median(here, 'total'):.3f}")
    isolated.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

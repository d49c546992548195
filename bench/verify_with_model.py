"""Would asking a local model "does the evidence state the claim? yes/no" help the
citation checker where its score is unsure? (issue 13, part 5)

    .venv/bin/python bench/verify_with_model.py [--band 0.3 0.7] [--models smollm2,gemma]
    .venv/bin/python bench/verify_with_model.py --models qwen2.5-1.5b --probability

With `--probability` the model's P(yes) is read from its next-token logits (as
`LlamaCppGenerator.judge` does for the "does it answer?" step) and a claim in the
band is supported when P(yes) reaches a cut-off; the cut-off is chosen on four
folds (best balanced accuracy flagging at most 0.2 of their supported claims) and
scored on the fifth, 5 shuffles, so the row is out of sample.

WiCE dev claims that pass the hard rules reach the support score; for those whose
score lies in the band, the model is shown the claim and the three closest
sentences of the article (what the score was computed from) and must answer under
a grammar that allows only "yes" or "no". The table compares the checker's
verdicts on every claim with and without the model deciding the band, and gives
the model's time per claim. Models: the real small GGUFs installable here
(bench/.cache/models, fetched by bench/real_answers.py).
"""
from __future__ import annotations
import json
import statistics
import time

import numpy as np

from common import CACHE, bench_parser, reference_embedder
from fit_support import WICE, article, balanced

from rag.config import Settings
from rag.types.answers import Source
from rag.types.citations import NO_CLAIM, SUPPORTED, AnswerSentence
from rag.types.corpus import Passage
from rag.wiring import open_checker

MODELS = {"smollm2": CACHE / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf",
          "gemma": CACHE / "models" / "gemma-3-270m-q4_k_m.gguf",
          # The default model (issue 26): installed in models/ by `make chat` / `make test`.
          "qwen2.5-1.5b": CACHE.parent.parent / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
          # Random weights with Llama-3.2-1B's shapes (bench/llm.py): a laptop model's cost, not its judgement.
          "synthetic-1b": CACHE / "synthetic-llama-3.2-1b-q8_0.gguf",
          # The tiny random GGUF of the tests: a smoke run's model (it is written when missing).
          "tiny": CACHE / "tiny-bench.gguf"}
TIMED_ONLY = {"synthetic-1b": 10, "tiny": 3}  # claims timed; their answers mean nothing
PROMPT = ("Evidence:\n{evidence}\n\nClaim: {claim}\n\n"
          "Does the evidence state the claim? Answer yes or no.")


def main() -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--band", type=float, nargs=2, default=(0.3, 0.7))
    parser.add_argument("--models", default="smollm2,gemma,synthetic-1b")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--probability", action="store_true",
                        help="read P(yes) and choose its cut-off by cross-validation")
    args = parser.parse_args()
    if args.smoke:
        args.limit, args.models, args.band = 30, "tiny", (0.0, 1.0)
    from llama_cpp import Llama, LlamaGrammar

    rows = [json.loads(line) for line in WICE.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[:args.limit] if args.limit else rows
    checker = open_checker(Settings(), reference_embedder())
    verdicts, scores, evidence = [], [], []
    for row in rows:
        title, sentences = article(row)
        text = " ".join(sentences)
        passage = Passage("wice:0:x", "wice", "wice", title or "article", 0, 0, len(text), text)
        check = checker.check_sentences([AnswerSentence(0, 0, len(row["claim"]), row["claim"], (1,))],
                                        [Source(1, passage, text)])[0]
        verdicts.append(check.verdict in (SUPPORTED, NO_CLAIM))
        # A hard rule's 0.0 is not "unsure": only scores the model computed count.
        soft = check.score is not None and 0.0 < check.score < 1.0
        scores.append(check.score if soft else None)
        evidence.append(check.evidence.text if check.evidence else "")
    supported = np.array([r["label"] == "supported" for r in rows])
    shipped = np.array(verdicts)
    band = [i for i, s in enumerate(scores) if s is not None and args.band[0] <= s <= args.band[1]]
    print(f"WiCE dev: {len(rows)} claims; {len(band)} with a support score in [{args.band[0]}, {args.band[1]}]\n")
    print("| checker | balanced accuracy | supported claims flagged | flag recall | model ms per claim p50 |")
    print("|---|---|---|---|---|")
    f = balanced(shipped, supported)
    print(f"| shipped (score alone; in-sample, fitted on these claims) | {f['balanced accuracy']:.1f} | "
          f"{f['supported flagged']:.3f} | {f['flag recall']:.3f} | — |")
    grammar = LlamaGrammar.from_string('root ::= "yes" | "no"', verbose=False)
    for name in args.models.split(","):
        path = MODELS[name]
        if name == "synthetic-1b" and not path.exists():
            from tinymodel import write_synthetic_gguf

            write_synthetic_gguf(path)
        if name == "tiny" and not path.exists():
            from tinymodel import write_tiny_gguf

            path.parent.mkdir(parents=True, exist_ok=True)
            write_tiny_gguf(path)
        if not path.exists():
            print(f"| {name}: {path.name} missing (run bench/real_answers.py first) | | | | |")
            continue
        if args.probability and name not in TIMED_ONLY:
            probability_row(path, band, evidence, rows, shipped, supported)
            continue
        llm = Llama(str(path), n_ctx=2048, verbose=False)
        combined = shipped.copy()
        ms = []
        for i in band[:TIMED_ONLY.get(name, len(band))]:
            prompt = PROMPT.format(evidence=evidence[i][:1500], claim=rows[i]["claim"])
            started = time.perf_counter()
            out = llm.create_chat_completion([{"role": "user", "content": prompt}], grammar=grammar,
                                             max_tokens=2, temperature=0.0)
            ms.append(1000 * (time.perf_counter() - started))
            combined[i] = out["choices"][0]["message"]["content"].strip().lower().startswith("yes")
        if name in TIMED_ONLY:
            print(f"| {path.name} (random weights: time only, {len(ms)} claims) | — | — | — | "
                  f"{statistics.median(ms):.0f} |")
            continue
        f = balanced(combined, supported)
        said_yes = float(np.mean([combined[i] for i in band])) if band else 0.0
        print(f"| shipped + {path.name} deciding the band (said yes to {said_yes:.2f}) | "
              f"{f['balanced accuracy']:.1f} | {f['supported flagged']:.3f} | {f['flag recall']:.3f} | "
              f"{statistics.median(ms) if ms else 0:.0f} |")
    return 0


def probability_row(path, band, evidence, rows, shipped, supported) -> None:
    """The model's P(yes) for each claim in the band, and the checker with a cut-off
    on it, the cut-off fitted on four folds and scored on the fifth."""
    from rag.answer.generate import LlamaCppGenerator

    generator = LlamaCppGenerator(path, n_ctx=2048)
    p_yes, ms = {}, []
    for i in band:
        prompt = PROMPT.format(evidence=evidence[i][:1500], claim=rows[i]["claim"])
        started = time.perf_counter()
        p_yes[i] = generator.judge([{"role": "user", "content": prompt}])
        ms.append(1000 * (time.perf_counter() - started))
    cuts = [round(c, 2) for c in np.arange(0.05, 1.0, 0.05)]

    def verdicts(indices, cut):
        combined = shipped.copy()
        for i in indices:
            combined[i] = p_yes[i] >= cut
        return combined

    scored, flagged, chosen = [], [], []
    for test_mask in _folds(len(rows)):
        train_mask = ~test_mask
        best = None
        for cut in cuts:
            f = balanced(verdicts(band, cut)[train_mask], supported[train_mask])
            if f["supported flagged"] <= 0.2 and (best is None or f["balanced accuracy"] > best[0]):
                best = (f["balanced accuracy"], cut)
        cut = best[1] if best else 0.0
        chosen.append(cut)
        f = balanced(verdicts(band, cut)[test_mask], supported[test_mask])
        scored.append(f["balanced accuracy"])
        flagged.append(f["supported flagged"])
    base = [balanced(shipped[m], supported[m]) for m in _folds(len(rows))]
    print(f"| shipped, same folds (score alone) | {np.mean([b['balanced accuracy'] for b in base]):.1f} | "
          f"{np.mean([b['supported flagged'] for b in base]):.3f} | — | — |")
    print(f"| shipped + {path.name}, P(yes) ≥ a cut-off chosen on 4 folds (cut-offs {min(chosen)}–{max(chosen)}) | "
          f"{np.mean(scored):.1f} ± {np.std(scored):.1f} | {np.mean(flagged):.3f} | — | {statistics.median(ms):.0f} |")
    by_label = {True: [p_yes[i] for i in band if supported[i]], False: [p_yes[i] for i in band if not supported[i]]}
    print(f"\nP(yes) p50 in the band: supported {statistics.median(by_label[True]):.2f} "
          f"({len(by_label[True])} claims), not supported {statistics.median(by_label[False]):.2f} "
          f"({len(by_label[False])} claims)")


def _folds(n: int):
    """Test masks: 5-fold cross-validation, 5 shuffles (the same for every row)."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = rng.permutation(n)
        for fold in range(5):
            mask = np.zeros(n, dtype=bool)
            mask[order[fold::5]] = True
            yield mask


if __name__ == "__main__":
    raise SystemExit(main())

"""The citation checker on claims other people wrote: WiCE (dev split, 349 claims).

    .venv/bin/python bench/wice.py [--limit N] [--folds 5] [--repeats 5]

Each claim (a Wikipedia sentence) is checked as one answer sentence citing [1] =
the web article it cites (`evidence`: the article's sentences; its "(meta data)
TITLE:" line becomes the passage title). Scored as LLM-AggreFact scores WiCE:
supported against the rest (partially supported and not supported), balanced
accuracy; also the share of supported claims flagged (false alarms), precision and
recall of flagging, and the time per claim.

Two rows:
- shipped: the checker as it is (`CitationChecker`). Nothing in it was fitted on
  WiCE, so its figure needs no cross-validation.
- calibrated (not shipped): a logistic model over signals the checker has or could
  have cheaply (best sentence / pair similarity to the claim, share of the claim's
  content words in the three closest sentences, missing facts, negation, claim
  length), fitted and thresholded on 4 folds, scored on the fifth; `--repeats`
  shuffles. It says how far a calibrated score could take the checker here. The
  three-signal row is the best of four signal sets tried on these folds, so its
  figure carries that much selection.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np

from common import ROOT

from rag.cite import CitationChecker
from rag.embed import Embedder, EmbeddingCache
from rag.facts import PassageFacts, missing_facts, names, negation_conflict
from rag.select import content_words
from rag.types import NO_CLAIM, SUPPORTED, Passage, Source

WICE = ROOT.parent / "shared" / "benchdata" / "wice" / "dev.jsonl"
FEATURES = ("best sentence similarity", "best pair similarity", "content words in the 3 closest",
            "rare content words in the 3 closest", "missing facts (whole article)", "missing facts (3 closest)",
            "negation conflict", "claim length (log words)")


def article(row: dict) -> tuple[str, list[str]]:
    sentences = [s for s in row["evidence"] if s.strip()]
    title = ""
    if sentences and sentences[0].startswith("(meta data)"):
        title = sentences[0].split("TITLE:", 1)[-1].strip()
        sentences = sentences[1:]
    return title, sentences


def shipped_verdict(checker: CitationChecker, claim: str, title: str, sentences: list[str]) -> bool:
    text = " ".join(sentences)
    passage = Passage("wice:0:x", "wice", "wice", title or "article", 0, 0, len(text), text)
    report = checker.check_answer(f"{claim} [1]", [Source(1, passage, text)])
    claims = [c for c in report.checks if c.verdict != NO_CLAIM]
    return bool(claims) and all(c.verdict == SUPPORTED for c in claims)


def signals(embedder, claim: str, title: str, sentences: list[str]) -> list[float]:
    """The calibrated row's inputs. The article's sentences are first ranked by the
    claim's words they hold (weighted by rarity within the article), and only the
    best twelve, with their neighbours, are embedded: an article runs to 1,000
    sentences, and embedding all of them costs seconds."""
    words = content_words(claim)
    held = [content_words(s) for s in sentences]
    df: dict[str, int] = {}
    for sentence_words in held:
        for w in sentence_words:
            df[w] = df.get(w, 0) + 1
    idf = {w: math.log((len(sentences) + 1) / (df.get(w, 0) + 0.5)) for w in words}
    lexical = [sum(idf[w] for w in words if w in h) for h in held]
    best_lexical = sorted(range(len(sentences)), key=lambda i: -lexical[i])[:12]
    windows = list(dict.fromkeys(w for i in best_lexical for w in ((i, i), (i, i + 1), (i - 1, i))
                                 if w[0] >= 0 and w[1] < len(sentences)))
    texts = [" ".join(sentences[a:b + 1]) for a, b in windows]
    if not texts:
        return [0.0, 0.0, 0.0, 0.0, 3.0, 3.0, 0.0, math.log1p(len(words))]
    similarities = embedder.embed(texts) @ embedder.embed_query(claim)
    single = [s for (a, b), s in zip(windows, similarities) if a == b]
    pair = [s for (a, b), s in zip(windows, similarities) if a != b] or [0.0]
    closest = [texts[i] for i in np.argsort(-similarities)[:3]]
    have = set().union(*(content_words(t) for t in closest))
    coverage = len(words & have) / len(words) if words else 1.0
    total = sum(idf.values()) or 1.0
    rare_coverage = sum(idf[w] for w in words if w in have) / total
    text = " ".join(sentences)
    known = set(names(text))
    missing_all = len(missing_facts(claim, PassageFacts.of(text, title), known))
    missing_closest = len(missing_facts(claim, PassageFacts.of(" ".join(closest), title), known))
    negation = 1.0 if negation_conflict(claim, closest[0]) else 0.0
    return [float(max(single)), float(max(pair)), coverage, rare_coverage, min(missing_all, 3),
            min(missing_closest, 3), negation, math.log1p(len(words))]


def balanced(predicted_supported: np.ndarray, supported: np.ndarray) -> dict:
    flagged = ~predicted_supported
    tpr = float(predicted_supported[supported].mean())
    tnr = float(flagged[~supported].mean())
    precision = float((flagged & ~supported).sum() / max(1, flagged.sum()))
    return {"balanced accuracy": 100 * (tpr + tnr) / 2, "supported flagged": 1 - tpr,
            "flag precision": precision, "flag recall": tnr}


def cross_validated(x: np.ndarray, supported: np.ndarray, folds: int, repeats: int) -> list[dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    runs = []
    for repeat in range(repeats):
        predicted = np.zeros(len(supported), dtype=bool)
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=repeat).split(x, supported):
            mean, scale = x[train].mean(0), x[train].std(0) + 1e-9
            model = LogisticRegression(class_weight="balanced").fit((x[train] - mean) / scale, supported[train])
            p_train = model.predict_proba((x[train] - mean) / scale)[:, 1]
            # The threshold is fitted on the training folds too, never on the fold scored.
            threshold = max(np.linspace(0.2, 0.8, 61),
                            key=lambda t: balanced(p_train >= t, supported[train])["balanced accuracy"])
            predicted[test] = model.predict_proba((x[test] - mean) / scale)[:, 1] >= threshold
        runs.append(balanced(predicted, supported))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N claims (a quick run)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in WICE.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[:args.limit] if args.limit else rows
    embedder = Embedder()
    supported = np.array([r["label"] == "supported" for r in rows])
    shipped, shipped_ms, x, signal_ms = [], [], [], []
    for row in rows:
        title, sentences = article(row)
        checker = CitationChecker(EmbeddingCache(embedder))  # cold, as `rag check` runs
        started = time.perf_counter()
        shipped.append(shipped_verdict(checker, row["claim"], title, sentences))
        shipped_ms.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        x.append(signals(embedder, row["claim"], title, sentences))
        signal_ms.append(1000 * (time.perf_counter() - started))
    x = np.array(x)
    print(f"WiCE dev: {len(rows)} claims, {int(supported.sum())} supported "
          f"(the rest: partially or not supported); article length p50 "
          f"{statistics.median(len(article(r)[1]) for r in rows):.0f} sentences\n")
    print("| checker | balanced accuracy | supported claims flagged | flag precision | flag recall | ms per claim p50 |")
    print("|---|---|---|---|---|---|")
    figures = balanced(np.array(shipped), supported)
    print(f"| shipped (nothing fitted on WiCE) | {figures['balanced accuracy']:.1f} | "
          f"{figures['supported flagged']:.3f} | {figures['flag precision']:.3f} | {figures['flag recall']:.3f} | "
          f"{statistics.median(shipped_ms):.0f} |")
    for label, columns in ((f"calibrated, all {len(FEATURES)} signals", list(range(len(FEATURES)))),
                           ("calibrated, 3 signals: best pair, content words, missing facts", [1, 2, 4])):
        runs = cross_validated(x[:, columns], supported, args.folds, args.repeats)
        mean = {k: statistics.mean(r[k] for r in runs) for k in runs[0]}
        spread = statistics.pstdev(r["balanced accuracy"] for r in runs)
        print(f"| {label} ({args.folds}-fold CV × {args.repeats}; not shipped) | "
              f"{mean['balanced accuracy']:.1f} ± {spread:.1f} | {mean['supported flagged']:.3f} | "
              f"{mean['flag precision']:.3f} | {mean['flag recall']:.3f} | {statistics.median(signal_ms):.0f} |")
    print("\nSignal means (supported / the rest):\n")
    print("| signal | supported | partially or not supported |")
    print("|---|---|---|")
    for name, column in zip(FEATURES, x.T):
        print(f"| {name} | {column[supported].mean():.3f} | {column[~supported].mean():.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

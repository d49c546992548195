"""How well the citation checker judges: `rag eval-cite eval/citations.jsonl`.

A labelled file has one JSON object per line:
    {"id": "c001", "sentence": "...", "cites": "file.txt#6",
     "label": "supported" | "unsupported" | "wrong source", "kind": "number",
     "supported_by": "file.txt#7"}            # only for "wrong source"
Each sentence is checked as if an answer had cited that passage as [1], with the
passages a search for the sentence returns as the others a fix may point to, as
`rag check` does. Figures: precision and recall of flagging (a verdict of
unsupported or wrong source) against the labels, how often a "wrong source"
label gets a wrong-source verdict naming the right passage, and the share of
each kind of negative that is caught.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rag.check.checker import CitationChecker
from rag.evaluation.retrieval import read_lines
from rag.index.lookup import PassageLookup
from rag.types.answers import Source
from rag.types.citations import SUPPORTED, UNSUPPORTED, WRONG_SOURCE, AnswerSentence, SentenceCheck
from rag.types.errors import EvalFileError

LABELS = (SUPPORTED, UNSUPPORTED, WRONG_SOURCE)
SEARCH_K = 5


@dataclass(frozen=True)
class LabelledPair:
    id: str
    sentence: str
    cites: str
    label: str
    kind: str
    supported_by: str | None = None


def load_pairs(path: Path) -> list[LabelledPair]:
    lines = read_lines(path)
    pairs: list[LabelledPair] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pair = LabelledPair(str(row["id"]), row["sentence"], row["cites"], row["label"],
                                row.get("kind", ""), row.get("supported_by"))
            if pair.label not in LABELS:
                raise ValueError(f"'label' must be one of {', '.join(LABELS)}")
            if pair.label == WRONG_SOURCE and not pair.supported_by:
                raise ValueError("a 'wrong source' pair needs 'supported_by'")
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalFileError(f"{path}, line {number}: {exc}") from None
        pairs.append(pair)
    if not pairs:
        raise EvalFileError(f"{path}: no labelled pairs")
    return pairs


@dataclass(frozen=True)
class PairResult:
    pair: LabelledPair
    check: SentenceCheck

    @property
    def flagged(self) -> bool:
        return self.check.verdict in (UNSUPPORTED, WRONG_SOURCE)

    @property
    def should_flag(self) -> bool:
        return self.pair.label != SUPPORTED


def run_pairs(pairs: Sequence[LabelledPair], checker: CitationChecker, retriever,
              path: Path | str = "labelled file") -> list[PairResult]:
    lookup = PassageLookup(retriever.index)
    results = []
    for pair in pairs:
        cited = lookup.by_reference(pair.cites)
        if cited is None:
            raise EvalFileError(f"{path}: pair {pair.id} cites {pair.cites}, which is not in the index "
                                "(ingest seeds/ first)")
        extra = [h.passage for h in retriever.search(pair.sentence, SEARCH_K)]
        sentence = AnswerSentence(0, 0, len(pair.sentence), pair.sentence, (1,))
        check = checker.check_sentences([sentence], [Source(1, cited, cited.text)], extra)[0]
        results.append(PairResult(pair, check))
    return results


def _right_fix(result: PairResult, lookup_ids: dict[str, str]) -> bool:
    fix = result.check.supported_by
    return (result.check.verdict == WRONG_SOURCE and fix is not None
            and fix.passage.id == lookup_ids.get(result.pair.supported_by or ""))


def metrics(results: Sequence[PairResult], retriever) -> dict:
    """Precision and recall of flagging, wrong-source accuracy, and per-kind catch rates."""
    lookup = PassageLookup(retriever.index)
    expected_fix = {}
    for r in results:
        if r.pair.supported_by:
            passage = lookup.by_reference(r.pair.supported_by)
            expected_fix[r.pair.supported_by] = passage.id if passage else ""
    tp = sum(1 for r in results if r.flagged and r.should_flag)
    fp = sum(1 for r in results if r.flagged and not r.should_flag)
    fn = sum(1 for r in results if not r.flagged and r.should_flag)
    wrong = [r for r in results if r.pair.label == WRONG_SOURCE]
    by_kind: dict[str, list[PairResult]] = defaultdict(list)
    for r in results:
        by_kind[r.pair.kind].append(r)
    kinds = {}
    for kind, rs in by_kind.items():
        right = sum(1 for r in rs if r.flagged == r.should_flag)
        kinds[kind] = {"pairs": len(rs), "label": rs[0].pair.label, "judged_right": right}
    return {
        "pairs": len(results),
        "unsupported_precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "unsupported_recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "wrong_source_accuracy": round(sum(1 for r in wrong if _right_fix(r, expected_fix)) / len(wrong), 4)
        if wrong else None,
        "wrong_source_pairs": len(wrong),
        "kinds": kinds,
        "mistakes": [{"id": r.pair.id, "kind": r.pair.kind, "label": r.pair.label, "verdict": r.check.verdict,
                      "reason": r.check.reason, "sentence": r.pair.sentence}
                     for r in results if r.flagged != r.should_flag
                     or (r.pair.label == WRONG_SOURCE and not _right_fix(r, expected_fix))],
    }

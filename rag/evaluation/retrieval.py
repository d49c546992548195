"""Retrieval evaluation on a question file: recall@k and MRR for each method.

A question file has one JSON object per line:
    {"id": "q1", "question": "...", "evidence": ["phrase", ...]}
A passage is relevant when it contains any evidence phrase (case and runs of
whitespace ignored). An empty list marks a question the corpus cannot answer;
those are counted apart and left out of the averages. A question may name the
page its evidence is on ("page": 4): then page@5 counts whether the first relevant
passage in the top 5 carries that page, i.e. whether its citation points the
reader to the right page.

recall@k here is the share of answerable questions with a relevant passage in
the top k (the usual definition when each question has one answering passage);
MRR is the mean of 1/rank of the first relevant passage within the top 10.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rag.retrieve.search import METHODS
from rag.types.errors import EvalFileError

KS = (1, 5, 10)


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    evidence: tuple[str, ...]
    page: int | None = None  # the page the evidence is on (paged documents)
    answers: tuple[str, ...] = ()  # acceptable answers (any one counts); `rag eval --answers`

    @property
    def expected(self) -> tuple[str, ...]:
        """What a right answer contains: the answers given, else the evidence phrases."""
        return self.answers or self.evidence

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def read_lines(path: Path) -> list[str]:
    """The lines of an evaluation file, or an EvalFileError naming it."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read: {exc}") from None


def load_questions(path: Path) -> list[EvalQuestion]:
    lines = read_lines(path)
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            qid, question, evidence = str(row["id"]), row["question"], row.get("evidence", [])
            page, answers = row.get("page"), row.get("answers", [])
            if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
                raise ValueError("'answers' must be a list of non-empty strings")
            if page is not None and (not isinstance(page, int) or page < 1):
                raise ValueError("'page' must be a page number (1 or more)")
            if not isinstance(question, str) or not question.strip():
                raise ValueError("'question' must be a non-empty string")
            if not isinstance(evidence, list) or not all(isinstance(e, str) and e.strip() for e in evidence):
                raise ValueError("'evidence' must be a list of non-empty strings")
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalFileError(f"{path}, line {number}: {exc}") from None
        if qid in seen:
            raise EvalFileError(f"{path}, line {number}: duplicate id '{qid}'")
        seen.add(qid)
        questions.append(EvalQuestion(qid, question, tuple(evidence), page, tuple(answers)))
    if not questions:
        raise EvalFileError(f"{path}: no questions")
    return questions


def _normalise(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


def is_relevant(text: str, evidence: Sequence[str]) -> bool:
    norm = _normalise(text)
    return any(_normalise(phrase) in norm for phrase in evidence)


def first_relevant_rank(texts: Sequence[str], evidence: Sequence[str]) -> int | None:
    for rank, text in enumerate(texts, 1):
        if is_relevant(text, evidence):
            return rank
    return None


def summarise(ranks: Sequence[int | None], ks: Sequence[int] = KS) -> dict[str, float]:
    """Metrics from the rank of the first relevant passage of each question."""
    n = len(ranks)
    if n == 0:
        return {**{f"recall@{k}": 0.0 for k in ks}, "mrr": 0.0}
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in ks}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None and r <= max(ks)) / n
    return {key: round(value, 4) for key, value in out.items()}


@dataclass(frozen=True)
class EvalResult:
    metrics: dict[str, dict[str, float]]  # method -> metric -> value
    answerable: int
    unanswerable: int
    misses: dict[str, list[str]]  # method -> ids of questions with no relevant passage in the top 5


def evaluate(retriever, questions: Sequence[EvalQuestion], methods: Sequence[str] = METHODS) -> EvalResult:
    answerable = [q for q in questions if q.answerable]
    paged = [q for q in answerable if q.page is not None]
    metrics, misses = {}, {}
    for method in methods:
        ranks, right_pages = [], 0
        for q in answerable:
            hits = retriever.search(q.question, k=max(KS), method=method)
            rank = first_relevant_rank([h.passage.text for h in hits], q.evidence)
            ranks.append(rank)
            if q.page is not None and rank is not None and rank <= 5:
                found = hits[rank - 1].passage
                right_pages += found.page is not None and found.page <= q.page <= (found.last_page or found.page)
        metrics[method] = summarise(ranks)
        if paged:
            metrics[method]["page@5"] = round(right_pages / len(paged), 4)
        misses[method] = [q.id for q, r in zip(answerable, ranks) if r is None or r > 5]
    return EvalResult(metrics, len(answerable), len(questions) - len(answerable), misses)


# --------------------------------------------------------------------------- answers


def normalise_answer(text: str) -> str:
    """SQuAD's normalisation, for any script's punctuation: lower case, punctuation
    (curly quotes and dashes too) to spaces, no articles, single spaces."""
    text = re.sub(r"[^\w\s]|_", " ", text.lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    body = f" {normalise_answer(text)} "
    return any(normalise_answer(a) and f" {normalise_answer(a)} " in body for a in answers)


def holds_key_tokens(text: str, answers: Sequence[str]) -> bool:
    """Does `text` give one of the expected answers, in its own words or others? A
    reader's test, which a paraphrase passes and the literal test does not: every
    number of the expected answer ("eight" = "8", "2.5 per cent" = "2.5%"), every
    month ("Feb" = "February", as the checker reads them), every name ("Mariana
    Betsa" for "Betsa Mariana"), and at least half of its other content words
    (stemmed) are in the text."""
    from rag.check.facts import months, names, numbers
    from rag.text.words import content_words

    have_numbers, have_months = numbers(text), months(text)
    have_words = content_words(text) | {w.lower() for w in names(text)}
    for answer in answers:
        wanted_numbers, wanted_months = numbers(answer), months(answer)
        wanted_names = {n.lower() for n in names(answer)}
        others = content_words(answer) - wanted_names - {w.lower() for w in wanted_numbers} \
            - {w.rstrip("%") for w in wanted_numbers}
        others = {w for w in others if not any(ch.isdigit() for ch in w) and not numbers(w)
                  and not months(w.capitalize())}
        if not (wanted_numbers <= have_numbers and wanted_months <= have_months and wanted_names <= have_words):
            continue
        if not others or sum(_word_in(w, have_words) for w in others) >= len(others) / 2:
            return True
    return False


def _word_in(word: str, words: set[str]) -> bool:
    """A word or a form of it: the first four letters decide ("abstentions" and
    "abstain", "favor" and "favour"), shorter words must match whole."""
    if word in words:
        return True
    return len(word) >= 4 and any(w[:4] == word[:4] for w in words if len(w) >= 4)


@dataclass(frozen=True)
class AnswerRecord:
    id: str
    question: str
    answerable: bool
    answer: str
    declined: bool
    contains_answer: bool | None  # None for a question the corpus cannot answer
    answers_question: bool | None
    holds_key_tokens: bool | None = None  # the expected answer's numbers, names and words

    def to_json(self) -> dict:
        return dict(self.__dict__)


def evaluate_answers(assistant, questions: Sequence[EvalQuestion], extractive: bool = True
                     ) -> tuple[dict[str, float | int | None], list[AnswerRecord]]:
    """Run the assistant on every question (one process, one model load) and score
    the answers: the share of answerable questions whose answer contains an
    expected answer, the share of answerable questions declined (false refusals),
    and the share of unanswerable ones declined."""
    from rag.types.answers import Answer

    records = []
    for q in questions:
        answer = [x for x in assistant.ask(q.question, extractive=extractive) if isinstance(x, Answer)][-1]
        declined = (not answer.covered) or answer.declined
        shown = answer.text + (" " + answer.alternative.text if answer.alternative else "")
        records.append(AnswerRecord(q.id, q.question, q.answerable, answer.text, declined,
                                    contains_answer(shown, q.expected) if q.answerable else None,
                                    answer.answers_question,
                                    holds_key_tokens(answer.text, q.expected) if q.answerable else None))
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    share = lambda n, d: round(n / d, 4) if d else None  # noqa: E731
    summary = {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "contains_answer": share(sum(bool(r.contains_answer) for r in answerable), len(answerable)),
        # The answer itself (not the sources' sentences shown beside a warned one).
        "answer_correct": share(sum(bool(r.holds_key_tokens) for r in answerable), len(answerable)),
        "answerable_declined": share(sum(r.declined for r in answerable), len(answerable)),
        "unanswerable_declined": share(sum(r.declined for r in unanswerable), len(unanswerable)),
    }
    return summary, records

"""An `Answer` as plain JSON and back, for saved conversations (rag/chat/history.py).

The record keeps what is needed to show the answer again as it was: its text,
mode, verdicts with their reasons and evidence, the extractive alternative, and
each passage it numbered or quoted, with the passage's text and place as they were
when it was answered. Each passage is written once and referred to by id.
Retrieval's full hit list is not kept (it is for diagnostics, and large).
"""
from __future__ import annotations

from typing import Any, Mapping

from rag.types.answers import Answer, Mode, Source, Timings
from rag.types.citations import AnswerSentence, CitationReport, Evidence, SentenceCheck, Verdict
from rag.types.corpus import Passage


def answer_to_record(answer: Answer) -> dict[str, Any]:
    passages: dict[str, dict[str, Any]] = {}
    return {"answer": _answer(answer, passages), "passages": passages}


def answer_from_record(record: Mapping[str, Any]) -> Answer:
    """The Answer a record holds (KeyError, TypeError or ValueError when malformed)."""
    passages = {pid: Passage.from_metadata(pid, p["text"], p) for pid, p in record["passages"].items()}
    return _read_answer(record["answer"], passages)


def _passage(passage: Passage, passages: dict[str, dict[str, Any]]) -> str:
    passages.setdefault(passage.id, {**passage.to_metadata(), "text": passage.text})
    return passage.id


def _evidence(evidence: Evidence | None, passages: dict) -> dict[str, Any] | None:
    if evidence is None:
        return None
    return {"number": evidence.number, "passage": _passage(evidence.passage, passages), "start": evidence.start,
            "end": evidence.end, "similarity": evidence.similarity}


def _check(check: SentenceCheck, passages: dict) -> dict[str, Any]:
    s = check.sentence
    return {"sentence": {"index": s.index, "start": s.start, "end": s.end, "text": s.text, "cited": list(s.cited)},
            "verdict": check.verdict, "reason": check.reason, "evidence": _evidence(check.evidence, passages),
            "supported_by": _evidence(check.supported_by, passages), "invalid": list(check.invalid),
            "score": check.score, "unsupported_parts": list(check.unsupported_parts)}


def _answer(answer: Answer, passages: dict) -> dict[str, Any]:
    return {
        "question": answer.question, "text": answer.text, "mode": answer.mode, "model": answer.model,
        "sources": [{"number": s.number, "passage": _passage(s.passage, passages), "text": s.text}
                    for s in answer.sources],
        "cited": list(answer.cited), "covered": answer.covered, "search_query": answer.search_query,
        "timings": dict(answer.timings), "user_message": answer.user_message,
        "citations": None if answer.citations is None else {
            "checks": [_check(c, passages) for c in answer.citations.checks],
            "milliseconds": answer.citations.milliseconds},
        "dropped_sentences": answer.dropped_sentences, "declined": answer.declined, "warning": answer.warning,
        "alternative": None if answer.alternative is None else _answer(answer.alternative, passages),
        "answers_question": answer.answers_question, "missing": answer.missing,
    }


def _read_evidence(data: Mapping[str, Any] | None, passages: Mapping[str, Passage]) -> Evidence | None:
    if data is None:
        return None
    return Evidence(data["number"], passages[data["passage"]], int(data["start"]), int(data["end"]),
                    float(data["similarity"]))


def _read_check(data: Mapping[str, Any], passages: Mapping[str, Passage]) -> SentenceCheck:
    s = data["sentence"]
    sentence = AnswerSentence(int(s["index"]), int(s["start"]), int(s["end"]), str(s["text"]),
                              tuple(int(n) for n in s["cited"]))
    return SentenceCheck(sentence, Verdict(str(data["verdict"])), str(data["reason"]),
                         _read_evidence(data["evidence"], passages), _read_evidence(data["supported_by"], passages),
                         tuple(int(n) for n in data["invalid"]), data["score"], tuple(data["unsupported_parts"]))


def _read_answer(data: Mapping[str, Any], passages: Mapping[str, Passage]) -> Answer:
    citations = data["citations"]
    return Answer(
        question=str(data["question"]), text=str(data["text"]), mode=Mode(str(data["mode"])), model=data["model"],
        sources=tuple(Source(int(s["number"]), passages[s["passage"]], str(s["text"])) for s in data["sources"]),
        cited=tuple(int(n) for n in data["cited"]), hits=(), covered=bool(data["covered"]),
        search_query=str(data["search_query"]), timings=Timings.from_json(data["timings"]), user_message=data["user_message"],
        citations=None if citations is None else CitationReport(
            tuple(_read_check(c, passages) for c in citations["checks"]), float(citations["milliseconds"])),
        dropped_sentences=int(data["dropped_sentences"]), declined=bool(data["declined"]), warning=data["warning"],
        alternative=None if data["alternative"] is None else _read_answer(data["alternative"], passages),
        answers_question=data["answers_question"], missing=str(data["missing"]),
    )

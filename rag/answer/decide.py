"""The answer path's second stage: how the question is to be answered, from what
retrieval found: from a document's byline, by saying the documents do not cover
it, with the documents' own sentences, or by the model."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Sequence

from rag.answer.prompt import NOT_COVERED
from rag.answer.retrieval import Retrieved
from rag.config import Settings
from rag.retrieve.question import KeyTerm, asks_about_document


class Route(StrEnum):
    BYLINE = "byline"  # "who wrote the article about …?": its byline, read at ingest
    NOT_COVERED = "not covered"  # a refusal, and no model is asked
    EXTRACTIVE = "extractive"  # the best sentences, as they stand
    MODEL = "model"  # the model writes it


@dataclass(frozen=True)
class Decision:
    route: Route
    refusal: str = ""  # NOT_COVERED: what the answer says
    wanted: str = ""  # BYLINE: "author", "published" or "publisher"


def decide(retrieved: Retrieved, settings: Settings, extractive: bool) -> Decision:
    wanted = asks_about_document(retrieved.question)
    if wanted and retrieved.hits and retrieved.coverage.best_similarity >= settings.min_similarity:
        # "Who wrote the article about …?": the words "wrote" and "article" are in
        # no passage, so only closeness in meaning decides that the article is here.
        return Decision(Route.BYLINE, wanted=wanted)
    if not retrieved.coverage.covered or retrieved.missing:
        return Decision(Route.NOT_COVERED,
                        refusal=not_mentioned(retrieved.unknown) if retrieved.unknown else NOT_COVERED)
    return Decision(Route.EXTRACTIVE if extractive else Route.MODEL)


def not_mentioned(terms: Sequence[KeyTerm]) -> str:
    """The refusal that names what the documents lack: "The documents do not mention Xi Jinping."."""
    names = [t.text for t in terms]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"The documents do not mention {listed}."

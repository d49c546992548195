"""The one place an `Answer` is made on the answer path, by keyword: every route
(a refusal, a byline, extractive, the model's, the fallback beside it) ends here,
so a new field of `Answer` is filled in once."""
from __future__ import annotations

from typing import Sequence

from rag.check.checker import cited_numbers
from rag.types.answers import Answer, Mode, Source, Timings
from rag.types.citations import CitationReport
from rag.types.corpus import Hit


def assemble(question: str, search_query: str, hits: Sequence[Hit], *, text: str, mode: Mode,
             model: str | None, sources: Sequence[Source], citations: CitationReport, timings: Timings,
             covered: bool = True, declined: bool = False, user_message: str | None = None,
             model_stopped: str | None = None) -> Answer:
    """The answer; `cited` is read from `text`: the numbers it cites that name one of `sources`."""
    numbers = {s.number for s in sources}
    return Answer(question=question, text=text, mode=mode, model=model, sources=tuple(sources),
                  cited=tuple(n for n in cited_numbers(text) if n in numbers), hits=tuple(hits), covered=covered,
                  search_query=search_query, timings=timings, user_message=user_message, citations=citations,
                  declined=declined, model_stopped=model_stopped)

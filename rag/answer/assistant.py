"""The answer path, in four stages with typed hand-offs:

    retrieve (rag/answer/retrieval.py) ─► Retrieved
      ─► decide (rag/answer/decide.py) ─► Decision: byline | not covered | extractive | model
      ─► write (rag/answer/write.py: ModelWriter, or `say` for a text made without a model) ─► Written
      ─► review (rag/answer/review.py: re-point, confirm, re-read, fall back) ─► Answer (rag/answer/assemble.py)

`Assistant.ask` runs them and yields, as it goes, the text and each sentence's
check; a stage is replaced (a faster writer, a stricter reviewer) without touching
the others.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Sequence

from rag.answer.assemble import assemble
from rag.answer.decide import Decision, Route, decide
from rag.answer.extractive import choose, compose
from rag.answer.retrieval import Retrieved, retrieve
from rag.answer.review import Reviewer, can_review, with_verdict
from rag.answer.write import ModelWriter, say
from rag.check.checker import CitationChecker
from rag.config import Settings
from rag.retrieve.question import document_topic
from rag.retrieve.search import Retriever
from rag.retrieve.select_sentences import SentenceSelector
from rag.types.answers import AnswerStream, Mode, Source, Turn
from rag.types.citations import CitationReport
from rag.types.errors import ModelStoppedError
from rag.types.scope import Scope

if TYPE_CHECKING:
    from rag.answer.generate import Generator

# Questions about a document's byline compare the question with this many titles at
# most (one embedding each, cached): a library's worth, at a few seconds the first time.
TITLES_COMPARED = 5000


class Assistant:
    """Answers questions. `ask` yields, in order: the answer's text piece by piece;
    a `SentenceCheck` for each sentence as soon as it is complete (while a model
    is still writing the next one); and last the `Answer`, whose `citations` hold
    every check. The selector and the checker should share one `EmbeddingCache`:
    the checker then embeds only the answer's own sentences."""

    def __init__(self, retriever: Retriever, selector: SentenceSelector, settings: Settings,
                 generator: Generator | None, checker: CitationChecker):
        self.retriever = retriever
        self.selector = selector
        self.settings = settings
        self.generator = generator
        self.checker = checker
        self.reviewer = Reviewer(checker, settings, generator, judges=self._judges())

    @property
    def mode(self) -> str:
        return self.generator.mode if self.generator is not None else Mode.EXTRACTIVE

    def ask(self, question: str, history: Sequence[Turn] = (), extractive: bool = False,
            max_tokens: int | None = None, temperature: float | None = None,
            grammar: str | None = None, should_stop: Callable[[], bool] | None = None,
            scope: Scope | None = None) -> AnswerStream:
        """`scope` limits the answer to some documents (`--only`). When the model's
        process stops in the middle (a crash in llama.cpp), the answer ends with a line
        saying so and the extractive answer; the next question loads the model again."""
        started = time.perf_counter()
        retrieved = retrieve(question, history, scope, self.retriever, self.selector, self.settings)
        decision = decide(retrieved, self.settings, extractive or self.generator is None)
        if decision.route == Route.BYLINE:
            yield from self._byline_answer(retrieved, decision)
        elif decision.route == Route.NOT_COVERED:  # said in the mode asked for, though no model was asked
            model = None if extractive or self.generator is None else self.generator
            yield from self._plain_answer(retrieved, decision.refusal, (), by_word=False, covered=False,
                                          mode=Mode(model.mode) if model else Mode.EXTRACTIVE,
                                          model=model.name if model else None)
        elif decision.route == Route.EXTRACTIVE:
            sources = tuple(Source(i, h.passage, h.passage.text) for i, h in enumerate(retrieved.hits, 1))
            yield from self._plain_answer(retrieved, compose(choose(retrieved.scored)), sources)
        else:
            yield from self._model_answer(retrieved, history, started, max_tokens=max_tokens,
                                          temperature=temperature, grammar=grammar, should_stop=should_stop)

    def _model_answer(self, retrieved: Retrieved, history: Sequence[Turn], started: float,
                      **options) -> AnswerStream:
        generator = self.generator
        assert generator is not None  # extractive otherwise
        writer = ModelWriter(generator, self.checker, self.selector, self.settings, confirms=self.reviewer.confirms)
        try:
            written = yield from writer.write(retrieved, history, **options)
            answer = self.reviewer.review(retrieved, written, generator.name, started)  # it may ask the model
        except ModelStoppedError as stopped:
            yield from self._answer_without_model(stopped, retrieved, writer)
            return
        yield answer

    def _plain_answer(self, retrieved: Retrieved, text: str, sources: Sequence[Source], *, by_word: bool = True,
                      covered: bool = True, mode: Mode = Mode.EXTRACTIVE, model: str | None = None,
                      declined: bool = False, **timings) -> AnswerStream:
        """An answer written without the model: a refusal, the best sentences, a byline."""
        report = yield from say(text, self.checker, sources, by_word)
        answer = assemble(retrieved.question, retrieved.query, retrieved.hits, text=text, mode=mode, model=model,
                          sources=sources, citations=report, covered=covered, declined=declined,
                          timings=retrieved.timings.with_(check_ms=report.milliseconds, **timings))
        yield with_verdict(answer, retrieved.analysis) if covered else answer

    def _answer_without_model(self, stopped: ModelStoppedError, retrieved: Retrieved,
                              writer: ModelWriter) -> AnswerStream:
        """The model's process ended mid-answer: the sentences it had finished (each
        already checked), one line saying what happened, and the extractive answer."""
        draft = writer.draft
        checks = tuple(draft.checking.checks) if draft is not None else ()
        text = draft.text[:checks[-1].sentence.end].strip() if draft is not None and checks else ""
        warning = f"{stopped} and is loaded again for the next question"
        yield f"\n\n⚠ {warning}.\n"
        assert self.generator is not None
        timings = retrieved.timings.merged(writer.timings).with_(model_stopped=stopped.reason)
        answer = assemble(retrieved.question, retrieved.query, retrieved.hits, text=text,
                          mode=Mode(self.generator.mode), model=self.generator.name, sources=writer.sources,
                          citations=CitationReport(checks, 0.0), timings=timings, model_stopped=stopped.reason)
        yield with_verdict(self.reviewer.with_alternative(answer, retrieved, warning), retrieved.analysis)

    def _judges(self) -> bool:
        """Can the model review its answer (confirm it, re-read its sentences)?"""
        return can_review(self.generator)

    def _byline_answer(self, retrieved: Retrieved, decision: Decision) -> AnswerStream:
        """Who wrote the best-matching document, or when it was published, quoting its
        byline or date line (read at ingest) and citing the passage that holds it; or
        that the document does not say."""
        hits, wanted = retrieved.hits, decision.wanted
        source, title = self._document_meant(retrieved)
        entry = self.retriever.index.manifest.files.get(source)
        field = getattr(entry.byline, wanted) if entry is not None else None
        passage = None
        if field is not None:
            passage = next((h.passage for h in hits if h.passage.id == field.passage_id), None) \
                or self.retriever.index.store.get([field.passage_id]).get(field.passage_id)
        if passage is None or field is None:
            what = {"author": "who wrote it", "published": "when it was published",
                    "publisher": "who published it"}[wanted]
            yield from self._plain_answer(retrieved, f'The document "{title}" does not say {what}.', (),
                                          declined=True, byline=wanted)
            return
        yield from self._plain_answer(retrieved, f"{field.quote} [1]", (Source(1, passage, passage.text),),
                                      byline=wanted)

    def _document_meant(self, retrieved: Retrieved) -> tuple[str, str]:
        """(source, title) of the document a question about "the article about X"
        means: the one whose title is closest to X, since people describe an article
        by its headline, which its passages do not repeat (all five demo articles are
        about Starmer and Trump: retrieval alone cannot tell them apart). Every title
        in the index is compared, up to `TITLES_COMPARED`; beyond that, the titles of
        the retrieved documents."""
        hits, scoped = retrieved.hits, retrieved.scoped
        files = self.retriever.index.manifest.files
        if scoped is not None:
            files = {source: files[source] for source in scoped.sources}
        if len(files) <= TITLES_COMPARED:
            candidates = [(source, entry.title) for source, entry in files.items()]
        else:
            candidates = list(dict.fromkeys((h.passage.source, h.passage.title) for h in hits))
        if len(candidates) <= 1:
            return candidates[0] if candidates else (hits[0].passage.source, hits[0].passage.title)
        embedder = self.selector.embedder  # the cache: titles are embedded once
        similarities = embedder.embed([t for _, t in candidates]) @ embedder.embed_query(
            document_topic(retrieved.question))
        return candidates[int(similarities.argmax())]


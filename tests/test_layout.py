"""The shape of the code, checked on its source: the import graph (types at the
bottom, no loops, the library never above its front end), the pipeline built in
one place, environment variables set in one module. Read with `ast`, imports
inside functions included, so a deferred import cannot hide a loop."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rag", "tui", "launcher")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module of ours that an imported dotted name lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    """Every module of ours that `module` imports, at the top or inside a function."""
    path = MODULES[module]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            owner = _owner(name)
            # A module importing its own package (`rag.ingest.readers` from `rag.ingest.readers.pdf`)
            # is Python loading the package first, not a dependency loop.
            if owner and owner != module and not module.startswith(owner + "."):
                found.add(owner)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def test_the_graph_reads_real_imports():
    # The check below would pass on an empty graph: make sure it sees known edges.
    assert "rag.retrieve.search" in GRAPH["rag.wiring"]
    assert "rag.types.errors" in GRAPH["rag.ingest.passages"]
    assert len(MODULES) > 60


def test_types_import_nothing_else_of_rag():
    for module, imported in GRAPH.items():
        if module.startswith("rag.types"):
            assert all(m.startswith("rag.types") for m in imported), (module, imported)


def test_the_library_never_imports_its_front_end():
    for module, imported in GRAPH.items():
        if module.startswith("rag"):
            assert not [m for m in imported if m.startswith(("tui", "launcher"))], module


def test_no_two_modules_import_each_other_directly_or_in_a_loop():
    # Tarjan's strongly connected components: any component of more than one module is a loop.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in GRAPH[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert loops == []


def _calls(pattern: str, folders=("rag", "tui", "launcher", "bench", "tests")) -> set[str]:
    """Files (relative paths) whose code, comments and docstrings aside, calls `pattern`."""
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                    if name == pattern:
                        found.add(str(path.relative_to(ROOT)))
    return found


def test_the_pipeline_is_built_in_the_wiring_only():
    allowed = {"rag/wiring.py"}
    assert _calls("Retriever") <= allowed | {"rag/retrieve/search.py", "tests/test_search.py"}
    assert _calls("CitationChecker") <= allowed | {"rag/check/checker.py", "tests/test_cite.py"}
    assert _calls("Assistant") <= allowed | {"rag/answer/assistant.py", "tests/test_assistant.py"}
    assert _calls("open_embedder") == allowed  # the embedding factory; others ask the wiring
    assert _calls("Retriever")  # the check sees calls at all


# What a front end (the `rag` command, the chat app, the MCP server) and the chat
# session may import: the library service, the types, and the words for people.
FRONT_END_MAY_IMPORT = ("rag.library", "rag.types", "rag.config", "rag.environment", "rag.report", "rag.text",
                        "rag.chat", "rag.cli", "tui")
FRONT_ENDS = ("tui", "rag.cli", "rag.chat")
PIPELINE_OPENERS = ("open_index", "open_retriever", "open_generator", "open_assistant", "open_checker",
                    "embedder_loader", "embedder_for")


def test_front_ends_call_the_library_and_nothing_below_it():
    below = {module: sorted(m for m in imported if not m.startswith(FRONT_END_MAY_IMPORT))
             for module, imported in GRAPH.items() if module.startswith(FRONT_ENDS)}
    assert {module: found for module, found in below.items() if found} == {}
    assert "rag.library" in GRAPH["rag.cli.commands"] and "rag.library" in GRAPH["tui.app"]  # the check sees them
    front_end_files = {str(path.relative_to(ROOT)) for folder in ("tui", "rag/cli", "rag/chat")
                       for path in (ROOT / folder).rglob("*.py")}
    for opener in PIPELINE_OPENERS:
        assert not _calls(opener, ("tui", "rag/cli", "rag/chat")), opener
    assert _calls("open_retriever") & {"rag/library.py"} and "tui/app.py" in front_end_files


def test_the_answer_path_is_short_functions_and_makes_its_answer_in_one_place():
    """Stages that can be replaced one at a time: no function of rag/answer/ is
    longer than a screen, and an `Answer` is made in rag/answer/assemble.py only
    (saved conversations are read back into one in rag/chat/record.py)."""
    long = []
    for path in (ROOT / "rag" / "answer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({length} lines)")
    assert long == []
    assert _calls("Answer", ("rag", "tui")) == {"rag/answer/assemble.py", "rag/chat/record.py"}


ENV_WRITE = re.compile(r"os\.environ\s*\[[^\]]+\]\s*=|os\.environ\.(setdefault|pop|update|clear)\(|os\.putenv\(|"
                       r"del\s+os\.environ")


def test_environment_variables_are_set_in_one_module():
    writers = {str(path.relative_to(ROOT)) for package in PACKAGES for path in (ROOT / package).rglob("*.py")
               if ENV_WRITE.search(path.read_text(encoding="utf-8"))}
    assert writers == {"rag/environment.py"}


def _cli_flags() -> set[str]:
    import argparse

    from rag.cli.parser import build_parser

    flags: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    walk(child)
            else:
                flags.update(o for o in action.option_strings if o.startswith("--") and o != "--help")

    walk(build_parser())
    return flags


def _words(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings, f-strings' parts included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_library_messages_hold_no_command_line_flags():
    """Advice is worded at the edges (rag/cli/advice.py for the command line and the
    app): the library names settings in `Remedy` values, so the app never shows a
    flag its user cannot type, and a renamed flag cannot leave stale advice behind."""
    flags = _cli_flags()
    assert {"--max-file-mb", "--embed-backend", "--no-ocr", "--rebuild"} <= flags  # the check sees the parser
    flag = re.compile("(?:" + "|".join(re.escape(f) for f in flags) + r")(?![\w-])")
    command = re.compile(r"`rag (ingest|models|chat|ask|search|status)\b")
    found = [f"{path.relative_to(ROOT)}:{line}: {text[:70]!r}"
             for path in (ROOT / "rag").rglob("*.py") if "cli" not in path.relative_to(ROOT).parts
             for line, text in _words(path) if flag.search(text) or command.search(text)]
    assert found == []
    # The check itself sees a flag in an error message (it was there before the move).
    sample = ast.parse('raise ModelError(f"use --embed-backend torch {x}")')
    assert any(flag.search(n.value) for n in ast.walk(sample) if isinstance(n, ast.Constant))

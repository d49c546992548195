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


ENV_WRITE = re.compile(r"os\.environ\s*\[[^\]]+\]\s*=|os\.environ\.(setdefault|pop|update|clear)\(|os\.putenv\(|"
                       r"del\s+os\.environ")


def test_environment_variables_are_set_in_one_module():
    writers = {str(path.relative_to(ROOT)) for package in PACKAGES for path in (ROOT / package).rglob("*.py")
               if ENV_WRITE.search(path.read_text(encoding="utf-8"))}
    assert writers == {"rag/environment.py"}

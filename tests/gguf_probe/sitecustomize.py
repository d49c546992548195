"""Counts the suite's loads of a real GGUF, in every process the tests start (the
`rag` command, the model's runner): on PYTHONPATH while the suite runs (tests/conftest.py),
it wraps `llama_cpp.Llama.__init__` when llama_cpp is first imported, and appends the
running test (PYTEST_CURRENT_TEST, inherited by subprocesses) and the model file to the
log GGUF_LOAD_LOG names. Nothing else changes; without GGUF_LOAD_LOG it does nothing."""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

LOG = os.environ.get("GGUF_LOAD_LOG")


def _record(model_path: object) -> None:
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0] or "?"
    with open(LOG or os.devnull, "a", encoding="utf-8") as log:
        log.write(f"{test}\t{os.path.basename(str(model_path))}\n")


def wrap(module) -> None:
    """Record each `Llama` made from now on."""
    llama = module.Llama
    if getattr(llama.__init__, "_records_loads", False):
        return
    original = llama.__init__

    def init(self, model_path, *args, **kwargs):
        _record(model_path)
        original(self, model_path, *args, **kwargs)

    init._records_loads = True  # type: ignore[attr-defined]
    llama.__init__ = init


class _WhenImported(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "llama_cpp":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module):
            execute(module)
            wrap(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if LOG and "llama_cpp" not in sys.modules:
    sys.meta_path.insert(0, _WhenImported())


def _run_the_shadowed_one() -> None:
    """Being first on PYTHONPATH, this file hides any other `sitecustomize` (a system
    Python's): run that one too, so a test process starts as it would without the probe."""
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in sys.path:
        if os.path.abspath(folder or ".") == here:
            continue
        candidate = os.path.join(folder or ".", "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", candidate)
            if spec is not None and spec.loader is not None:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


if __name__ == "sitecustomize":
    _run_the_shadowed_one()

"""Process-wide setup: the only module that sets environment variables.

Libraries read their switches from the environment when they are imported, so the
switches are set once, at entry (the `rag` command, the chat app, the wiring for a
program that imports the library), before any of them loads:
- offline: no Hugging Face hub look-ups unless a download is explicitly allowed;
- no telemetry (Chroma's product telemetry);
- quiet: the libraries' own progress bars and advisory warnings would garble ours;
- caches inside the index folder: torch makes a compile-cache folder as soon as it is
  imported, and nothing may be written outside the index and models folders.
"""
from __future__ import annotations

import os
from pathlib import Path

_OFFLINE = "HF_HUB_OFFLINE"


def prepare_process(allow_download: bool = False) -> None:
    """Offline, no telemetry, quiet libraries. Idempotent; `allow_download` (the
    `--allow-download` flag or RAG_ALLOW_DOWNLOAD=1) leaves the hub reachable."""
    if allow_download or os.environ.get("RAG_ALLOW_DOWNLOAD") == "1":
        if os.environ.get(_OFFLINE) == "1":
            os.environ.pop(_OFFLINE)
    else:
        os.environ[_OFFLINE] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def keep_caches_in(index_dir: Path) -> None:
    """torch's compile cache inside the index folder, not in the temp directory."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(index_dir.absolute() / "cache" / "torch"))


def allow_model_download() -> None:
    """`rag models pull`, the one command that may go online: the hub reachable, with
    timeouts short enough that an unreachable one fails in seconds."""
    if os.environ.get(_OFFLINE) == "1":
        os.environ.pop(_OFFLINE)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "30")

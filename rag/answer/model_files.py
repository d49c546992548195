"""GGUF model files: find them in models/, read their metadata, download the default.

The default for laptops is Qwen2.5-1.5B-Instruct at Q4_K_M (about 1.1 GB): it
follows instructions and cites well for its size, has a 32k context, and reads a
prompt about twice as fast as a 3B model on a laptop's CPU, which is where the
wait goes. huggingface_hub is imported only to download.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rag.environment import allow_model_download
from rag.types.errors import Fix, RagError, Remedy

DEFAULT_REPO = "Qwen/Qwen2.5-1.5B-Instruct-GGUF"
DEFAULT_FILE = "qwen2.5-1.5b-instruct-q4_k_m.gguf"
GGUF_MAGIC = b"GGUF"


class ModelError(RagError):
    """A GGUF model is missing, unreadable or cannot be loaded."""


class DownloadError(RagError):
    """A model could not be downloaded (offline, or the hub refused)."""


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    size_bytes: int
    name: str
    architecture: str
    quantization: str
    parameters: int
    context_length: int
    has_chat_template: bool


def find_models(models_dir: Path) -> list[Path]:
    """GGUF files in `models_dir`, newest first."""
    if not models_dir.is_dir():
        return []
    files = [p for p in models_dir.iterdir() if p.suffix.lower() == ".gguf" and p.is_file()]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def check_gguf(path: Path) -> None:
    """A quick look before llama.cpp gets the file: it must exist and be a GGUF."""
    if not path.exists():
        raise ModelError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelError(f"{path}: is a folder; give the .gguf file inside it")
    size = path.stat().st_size
    if size == 0:
        raise ModelError(f"{path}: empty file, not a GGUF model")
    with open(path, "rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise ModelError(f"{path}: not a GGUF file (wrong magic bytes)")


def read_info(path: Path) -> ModelInfo:
    """Metadata from the GGUF header and tensor table (no weights are loaded)."""
    check_gguf(path)
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as exc:
        raise ModelError(f"{path}: unreadable GGUF ({type(exc).__name__}: {exc}); the file may be truncated") from None

    def field(key: str):
        f = reader.fields.get(key)
        if f is None or not f.data:
            return None
        value = f.parts[f.data[0]]
        if f.types and f.types[0] == gguf.GGUFValueType.STRING:
            return bytes(value).decode("utf-8", errors="replace")
        return value.tolist()[0] if hasattr(value, "tolist") else value

    arch = field("general.architecture") or "unknown"
    file_type = field("general.file_type")
    try:
        quant = gguf.LlamaFileType(file_type).name.replace("MOSTLY_", "") if file_type is not None else "unknown"
    except ValueError:
        quant = f"type {file_type}"
    params = sum(int(t.n_elements) for t in reader.tensors)
    return ModelInfo(
        path=path,
        size_bytes=path.stat().st_size,
        name=field("general.name") or path.stem,
        architecture=arch,
        quantization=quant,
        parameters=params,
        context_length=int(field(f"{arch}.context_length") or 0),
        has_chat_template=field("tokenizer.chat_template") is not None,
    )


def resolve_model_path(models_dir: Path, configured: str | None, default_name: str | None = None) -> Path:
    """The configured model (a path, or a file name in models/); else the default
    model's file (`default_name`) when it is in models/; else the newest there. The
    default is chosen by name, not by age: a test or a comparison that installs
    another model must not change what `rag chat` opens."""
    if configured:
        path = Path(configured).expanduser()
        if not path.exists() and (models_dir / configured).exists():
            path = models_dir / configured
        check_gguf(path)
        return path
    if default_name and (models_dir / default_name).is_file():
        check_gguf(models_dir / default_name)
        return models_dir / default_name
    found = find_models(models_dir)
    if not found:
        raise ModelError(f"no GGUF model in {models_dir}/", Remedy(Fix.INSTALL_MODEL, value=str(models_dir)))
    check_gguf(found[0])
    return found[0]


def _unreachable(url: str, timeout: float = 3.0) -> str | None:
    """Why `url`'s host cannot be reached now, or None when a connection opens."""
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def pull(models_dir: Path, repo: str = DEFAULT_REPO, filename: str = DEFAULT_FILE) -> Path:
    """Download a GGUF into `models_dir` with huggingface_hub; fail at once when offline."""
    models_dir.mkdir(parents=True, exist_ok=True)
    manual = (f"download {filename} from https://huggingface.co/{repo} on a connected machine "
              f"and put it in {models_dir}/")
    allow_model_download()  # `pull` is the one command that may go online
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    problem = _unreachable(endpoint)
    if problem:  # fail at once: the hub client would retry for half a minute
        raise DownloadError(f"offline: cannot reach {endpoint} ({problem}); {manual}")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise DownloadError(f"huggingface_hub is not installed; {manual}") from None
    try:
        path = hf_hub_download(repo_id=repo, filename=filename, local_dir=str(models_dir))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DownloadError(f"cannot download {repo}/{filename} ({type(exc).__name__}: {reason[:160]}); "
                            f"{manual}") from None
    return Path(path)

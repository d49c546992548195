"""What the CPU offers, what llama.cpp was built to use, and the one decision they make
together: whether llama.cpp may repack the model's weights into extra buffer types.

Why it matters: llama-cpp-python compiles llama.cpp with `-march=native`. On a CPU
with AMX (4th-generation Xeon and later) that compiles llama.cpp's AMX kernels, and
with extra buffer types on (llama.cpp's default) the weights are repacked into an AMX
buffer whose first decode segfaults (llama.cpp issue 20824, open; seen by us on a
Xeon with `amx_tile amx_int8 amx_bf16`). With extra buffer types off the same build
answers. Elsewhere they stay on, llama.cpp's default: the fix is as narrow as the
crash. (On an AMD EPYC with AVX-512, bench/model_runtime.py measured them on: about a
quarter faster generation, about 30 % slower prompt reading; see bench/RESULTS.md.)
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from rag.types.runtime import ExtraBuffers, ModelRuntime

# /proc/cpuinfo's names of the AMX extensions.
AMX_CPU_FLAGS = frozenset({"amx_tile", "amx_int8", "amx_bf16"})
# llama.cpp's system report names its compiled AMX kernels so.
AMX_BUILD_FEATURES = frozenset({"AMX_INT8", "AMX_TILE", "AMX_BF16"})
# The setting `extra_buffers`: decided here, or forced either way.
EXTRA_BUFFER_CHOICES = ("auto", "on", "off")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first processor's flags (every core of a machine reports the same); empty
    where there is no /proc/cpuinfo (not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return " ".join(value.split())
    except OSError:
        pass
    return ""


_FEATURE = re.compile(r"([A-Z][A-Z0-9_]*)\s*=\s*(\w+)")


def build_features(system_info: str) -> dict[str, str]:
    """llama.cpp's system report ("CPU : SSE3 = 1 | AVX2 = 1 | … | REPACK = 1 |") as
    {name: value}."""
    return dict(_FEATURE.findall(system_info))


def llama_system_info() -> str:
    """llama.cpp's own report of what it was built to use (loads the library, runs no model)."""
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def used_features(features: Mapping[str, str]) -> tuple[str, ...]:
    """The features that are on ("1"), in llama.cpp's order."""
    return tuple(name for name, value in features.items() if value not in ("0", ""))


def decide_extra_buffers(flags: frozenset[str], features: Mapping[str, str], setting: str = "auto") -> ExtraBuffers:
    """Off where the CPU has AMX or llama.cpp was built with its AMX kernels (either
    alone is enough: a build's report can be unreadable, and a machine's flags can be
    hidden by a hypervisor); on everywhere else, where the repacking only helps.
    `setting` "on" or "off" overrides the decision (rag.toml's `extra_buffers`)."""
    if setting == "on":
        return ExtraBuffers(True, "turned on by the setting extra_buffers")
    if setting == "off":
        return ExtraBuffers(False, "turned off by the setting extra_buffers")
    amx_cpu = sorted(flags & AMX_CPU_FLAGS)
    amx_build = sorted(name for name in AMX_BUILD_FEATURES if features.get(name, "0") not in ("0", ""))
    if amx_cpu or amx_build:
        found = ", ".join([f"the CPU has {' '.join(amx_cpu)}"] * bool(amx_cpu)
                          + [f"llama.cpp was built with {' '.join(amx_build)}"] * bool(amx_build))
        return ExtraBuffers(False, f"off because {found}: llama.cpp's AMX repacking crashes (llama.cpp issue 20824)")
    return ExtraBuffers(True, "llama.cpp's default; no AMX here")


def planned_runtime(extra_buffers: str = "auto", cpu: frozenset[str] | None = None,
                    isolated: bool = True) -> ModelRuntime:
    """What a model loaded now runs with: llama.cpp's build features, this CPU (or
    the flags `cpu` given) and the decision on extra buffers. Loads llama.cpp's
    library (a fraction of a second), no model: `rag status` asks it too."""
    features = build_features(llama_system_info())
    return ModelRuntime(cpu_name(), used_features(features),
                        decide_extra_buffers(cpu_flags() if cpu is None else cpu, features, extra_buffers),
                        isolated=isolated)

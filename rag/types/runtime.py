"""What ran the model: the CPU features llama.cpp uses and whether it repacks weights
into extra buffer types. Shown by `rag status` and the chat app's status line, so
that a person who reports a crash can say what ran."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtraBuffers:
    """Whether llama.cpp may put weights into extra buffer types (its repacked
    layouts: AVX2/AVX-512 interleaving, AMX tiles), and why."""

    on: bool
    reason: str


@dataclass(frozen=True)
class ModelRuntime:
    """The machine side of a loaded model. `features`: the CPU features llama.cpp was
    built to use (its own system report, e.g. AVX2, FMA, AMX_INT8, REPACK);
    `cpu`: the processor's name; `isolated`: the model runs in a process of its own,
    so that a crash in it cannot end the program."""

    cpu: str
    features: tuple[str, ...]
    extra_buffers: ExtraBuffers
    isolated: bool = False

    def short(self) -> str:
        """For a status bar: the widest SIMD llama.cpp uses, and the buffers ("AVX2 · extra buffers on")."""
        widest = next((f for f in _WIDEST_FIRST if f in self.features), "no SIMD")
        return f"{widest} · extra buffers {'on' if self.extra_buffers.on else 'off'}"

    def to_json(self) -> dict:
        return {"cpu": self.cpu, "features": list(self.features), "extra_buffers": self.extra_buffers.on,
                "extra_buffers_reason": self.extra_buffers.reason, "isolated": self.isolated}


# llama.cpp's names of its CPU features, the widest vectors first.
_WIDEST_FIRST = ("AMX_INT8", "AVX512_BF16", "AVX512_VNNI", "AVX512", "AVX_VNNI", "AVX2", "AVX", "SSE3",
                 "NEON", "SVE", "RISCV_V")


"""Whether llama.cpp may repack weights into extra buffer types, decided from the CPU's
flags and llama.cpp's own report of its build: off where AMX is (its repacking
segfaults there, llama.cpp issue 20824), on elsewhere. The flags are given to the
decision, so these run on any CPU; the last tests load a real GGUF and read the
parameters llama.cpp was given."""
from __future__ import annotations

import pytest

from rag.answer.cpu_features import build_features, cpu_flags, cpu_name, decide_extra_buffers, llama_system_info

# /proc/cpuinfo flags of the machines seen: an AMD EPYC (AVX2 and AVX-512, no AMX) and
# the 4th-generation Xeon where every model answer segfaulted.
EPYC = frozenset("fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi2 avx512f avx512bw avx512_vnni".split())
XEON_AMX = frozenset("fpu sse sse2 ssse3 avx avx2 fma f16c avx512f avx512bw avx512_vnni avx512_bf16 "
                     "amx_bf16 amx_tile amx_int8".split())
BUILD_AVX2 = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | OPENMP = 1 | "
              "REPACK = 1 | ")
BUILD_AMX = ("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | "
             "OPENMP = 1 | REPACK = 1 | ")


def test_llama_cpps_report_is_read_as_features():
    features = build_features(BUILD_AMX)
    assert features["AMX_INT8"] == "1" and features["AVX2"] == "1" and features["REPACK"] == "1"
    assert "CPU" not in features
    assert build_features("") == {}


def test_a_cpu_without_amx_keeps_extra_buffers():
    decision = decide_extra_buffers(EPYC, build_features(BUILD_AVX2))
    assert decision.on
    assert "AMX" in decision.reason


@pytest.mark.parametrize("flags, build", [
    (XEON_AMX, BUILD_AMX),  # the machine that crashed
    (XEON_AMX, BUILD_AVX2),  # a build without AMX kernels on an AMX machine: still off, to be safe
    (EPYC, BUILD_AMX),  # flags hidden by a hypervisor, but llama.cpp was built with AMX
    (frozenset({"amx_tile"}), ""),  # one AMX flag is enough, whatever the report
])
def test_amx_in_the_cpu_or_in_the_build_turns_extra_buffers_off(flags, build):
    decision = decide_extra_buffers(flags, build_features(build))
    assert not decision.on
    assert "AMX" in decision.reason and "20824" in decision.reason


def test_the_setting_overrides_the_decision_either_way():
    assert decide_extra_buffers(XEON_AMX, build_features(BUILD_AMX), "on").on
    assert not decide_extra_buffers(EPYC, build_features(BUILD_AVX2), "off").on
    assert "setting" in decide_extra_buffers(EPYC, {}, "off").reason


def test_the_flags_and_name_are_read_from_a_cpuinfo_file(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\n"
                       f"flags\t\t: {' '.join(sorted(XEON_AMX))}\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == XEON_AMX
    assert cpu_name(cpuinfo) == "Intel(R) Xeon(R) Platinum 8488C"
    assert cpu_flags(tmp_path / "absent") == frozenset() and cpu_name(tmp_path / "absent") == ""


def test_this_machine_is_read(tmp_path):
    """The real /proc/cpuinfo and llama.cpp's real report: flags and features are found."""
    assert "sse2" in cpu_flags() or "neon" in cpu_flags() or "asimd" in cpu_flags()
    assert build_features(llama_system_info())


@pytest.mark.parametrize("flags, expected", [(EPYC, True), (XEON_AMX, False)])
def test_the_model_is_loaded_with_the_decision(tiny_gguf, flags, expected):
    """The decision reaches llama.cpp: the parameters the model was loaded with carry it
    (the AMX flags given, so that this runs on a CPU without AMX; the tiny model loads
    either way here)."""
    from rag.answer.generate import LlamaCppGenerator

    generator = LlamaCppGenerator(tiny_gguf, n_ctx=256, cpu=flags)
    assert generator._llm.model_params.use_extra_bufts is expected
    assert generator.runtime.extra_buffers.on is expected
    assert "AVX2" in generator.runtime.features or "NEON" in generator.runtime.features
    # and the defaults are put back: a model loaded later without a decision gets llama.cpp's own
    import llama_cpp.llama_cpp as native

    assert native.llama_model_default_params().use_extra_bufts is True


def test_the_model_process_loads_with_this_machines_decision(tiny_gguf):
    """What the product runs: the runner process loads the model with the decision for
    this machine's real flags and build, and reports it."""
    from rag.answer.model_process import ModelProcess

    expected = decide_extra_buffers(cpu_flags(), build_features(llama_system_info()))
    process = ModelProcess(tiny_gguf, n_ctx=256)
    try:
        assert process.runtime is not None and process.runtime.isolated
        assert process.runtime.extra_buffers == expected
    finally:
        process.close()

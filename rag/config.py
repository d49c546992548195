"""One `Settings` object, built from defaults, a TOML file, the environment and flags.

It is passed in explicitly to whatever needs it; nothing reads it from a global.
Precedence, lowest first: defaults, `rag.toml` (or the file named by `RAG_CONFIG`),
`RAG_*` environment variables, command-line flags.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from rag.types.errors import ConfigError

DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path(".rag")
    chroma_url: str | None = None  # a Chroma server instead of the embedded store
    collection: str = "passages"
    embed_model: str | None = None  # None: the index's own model, else the default
    embed_batch_size: int = 16  # small, length-matched batches are fastest on CPU
    # "onnx" (ONNX Runtime) or "torch" (sentence-transformers): the same vectors; ONNX
    # starts in under a second against about eight (bench/RESULTS.md).
    embed_backend: str = "onnx"
    # "float32" or "int8" (ONNX Runtime only: about 1.45x the ingest rate, vectors at
    # cosine 0.993): None means the index's own, and for a new index int8 on ONNX, float32 on torch.
    embed_precision: str | None = None
    # A passage must fit the embedding model's window (256 word pieces for MiniLM,
    # special tokens included), so longer paragraphs are split at sentences.
    max_passage_tokens: int = 254
    # PDF, Word, web pages and e-books are read in worker processes (0: one fewer
    # than the cores, at most 4), each file within a time limit.
    read_workers: int = 0
    # The limit on a reader that makes no progress: each page read (a scan's OCR
    # pages above all) starts it again, so a long scan that progresses is read.
    read_timeout_s: float = 120.0
    # Pages without a text layer and image files are read by OCR (Tesseract), each
    # page within its own time limit; False keeps them out (--no-ocr).
    ocr: bool = True
    ocr_page_timeout_s: float = 60.0
    # A bigger file is skipped with a line naming this setting (--max-file-mb): files
    # are read whole, and one this size makes tens of thousands of passages.
    max_file_mb: float = 64.0
    k: int = 5
    # How many candidates each retriever contributes before fusion.
    candidates: int = 100
    fusion: str = "convex"  # "convex" (normalised score mix) or "rrf"
    dense_weight: float = 0.5  # convex: share of the dense score
    rrf_k: int = 60
    allow_download: bool = False  # may a hub model name be fetched when missing?
    # Answering.
    models_dir: Path = Path("models")
    model: str | None = None  # a GGUF path or a file name in models_dir; None: the newest there
    llm_url: str | None = None  # an OpenAI-compatible server instead of a local model
    # How long a model server may stay silent (to connect, to send the first token,
    # between tokens) before the answer is given up with a message.
    llm_timeout_s: float = 30.0
    n_ctx: int = 4096
    # May llama.cpp repack weights into extra buffer types? "auto": yes, except on a CPU
    # (or a build) with AMX, where that repacking crashes (rag/answer/cpu_features.py).
    extra_buffers: str = "auto"
    max_tokens: int = 256
    temperature: float = 0.1
    prompt_sentences: int = 5  # sentences of the sources that go into a model's prompt (bench/llm.py)
    # Each chosen sentence goes into the prompt with this many of its passage's
    # sentences either side: what "he" or "the resolution" refers to.
    prompt_neighbours: int = 1
    # A model under a billion parameters loses its way among many sources: it gets at
    # most this many (SmolLM2-135M: supported sentences 0.36 -> 0.54 on SQuAD, while the
    # expected answer stays in 0.78 of prompts against 0.82 with five; bench/RESULTS.md).
    small_model_prompt_sentences: int = 3
    # A local model writes under a grammar: cited sentences (at most this many) or the
    # refusal (rag/answer/shape.py). bench/real_answers.py measured it with real models.
    constrain_answers: bool = True
    # After a model of a billion parameters or more answers, it is asked in the answer's
    # own prompt (only the new words are read) whether one of its sources states the
    # answer; at or above this probability of "yes" the answer is confirmed. 0.5: where
    # the model says yes at least as often as no (not fitted; below it lay nearly every
    # answer the fresh check declines, bench/RESULTS.md); above 1, every answer gets the
    # fresh check.
    confirm_in_prompt_at: float = 0.5
    # Below that, it is shown the passages its answer cites, afresh, and asked whether
    # they answer exactly the question; below this probability of "yes" the answer is
    # declined (0 turns both checks off). Chosen on the SQuAD tuning articles
    # (bench/real_answers.py, bench/RESULTS.md).
    min_answer_confidence: float = 0.4
    # Where both readings lean to no (the fresh one below this, at or above the line
    # above), the answer is shown but its supported sentences are "?" unsure: it may
    # answer a neighbouring question. 0.5: where the model says no more often than yes
    # (not fitted; on held-out SQuAD questions it took the ✓ from wrong answers only,
    # bench/RESULTS.md). At or below `min_answer_confidence` it does nothing.
    sure_answer_confidence: float = 0.5
    # When such a model declines, it is asked whether the passages it was given answer
    # the question; at or above this probability of "yes" it writes again, an answer
    # required (above 1 turns this off). On the tuning questions the model declined,
    # answerable ones scored 0.67-0.95, impossible ones 0.33-0.71 (bench/RESULTS.md).
    answer_despite_refusal: float = 0.75
    # The reviewer re-reads up to this many of a model's supported sentences, each with
    # its key number or name blanked and filled again from the sources (rag/answer/cloze.py);
    # 0 turns it off. Only a local model of a billion parameters or more is asked.
    review_sentences: int = 3
    # A sentence whose citation the checker corrected, with no number or name to blank,
    # is asked about instead: does its new source state it? Below this probability of
    # "yes" it is unsure. 0.5: where the model says no more than yes (not fitted; asked
    # of every sentence, it did not separate right from wrong: bench/RESULTS.md).
    min_statement_confidence: float = 0.5
    answer_sentences: int = 3
    # Below this share of supported sentences (1.0: unless every claim is supported), a
    # model's answer comes with a warning and the extractive answer beside it; 0 turns
    # that off (bench/real_answers.py measured both).
    min_supported_share: float = 1.0
    # Grounding: when no retrieved sentence is this close to the question (cosine),
    # the documents do not cover it. Calibrated on eval/seed_questions.jsonl: the
    # answerable questions' best sentences score 0.50 and up, the unanswerable
    # ones' 0.36 and below (bench/RESULTS.md).
    min_similarity: float = 0.43
    # Where the best sentence is only weakly close (below `weak_similarity`), one
    # retrieved passage must also hold this share of the question's words, weighted
    # by rarity: a question about a neighbouring topic passes on similarity alone.
    # 0 turns the word signal off (rag/retrieve/coverage.py; bench/answer_quality.py).
    weak_similarity: float = 0.5
    min_term_coverage: float = 0.5
    # Decline when a name the question asks about is in none of the retrieved
    # passages ("The documents do not mention Xi Jinping."), and rank sentences that
    # hold the asked-for type of answer (a number for "how many") this much higher
    # (bench/answer_quality.py measured both).
    refuse_missing_names: bool = True
    answer_type_bonus: float = 0.05
    # Citation checking: a sentence that passes the hard rules (facts, negation) is
    # stated by what it cites when its calibrated support score reaches this. 0.5 is
    # the point fitted on WiCE's real claims; lower flags fewer correct sentences and
    # misses more wrong ones (the README's trade-off table, bench/fit_support.py).
    support_threshold: float = 0.5
    # Save each conversation in the index folder (history.sqlite3) so `rag chat`
    # reopens it; false (--no-history) keeps nothing on disk.
    history: bool = True

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "RAG_INDEX_DIR": ("index_dir", Path),
    "RAG_CHROMA_URL": ("chroma_url", str),
    "RAG_COLLECTION": ("collection", str),
    "RAG_EMBED_MODEL": ("embed_model", str),
    "RAG_EMBED_BACKEND": ("embed_backend", str),
    "RAG_EMBED_PRECISION": ("embed_precision", str),
    "RAG_MODEL": ("model", str),
    "RAG_LLM_URL": ("llm_url", str),
    "RAG_EXTRA_BUFFERS": ("extra_buffers", str),
    "RAG_MODELS_DIR": ("models_dir", Path),
    "RAG_ALLOW_DOWNLOAD": ("allow_download", lambda v: v.strip().lower() in {"1", "true", "yes"}),
    "RAG_HISTORY": ("history", lambda v: v.strip().lower() not in {"0", "false", "no", "off"}),
}


def _coerce(name: str, value: Any) -> Any:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    if name not in fields:
        raise ConfigError(f"unknown setting '{name}' (known: {', '.join(sorted(fields))})")
    default = getattr(Settings(), name)
    if name in ("index_dir", "models_dir"):
        return Path(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"setting '{name}' must be true or false, not {value!r}")
        return value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            raise ConfigError(f"setting '{name}' must be a number, not {value!r}") from None
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build Settings; `overrides` are flags (None values mean "not given")."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}

    path = config_file or (Path(environ["RAG_CONFIG"]) if environ.get("RAG_CONFIG") else Path("rag.toml"))
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config: {exc}") from None
        for key, value in data.items():
            values[key] = _coerce(key, value)
    elif config_file is not None or environ.get("RAG_CONFIG"):
        raise ConfigError(f"{path}: config file not found")

    for var, (name, convert) in _ENV.items():
        if environ.get(var):
            values[name] = convert(environ[var])

    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(name, value)

    settings = Settings(**values)
    if settings.embed_backend not in {"onnx", "torch"}:
        raise ConfigError(f"embed_backend must be 'onnx' or 'torch', not '{settings.embed_backend}'")
    if settings.embed_precision not in {None, "float32", "int8"}:
        raise ConfigError(f"embed_precision must be 'float32' or 'int8', not '{settings.embed_precision}'")
    if settings.extra_buffers not in {"auto", "on", "off"}:
        raise ConfigError(f"extra_buffers must be 'auto', 'on' or 'off', not '{settings.extra_buffers}'")
    if settings.fusion not in {"convex", "rrf"}:
        raise ConfigError(f"fusion must be 'convex' or 'rrf', not '{settings.fusion}'")
    if not 0.0 <= settings.dense_weight <= 1.0:
        raise ConfigError(f"dense_weight must lie between 0 and 1, not {settings.dense_weight}")
    if not 0.0 <= settings.support_threshold <= 1.0:
        raise ConfigError(f"support_threshold must lie between 0 and 1, not {settings.support_threshold}")
    for name in ("max_file_mb", "read_timeout_s", "llm_timeout_s", "ocr_page_timeout_s"):
        if not getattr(settings, name) > 0:
            raise ConfigError(f"{name} must be more than 0, not {getattr(settings, name)}")
    if settings.k < 1:
        raise ConfigError(f"k must be at least 1, not {settings.k}")
    return settings

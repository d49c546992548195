"""The embedding model run by ONNX Runtime: the same vectors as sentence-transformers,
without importing torch.

Loading sentence-transformers imports torch and transformers, about 8 s of every
`rag search` and `rag ask` on two cores; ONNX Runtime and the tokenizers library
load in under a second and embed as fast (bench/RESULTS.md, "Embedding backends").
The model is exported from the weights already on disk, once, the first time it
is used (torch is imported then, and only then), and the export is kept beside
the model, or in the models folder when the model's folder cannot be written.

Only what the exported graph reproduces exactly is accepted: a BERT-style
transformer followed by mean pooling (all-MiniLM-L6-v2 and most sentence
embedding models). Anything else is an EmbeddingModelError that names the torch
backend.

Two precisions. "float32" computes sentence-transformers' vectors. "int8" runs the
same graph with its matrix weights quantized to int8 per output channel (ONNX
Runtime's dynamic quantization), made from the float32 graph once on first use:
about 1.45x the passages per second on two AVX2 cores, vectors at cosine 0.993 to
the exact ones, SciFact nDCG@10 within 0.005 (bench/RESULTS.md). Its vectors
differ, so an index records the precision it was built with and is searched with
that precision only. Scores that were calibrated on exact vectors (the citation
checker, sentence selection) always use float32: `scoring_embedder()`.
"""
from __future__ import annotations

import json
import logging
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rag.embedding.base import NOT_CACHED_REMEDIES, ModelLocation, Progress, length_batches, resolve_model
from rag.embedding.torch_backend import load_sentence_transformer
from rag.types.errors import EmbeddingModelError, Fix, Remedy

Status = Callable[[str], None]  # a line for a person: what is happening that takes a while
# Bump when the export changes, so that older exports are made again. 2: eager
# attention and ONNX Runtime's BERT fusions (1.15x the passages per second of 1,
# whose scaled-dot-product attention exported with extra mask arithmetic).
EXPORT_FORMAT = 2
PRECISIONS = ("float32", "int8")


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (or another mean-pooled model) through ONNX Runtime, behind
    the same calls as the sentence-transformers embedder."""

    backend = "onnx"

    def __init__(self, name: str | None = None, allow_download: bool = False, batch_size: int = 16,
                 fallback_dir: Path = Path("models"), on_status: Status | None = None,
                 precision: str = "float32"):
        if precision not in PRECISIONS:
            raise EmbeddingModelError(f"unknown embedding precision '{precision}' (choose one of {', '.join(PRECISIONS)})")
        self.precision = precision
        self.location = resolve_model(name)
        self.name = self.location.name
        self.batch_size = batch_size
        folder = _model_folder(self.location, allow_download)
        pooling = _read_json(folder / "1_Pooling" / "config.json") if (folder / "1_Pooling").is_dir() else {}
        if pooling and not pooling.get("pooling_mode_mean_tokens"):
            raise EmbeddingModelError(f"{self.name} does not pool by mean, which the ONNX backend reproduces",
                                      Remedy(Fix.USE, "embed_backend", "torch"))
        config = _read_json(folder / "config.json")
        self.dimension = int(pooling.get("word_embedding_dimension") or config["hidden_size"])
        self.max_tokens = int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length", 256)
                              if (folder / "sentence_bert_config.json").exists() else 256)
        self._counter, self._encoder = _tokenizers(folder, self.max_tokens)
        self._specials = len(self._encoder.encode("").ids)  # [CLS] and [SEP], which batching counts apart
        self._folder, self._fallback_dir, self._on_status = folder, fallback_dir, on_status
        self._session = _session(_exported(folder, self.location, fallback_dir, on_status, precision))
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._exact: OnnxEmbedder | None = None if precision != "float32" else self

    def scoring_embedder(self) -> "OnnxEmbedder":
        """The float32 twin, for scores calibrated on exact vectors; loaded on first use."""
        if self._exact is None:
            twin = object.__new__(OnnxEmbedder)
            twin.__dict__.update(self.__dict__)
            twin.precision = "float32"
            twin._session = _session(_exported(self._folder, self.location, self._fallback_dir,
                                               self._on_status, "float32"))
            twin._exact = twin
            self._exact = twin
        return self._exact

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, without the [CLS]/[SEP] the model adds."""
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in length-matched batches
        (as the sentence-transformers embedder forms them). Each text is tokenized
        once: the batches are formed from the same encodings the model is fed."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encoded = self._encoder.encode_batch(list(texts))
        done = 0
        for idx in length_batches([len(e.ids) - self._specials for e in encoded], self.batch_size):
            out[idx] = self._forward([encoded[i] for i in idx])
            done += len(idx)
            if progress:
                progress(done, len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._forward(self._encoder.encode_batch([text]))[0]

    def _forward(self, encoded: list) -> np.ndarray:
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(f"cannot read {path}: {exc}") from None


def _model_folder(location: ModelLocation, allow_download: bool) -> Path:
    """The folder holding the model's files: itself, or its snapshot in the hub cache."""
    if not location.is_hub_name:
        return Path(location.path)
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(location.path, local_files_only=not allow_download))
    except Exception:
        if not allow_download:
            raise EmbeddingModelError(
                f"embedding model '{location.name}' is not in the local Hugging Face cache and downloads are off",
                *NOT_CACHED_REMEDIES) from None
        raise EmbeddingModelError(f"cannot download embedding model '{location.name}' "
                                  "(are you online, and is the name right?)") from None


def _tokenizers(folder: Path, max_tokens: int):
    """(counter, encoder): the model's own fast tokenizer, once without limits (to
    count, as passages are cut by count) and once as the model sees text: cut to
    its window, special tokens added, no padding (batches pad themselves)."""
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.exists():
        raise EmbeddingModelError(f"{folder} has no tokenizer.json, which the ONNX backend needs",
                                  Remedy(Fix.USE, "embed_backend", "torch"))
    counter = Tokenizer.from_file(str(path))
    counter.no_truncation()
    counter.no_padding()
    encoder = Tokenizer.from_file(str(path))
    encoder.no_padding()
    encoder.enable_truncation(max_tokens)
    return counter, encoder


def _exported(folder: Path, location: ModelLocation, fallback_dir: Path, on_status: Status | None,
              precision: str = "float32") -> Path:
    """The model's ONNX graph at `precision`, made on first use: beside the model
    when its folder may be written, else under `fallback_dir`/onnx. The int8 graph
    is quantized from the float32 one, which is exported first if missing."""
    file_name = f"model-v{EXPORT_FORMAT}{'' if precision == 'float32' else '-' + precision}.onnx"
    beside = folder / "onnx" / file_name
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in location.name)
    fallback = fallback_dir / "onnx" / slug / file_name
    for graph in (beside, fallback):
        if graph.exists():
            return graph
    for graph in (beside, fallback):
        try:
            graph.parent.mkdir(parents=True, exist_ok=True)
            probe = graph.parent / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError:
            continue
        if precision == "float32":
            if on_status:
                on_status(f"preparing the embedding model for ONNX Runtime (once; kept in {graph.parent}) …")
            _export(folder, location, graph)
        else:
            source = _exported(folder, location, fallback_dir, on_status, "float32")
            if on_status:
                on_status(f"quantizing the embedding model to {precision} (once; kept in {graph.parent}) …")
            _quantize(source, graph, location)
        return graph
    raise EmbeddingModelError(f"cannot write the ONNX export of {location.name} beside the model ({beside.parent}) "
                              f"or in {fallback.parent}", Remedy(Fix.USE, "embed_backend", "torch"))


def _export(folder: Path, location: ModelLocation, graph: Path) -> None:
    """Trace the transformer (not the pooling, done in numpy) to ONNX, written
    atomically: a half-written graph is never left to be loaded."""
    import torch

    model = load_sentence_transformer(ModelLocation(location.name, str(folder), False), allow_download=False)
    transformer = model[0].auto_model.eval()
    # Eager attention traces to the plain MatMul/Softmax pattern that ONNX Runtime
    # runs fastest on CPU; scaled-dot-product attention adds mask arithmetic per layer.
    if hasattr(transformer, "set_attn_implementation"):
        transformer.set_attn_implementation("eager")
    else:  # pragma: no cover - older transformers
        transformer.config._attn_implementation = "eager"

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    partial = graph.with_suffix(f".partial-{os.getpid()}")
    try:
        # The tracer warns about branches on shapes (padding checks that never fire for
        # our inputs, whose mask always matches them): noise for a person.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(LastHiddenState(transformer), (sample, sample, torch.zeros_like(sample)), str(partial),
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]},
                              opset_version=17, dynamo=False)
        _fuse(partial, transformer.config)
        os.replace(partial, graph)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise EmbeddingModelError(f"cannot export {location.name} to ONNX ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else ''})", Remedy(Fix.USE, "embed_backend", "torch")) from None


def _fuse(graph: Path, config) -> None:
    """ONNX Runtime's offline BERT fusions (bias + GELU, skip + layer norm), in place.
    They do not change the arithmetic; a model they do not fit keeps its plain graph."""
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        with _quiet_logging():
            fused = optimize_model(str(graph), model_type="bert", num_heads=int(config.num_attention_heads),
                                   hidden_size=int(config.hidden_size))
    except Exception:
        return
    fused.save_model_to_file(str(graph))


@contextmanager
def _quiet_logging():
    """ONNX Runtime's tools log advice (pre-process first, fusion counts) that is
    not a person's business; only errors get through while they run."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _quantize(source: Path, graph: Path, location: ModelLocation) -> None:
    """int8 weights per output channel, activations quantized as they come (dynamic):
    no calibration data needed. Per channel keeps the vectors at cosine 0.993 to the
    exact ones, where one scale per tensor gives 0.94 (bench/embed_backends.py)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = graph.with_suffix(f".partial-{os.getpid()}")
    try:
        with _quiet_logging():
            quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(partial, graph)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise EmbeddingModelError(f"cannot quantize {location.name} to int8 ({type(exc).__name__})",
                                  Remedy(Fix.USE, "embed_precision", "float32")) from None


def _session(graph: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initialisers are not a person's business
    try:
        return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise EmbeddingModelError(f"cannot load {graph} ({str(exc).splitlines()[0]}); delete it to export "
                                  "it again") from None

"""Write a tiny llama-architecture GGUF with random weights and a byte vocabulary.

It loads, streams and obeys grammars in llama-cpp-python like any chat model, in
half a megabyte, so the generation path can be tested for real with no download.
Its text is random: tests constrain it with a grammar where they need a shape.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def write_tiny_gguf(path: Path, n_ctx: int = 2048, seed: int = 0, n_layers: int = 2, n_embd: int = 64,
                    n_ff: int = 128, n_head: int = 4, name: str = "tiny-test-llama") -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    tokens = [b"<unk>", b"<s>", b"</s>"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    n_vocab = len(tokens)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n_vocab)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHAT_TEMPLATE)

    def tensor(name: str, *shape: int, scale: float = 0.02) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    tensor("token_embd.weight", n_vocab, n_embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    tensor("output.weight", n_vocab, n_embd)
    for i in range(n_layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for part in ("q", "k", "v", "output"):
            tensor(f"blk.{i}.attn_{part}.weight", n_embd, n_embd)
        tensor(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        tensor(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        tensor(f"blk.{i}.ffn_down.weight", n_embd, n_ff)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@dataclass(frozen=True)
class Shape:
    """The dimensions that set a model's speed (weights are random: speed does not
    depend on their values)."""

    name: str
    n_vocab: int
    n_embd: int
    n_layers: int
    n_head: int
    n_head_kv: int
    n_ff: int
    rope_theta: float = 500000.0


LLAMA_3_2_1B = Shape("synthetic Llama-3.2-1B shapes", 128256, 2048, 16, 32, 8, 8192)


def write_synthetic_gguf(path: Path, shape: Shape = LLAMA_3_2_1B, n_ctx: int = 8192, seed: int = 0) -> Path:
    """A GGUF with a real model's dimensions at Q8_0 and random weights, for speed
    benchmarks. Its tokenizer is all-MiniLM-L6-v2's WordPiece vocabulary (padded to
    the model's vocabulary size), so prompts cost a realistic number of tokens
    (about 1.3 per English word) instead of one per byte."""
    import gguf
    from gguf.quants import quantize

    from rag.embedding.base import resolve_model

    vocab_file = Path(resolve_model(None).path) / "vocab.txt"
    words = vocab_file.read_text(encoding="utf-8").splitlines()
    # llama.cpp's WordPiece vocabulary marks word starts with "▁" and writes
    # continuations ("##ing") bare, as its BERT converter does.
    tokens = [(w if (w.startswith("[") and w.endswith("]")) else w[2:] if w.startswith("##") else "▁" + w)
              .encode("utf-8") for w in words]
    tokens += [f"[unused-pad-{i}]".encode() for i in range(shape.n_vocab - len(tokens))]
    types = [gguf.TokenType.CONTROL if w.startswith("[") and w.endswith("]") else gguf.TokenType.NORMAL
             for w in words] + [gguf.TokenType.UNUSED] * (shape.n_vocab - len(words))

    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(shape.name)
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layers)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_rope_dimension_count(shape.n_embd // shape.n_head)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_tokenizer_model("bert")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_unk_token_id(words.index("[UNK]"))
    writer.add_bos_token_id(words.index("[CLS]"))
    writer.add_eos_token_id(words.index("[SEP]"))
    writer.add_pad_token_id(words.index("[PAD]"))
    writer.add_chat_template(CHAT_TEMPLATE)

    def q8(name: str, rows: int, cols: int) -> None:
        data = (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02)
        writer.add_tensor(name, quantize(data, gguf.GGMLQuantizationType.Q8_0),
                          raw_dtype=gguf.GGMLQuantizationType.Q8_0)

    head_dim = shape.n_embd // shape.n_head
    q8("token_embd.weight", shape.n_vocab, shape.n_embd)  # tied: also the output layer
    writer.add_tensor("output_norm.weight", np.ones(shape.n_embd, dtype=np.float32))
    for i in range(shape.n_layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(shape.n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(shape.n_embd, dtype=np.float32))
        q8(f"blk.{i}.attn_q.weight", shape.n_embd, shape.n_embd)
        q8(f"blk.{i}.attn_k.weight", shape.n_head_kv * head_dim, shape.n_embd)
        q8(f"blk.{i}.attn_v.weight", shape.n_head_kv * head_dim, shape.n_embd)
        q8(f"blk.{i}.attn_output.weight", shape.n_embd, shape.n_embd)
        q8(f"blk.{i}.ffn_gate.weight", shape.n_ff, shape.n_embd)
        q8(f"blk.{i}.ffn_up.weight", shape.n_ff, shape.n_embd)
        q8(f"blk.{i}.ffn_down.weight", shape.n_embd, shape.n_ff)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path

"""Passages and questions into vectors: the embedder protocol, the ONNX Runtime and torch backends, a cache."""

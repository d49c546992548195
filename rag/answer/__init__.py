"""Passages into an answer: the assistant, the prompt, the generators (llama.cpp, OpenAI-compatible), extractive answers, the answer's shape, model files."""

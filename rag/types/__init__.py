"""Plain data that flows between modules, and the library's errors, by domain:

- `rag.types.corpus`: passages, documents, retrieval hits, ingest reports;
- `rag.types.citations`: verdicts, answer sentences, evidence, check reports;
- `rag.types.answers`: numbered sources, answers, conversation turns;
- `rag.types.errors`: `RagError` and its children.

No I/O and no heavy imports, so any module (and `rag --help`) imports them for free.
"""

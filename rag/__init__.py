"""rag: a local, offline question-answering assistant over your documents.

Importing the package is cheap: the heavy libraries (torch, sentence-transformers,
chromadb, bm25s) load inside the functions that need them.
"""

__version__ = "0.1.0"

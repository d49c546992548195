"""What an ingest leaves on disk and how it is read: the manifest, Chroma, BM25, lookup by name."""

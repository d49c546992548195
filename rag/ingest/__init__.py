"""Files into passages: discovery, readers, paragraphs into passages, bylines, the reading pool, the all-or-nothing ingest."""

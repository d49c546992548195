"""A question into passages: question analysis, scope, hybrid search, the coverage gate, sentence selection."""

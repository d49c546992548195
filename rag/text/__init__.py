"""Text utilities every stage uses: sentences, words, terminal-safe text."""

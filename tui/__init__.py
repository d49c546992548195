"""The Textual chat app (arrives with the TUI issue; `rag chat` is a prompt loop until then)."""

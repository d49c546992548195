"""Words and documents for people: shared phrasing, Markdown briefings."""

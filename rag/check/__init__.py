"""Is each sentence stated by the passage it cites: parsing, facts, the support score, the checker."""

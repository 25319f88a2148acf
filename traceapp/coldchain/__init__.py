"""Cold chain: verdicts over temperature readings, logger files, charts (pure; imports no domain)."""

"""Watchlists: analysts' saved lists of job IDs, and the live pages that show them."""

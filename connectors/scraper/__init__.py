"""Competitor page scraping: polite (robots.txt, per-domain rate and concurrency, honest user agent), safe (no
private addresses unless allowed, size limits), and extraction-first (schema.org JSON-LD / microdata, then CSS rules)."""

"""Local eBay sandbox marketplace (see app.py)."""

"""Listing copy and listing completeness, per marketplace: length and character rules for title, bullets,
description and keywords (a validator and a fitter), and required attributes per product type / category
checked against the schema or aspect list the marketplace publishes. Pure: schemas come in as arguments."""

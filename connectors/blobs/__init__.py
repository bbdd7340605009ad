"""Blob store port for uploads and images: a local directory (the default) and an S3-compatible bucket, both
with put / get / exists / delete / list-by-prefix and signed, expiring GET URLs. Bytes never travel through
Temporal payloads (2 MB limit): workflows pass keys."""

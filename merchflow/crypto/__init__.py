"""Encryption at rest and in Temporal: one AES-GCM keyring (rotation by key id) and the payload codec built on it."""

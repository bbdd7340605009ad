"""Image ingest activities' building blocks: Pillow work on uploaded images and the attribute extraction.
CPU-heavy functions here are sync, to run in a thread-pool activity."""

"""Worker processes: one Temporal worker per task queue, built from the feature registries."""

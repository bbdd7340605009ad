"""Nightly repricing (issue 6): the shell around domain.pricing - reading a batch's facts, writing proposals and
bulk decisions, acting on approved prices per listing, training the demand model, schedules and demo data."""

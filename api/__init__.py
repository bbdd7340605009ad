"""Thin REST shell: validate, build an input, start / signal / update / query a workflow or read the DB."""

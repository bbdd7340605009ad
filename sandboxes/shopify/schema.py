"""The subset of the Admin GraphQL 2025-01 schema the sandbox executes, as SDL (admin_subset_2025-01.graphql).

Every type, field, argument and enum value here exists with the same name and type in the official introspection
(`admin_schema_2025-01.json.gz`); tests check that, so documents valid here are valid against the real API. The
sandbox needs no spec files at run time.
"""

from __future__ import annotations

import functools
from pathlib import Path

from graphql import GraphQLSchema, build_schema

API_VERSION = "2025-01"

SDL = (Path(__file__).with_name("admin_subset_2025-01.graphql")).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def subset_schema() -> GraphQLSchema:
    """A fresh schema object per process; resolvers are attached by the sandbox (see resolvers.attach)."""
    return build_schema(SDL)

"""The structured output every provider must return, validated with pydantic, and its JSON Schema in the
strict form OpenAI's `response_format` and Anthropic's tool `input_schema` both accept (every property
required, nullable ones typed as null-or-X, no additional properties)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NamedValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    value: str = Field(min_length=1, max_length=200)


class LlmDraftOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=300)
    bullets: list[str] = Field(max_length=10)
    description: str = Field(max_length=6000)
    keywords: list[str] = Field(max_length=40)
    product_type: str | None
    brand: str | None
    colour: str | None
    material: str | None
    other_attributes: list[NamedValue] = Field(max_length=30)
    confidence: float = Field(ge=0.0, le=1.0)


TOOL_NAME = "record_listing_draft"
SCHEMA_NAME = "listing_draft"


def _strict(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _strict(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        out = {
            k: (
                {name: _strict(sub, defs) for name, sub in v.items()}
                if k == "properties"
                else _strict(v, defs)
            )
            for k, v in node.items()
            if k not in ("title", "default", "$defs")
        }
        # length limits stay in the pydantic check: strict schemas reject some of these keywords
        for k in ("maxLength", "minLength", "maxItems", "minimum", "maximum"):
            out.pop(k, None)
        if out.get("type") == "object":
            out["required"] = list(out.get("properties", {}))
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v, defs) for v in node]
    return node


def output_json_schema() -> dict[str, Any]:
    raw = LlmDraftOutput.model_json_schema()
    return _strict(copy.deepcopy(raw), raw.get("$defs", {}))

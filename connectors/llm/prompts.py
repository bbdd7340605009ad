"""Versioned prompt files and their rendering.

A prompt lives in `prompts/<name>.v<N>.md`; its version (`<name>.v<N>`) is part of every cache key and of
every recorded call, so changing the wording means adding a new file, never editing an old one.

Untrusted text (OCR, marketplace and scraped text, seller notes) is never spliced into the instructions: it
is serialised as JSON inside one `<untrusted_data>` block appended to the user message, with `<`, `>` and
`&` escaped so the text cannot close the block and speak as the instructions.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from pydantic import BaseModel

from domain.ingest.attributes import best_by_name
from domain.ingest.draft import DraftRequest

DEFAULT_PROMPT = "listing_draft"
DATA_OPEN, DATA_CLOSE = "<untrusted_data>", "</untrusted_data>"
_SPLIT = "=== USER ==="
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
_VERSIONED = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<n>\d+)\.md$")


class Prompt(BaseModel):
    version: str  # "listing_draft.v1"
    system: str
    user: str


class RenderedPrompt(BaseModel):
    version: str
    system: str
    user_text: str  # the instruction line(s) + the quoted data block
    data: dict[str, Any]


@functools.cache
def load_prompt(name: str = DEFAULT_PROMPT) -> Prompt:
    """The highest version of a prompt shipped with the package."""
    folder = resources.files("connectors.llm") / "prompts"
    versions = []
    for entry in folder.iterdir():
        m = _VERSIONED.match(entry.name)
        if m and m["name"] == name:
            versions.append((int(m["n"]), entry))
    if not versions:
        raise FileNotFoundError(f"no prompt file {name}.v<N>.md in connectors/llm/prompts")
    n, entry = max(versions, key=lambda v: v[0])
    text = _COMMENT.sub("", entry.read_text(encoding="utf-8"))
    system, _, user = text.partition(_SPLIT)
    if not user.strip():
        raise ValueError(f"{entry.name} has no '{_SPLIT}' line")
    return Prompt(version=f"{name}.v{n}", system=system.strip(), user=user.strip())


def quote_data(data: dict[str, Any]) -> str:
    """JSON with the characters that could end the block (or open a tag) escaped."""
    raw = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    escaped = raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f"{DATA_OPEN}\n{escaped}\n{DATA_CLOSE}"


def prompt_data(request: DraftRequest) -> dict[str, Any]:
    best = best_by_name(request.attributes)
    return {
        "ocr_text": request.ocr_lines[:80],
        "attributes": [
            {"name": a.name, "value": a.value, "confidence": a.confidence, "source": a.source}
            for a in sorted(best.values(), key=lambda a: a.name)
        ],
        "seller_hints": dict(sorted(request.hints.items())),
    }


def render(request: DraftRequest, prompt: Prompt | None = None) -> RenderedPrompt:
    p = prompt or load_prompt()
    data = prompt_data(request)
    instruction = p.user.format(
        language=request.language, marketplaces=", ".join(request.marketplaces) or "all four"
    )
    return RenderedPrompt(
        version=p.version, system=p.system, user_text=f"{instruction}\n\n{quote_data(data)}", data=data
    )

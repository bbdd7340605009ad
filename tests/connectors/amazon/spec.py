"""Contract checking against the SP-API models in shared/specs/amazon-sp-api (read in place, never copied).

openapi-core does not read Swagger 2.0, so requests and responses are checked here with jsonschema: an operation is
found by method + path template; path and query parameters are checked against their Swagger parameter objects
(type, enum, min/max, maxItems of comma-separated arrays; unknown query parameters are violations); bodies and
responses against the operation's schema with the spec's `definitions` as the $ref root (Swagger 2.0 schemas are a
JSON Schema draft-4 subset). Feed documents are checked against listings-feed-schema-v2.json.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema

SWAGGER_FILES = (
    "listingsItems_2021-08-01.json",
    "feeds_2021-06-30.json",
    "fbaInventory.json",
    "productPricingV0.json",
    "productPricing_2022-05-01.json",
    "productFeesV0.json",
    "catalogItems_2022-04-01.json",
)
# Our own description of the JSON_LISTINGS_FEED processing report (v2), from Amazon's public documentation; its
# items are validated separately against the Listings Items `Item` definition.
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["header", "issues", "summary"],
    "properties": {
        "header": {
            "type": "object",
            "required": ["sellerId", "version", "feedId"],
            "properties": {
                "sellerId": {"type": "string"},
                "version": {"const": "2.0"},
                "feedId": {"type": "string"},
            },
        },
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "message"],
                "properties": {
                    "messageId": {"type": "integer", "minimum": 1},
                    "code": {"type": "string", "minLength": 1},
                    "severity": {"enum": ["ERROR", "WARNING", "INFO"]},
                    "message": {"type": "string", "minLength": 1},
                    "attributeName": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
        "summary": {
            "type": "object",
            "required": ["errors", "warnings", "messagesProcessed", "messagesAccepted", "messagesInvalid"],
            "properties": {
                k: {"type": "integer", "minimum": 0}
                for k in ("errors", "warnings", "messagesProcessed", "messagesAccepted", "messagesInvalid")
            },
        },
        "items": {"type": "array"},
    },
    "additionalProperties": False,
}


@dataclass
class Operation:
    spec: str
    method: str
    template: str
    pattern: re.Pattern[str]
    op: dict[str, Any]
    params: list[dict[str, Any]]

    @property
    def operation_id(self) -> str:
        return str(self.op.get("operationId"))


class SpApiContract:
    def __init__(self, spec_dir: Path) -> None:
        self.dir = spec_dir
        self.docs: dict[str, dict[str, Any]] = {}
        self.operations: list[Operation] = []
        self._schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for name in SWAGGER_FILES:
            doc = json.loads((spec_dir / name).read_text())
            self.docs[name] = doc
            for template, item in doc["paths"].items():
                shared = [p for p in item.get("parameters", []) if isinstance(p, dict)]
                for method, op in item.items():
                    if method not in ("get", "put", "post", "patch", "delete") or not isinstance(op, dict):
                        continue
                    regex = "^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$"
                    self.operations.append(
                        Operation(
                            name,
                            method.upper(),
                            template,
                            re.compile(regex),
                            op,
                            shared + op.get("parameters", []),
                        )
                    )
        self.feed_schema = json.loads((spec_dir / "listings-feed-schema-v2.json").read_text())
        self.notification_schemas = {
            "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": json.loads(
                (spec_dir / "ListingsItemMfnQuantityChange.json").read_text()
            ),
            "ANY_OFFER_CHANGED": json.loads((spec_dir / "AnyOfferChangedNotification.json").read_text()),
        }

    # ---- lookup ---------------------------------------------------------------------------------------------------
    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        matches = []
        for op in self.operations:
            if op.method != method:
                continue
            m = op.pattern.match(path)
            if m:
                names = re.findall(r"\{([^}]+)\}", op.template)
                matches.append((op, {n: unquote(v) for n, v in zip(names, m.groups(), strict=True)}))
        # the most literal template wins (/feeds/{id} vs /documents/{id} never clash, but be deterministic)
        matches.sort(key=lambda t: -len(re.sub(r"\{[^}]+\}", "", t[0].template)))
        return matches[0] if matches else None

    def schema(self, op: Operation, schema: dict[str, Any]) -> dict[str, Any]:
        key = (op.spec, json.dumps(schema, sort_keys=True))
        if key not in self._schemas:  # same dict object each time, so its compiled validator is reused
            self._schemas[key] = {**schema, "definitions": self.docs[op.spec].get("definitions", {})}
        return self._schemas[key]

    def operation_by_id(self, operation_id: str) -> Operation:
        return next(o for o in self.operations if o.operation_id == operation_id)

    # ---- checks ---------------------------------------------------------------------------------------------------
    def check_request(self, op: Operation, path_params: dict[str, str], url: str, body: bytes) -> list[str]:
        errors: list[str] = []
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            query.setdefault(k, []).append(v)
        known = set()
        for p in op.params:
            name, where = p["name"], p["in"]
            known.add(name)
            if where == "path":
                errors += _check_value(name, path_params.get(name), p)
            elif where == "query":
                values = query.get(name)
                if values is None:
                    if p.get("required"):
                        errors.append(f"missing required query parameter {name}")
                    continue
                if len(values) > 1:
                    errors.append(f"query parameter {name} repeated (SP-API expects comma-separated values)")
                errors += _check_value(name, values[0], p)
            elif where == "body":
                if not body:
                    if p.get("required"):
                        errors.append("missing required body")
                    continue
                try:
                    doc = json.loads(body)
                except ValueError:
                    errors.append("body is not JSON")
                    continue
                errors += _validate(doc, self.schema(op, p["schema"]), "request body")
        errors += [f"query parameter {k} is not in the spec" for k in query if k not in known]
        return [f"{op.operation_id}: {e}" for e in errors]

    def check_response(self, op: Operation, status: int, body: bytes) -> list[str]:
        responses = op.op.get("responses", {})
        declared = responses.get(str(status)) or responses.get("default")
        if declared is None:
            return [f"{op.operation_id}: status {status} is not declared in the spec"]
        if "schema" not in declared:
            return []
        try:
            doc = json.loads(body)
        except ValueError:
            return [f"{op.operation_id}: {status} response is not JSON"]
        return [
            f"{op.operation_id} {status}: {e}"
            for e in _validate(doc, self.schema(op, declared["schema"]), "response")
        ]

    def check_feed_document(self, body: bytes) -> list[str]:
        return _validate(json.loads(body), self.feed_schema, "feed document", draft7=True)

    def check_report(self, body: bytes) -> list[str]:
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        doc = json.loads(body)
        errors = _validate(doc, REPORT_SCHEMA, "processing report", draft7=True)
        item_schema = self.schema(self.operation_by_id("getListingsItem"), {"$ref": "#/definitions/Item"})
        for item in doc.get("items") or []:
            errors += _validate(item, item_schema, "processing report item")
        return errors

    def check_notification(self, doc: dict[str, Any]) -> list[str]:
        schema = self.notification_schemas.get(doc.get("NotificationType", ""))
        if schema is None:
            return []
        return _validate(doc, schema, "notification", draft7=True)


def _check_value(name: str, raw: str | None, p: dict[str, Any]) -> list[str]:
    if raw is None:
        return [f"missing {p['in']} parameter {name}"] if p.get("required") else []
    kind = p.get("type", "string")
    if kind == "array":
        items = raw.split(",") if p.get("collectionFormat", "csv") == "csv" else [raw]
        errs = []
        if "maxItems" in p and len(items) > p["maxItems"]:
            errs.append(f"{name} has {len(items)} items, more than {p['maxItems']}")
        if "minItems" in p and len(items) < p["minItems"]:
            errs.append(f"{name} has fewer than {p['minItems']} items")
        for item in items:
            errs += _check_value(name, item, {**p.get("items", {}), "in": p["in"]})
        return errs
    if kind == "integer":
        try:
            n = int(raw)
        except ValueError:
            return [f"{name}={raw!r} is not an integer"]
        if "maximum" in p and n > p["maximum"]:
            return [f"{name}={n} above maximum {p['maximum']}"]
        if "minimum" in p and n < p["minimum"]:
            return [f"{name}={n} below minimum {p['minimum']}"]
        return []
    if kind == "boolean":
        return [] if raw in ("true", "false") else [f"{name}={raw!r} is not a boolean"]
    if "enum" in p and raw not in p["enum"]:
        return [f"{name}={raw!r} not in {p['enum']}"]
    if p.get("format") == "date-time":
        try:
            datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return [f"{name}={raw!r} is not an ISO 8601 date-time"]
    return []


_VALIDATORS: dict[tuple[int, bool], Any] = {}


def _validate(doc: Any, schema: dict[str, Any], what: str, *, draft7: bool = False) -> list[str]:
    validator = _VALIDATORS.get((id(schema), draft7))
    if validator is None:
        cls = jsonschema.Draft7Validator if draft7 else jsonschema.Draft4Validator
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        _VALIDATORS[(id(schema), draft7)] = validator
    return [
        f"{what} at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
        for e in validator.iter_errors(doc)
    ]

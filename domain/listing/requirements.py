"""Required attributes per marketplace category, checked against what the marketplace publishes:

- Amazon: the product type definition's JSON Schema (`getDefinitionsProductType` -> schema document; draft
  2019-09 plus Amazon's own keywords, of which `maxUtf8ByteLength` / `minUtf8ByteLength` are checked here).
  Conditional requirements (`allOf` / `if` / `then`) are reported like plain ones.
- eBay: the category's item aspects (Taxonomy API `getItemAspectsForCategory`): `aspectRequired`,
  `aspectUsage` RECOMMENDED, `aspectMode` SELECTION_ONLY with its `aspectValues`, `itemToAspectCardinality`,
  `aspectMaxLength`, `aspectDataType` NUMBER.

The connectors fetch the documents; this module only reads them. Every gap is named so the approver (or
the LLM's second pass) knows exactly what to fill in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from jsonschema import Draft201909Validator, validators
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel

GapKind = Literal["missing", "invalid", "recommended"]


class RequirementGap(BaseModel):
    attribute: str  # the marketplace's own name: "item_name", "Brand", "color[0].value"
    kind: GapKind
    message: str


class RequirementReport(BaseModel):
    marketplace: str
    category: str
    gaps: list[RequirementGap]

    @property
    def complete(self) -> bool:
        """Nothing required is missing or invalid (recommended gaps do not block publishing)."""
        return not any(g.kind != "recommended" for g in self.gaps)

    @property
    def missing(self) -> list[str]:
        return [g.attribute for g in self.gaps if g.kind == "missing"]


def _utf8_bytes(kind: str) -> Any:
    def check(
        validator: Any, limit: int, instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        if not isinstance(instance, str):
            return
        n = len(instance.encode("utf-8"))
        if (kind == "max" and n > limit) or (kind == "min" and n < limit):
            yield ValidationError(
                f"is {n} bytes long; {'at most' if kind == 'max' else 'at least'} {limit} bytes"
            )

    return check


_AmazonValidator = validators.extend(
    Draft201909Validator,
    {"maxUtf8ByteLength": _utf8_bytes("max"), "minUtf8ByteLength": _utf8_bytes("min")},
)


def _path(parts: Sequence[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def check_amazon_product_type(
    schema: Mapping[str, Any], attributes: Mapping[str, Any], *, product_type: str
) -> RequirementReport:
    """`attributes` in the Listings Items API shape: {"item_name": [{"value": ..., "marketplace_id": ...}]}."""
    validator = _AmazonValidator(dict(schema))
    gaps: list[RequirementGap] = []
    seen: set[tuple[str, str]] = set()
    for err in sorted(validator.iter_errors(dict(attributes)), key=lambda e: list(e.absolute_path)):
        where = _path(list(err.absolute_path))
        if err.validator == "required":
            present = set(err.instance) if isinstance(err.instance, dict) else set()
            for name in err.validator_value:
                if name in present:
                    continue
                full = f"{where}.{name}" if where else name
                if ("missing", full) not in seen:
                    seen.add(("missing", full))
                    gaps.append(
                        RequirementGap(
                            attribute=full, kind="missing", message=f"{full} is required for {product_type}"
                        )
                    )
        elif err.validator in ("allOf", "anyOf", "oneOf", "if", "then"):
            continue  # the concrete failures inside are reported on their own
        else:
            key = ("invalid", f"{where}:{err.message}")
            if key not in seen:
                seen.add(key)
                gaps.append(
                    RequirementGap(
                        attribute=where or "(document)", kind="invalid", message=f"{where}: {err.message}"
                    )
                )
    return RequirementReport(marketplace="amazon", category=product_type, gaps=gaps)


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", "."))
    except ValueError:
        return False
    return True


def check_ebay_aspects(
    aspects_doc: Mapping[str, Any], values: Mapping[str, Sequence[str]], *, category_id: str
) -> RequirementReport:
    """`values`: item specifics as eBay takes them ({"Brand": ["ACME"], ...}); names match case-insensitively."""
    given = {k.strip().lower(): [v for v in vs if str(v).strip()] for k, vs in values.items()}
    gaps: list[RequirementGap] = []
    for aspect in aspects_doc.get("aspects") or []:
        name = aspect.get("localizedAspectName", "")
        c = aspect.get("aspectConstraint") or {}
        vals = given.get(name.lower(), [])
        if not vals:
            if c.get("aspectRequired"):
                gaps.append(
                    RequirementGap(
                        attribute=name,
                        kind="missing",
                        message=f"{name} is required in category {category_id}",
                    )
                )
            elif c.get("aspectUsage") == "RECOMMENDED":
                gaps.append(
                    RequirementGap(
                        attribute=name,
                        kind="recommended",
                        message=f"{name} is recommended in category {category_id}",
                    )
                )
            continue
        if c.get("itemToAspectCardinality", "SINGLE") == "SINGLE" and len(vals) > 1:
            gaps.append(
                RequirementGap(
                    attribute=name, kind="invalid", message=f"{name} takes one value, got {len(vals)}"
                )
            )
        allowed = {str(v.get("localizedValue", "")).lower() for v in aspect.get("aspectValues") or []}
        max_len = c.get("aspectMaxLength")
        for v in vals:
            if c.get("aspectMode") == "SELECTION_ONLY" and allowed and v.lower() not in allowed:
                gaps.append(
                    RequirementGap(
                        attribute=name, kind="invalid", message=f"{name} {v!r} is not one of eBay's values"
                    )
                )
            if max_len and len(v) > int(max_len):
                gaps.append(
                    RequirementGap(
                        attribute=name, kind="invalid", message=f"{name} is longer than {max_len} characters"
                    )
                )
            if c.get("aspectDataType") == "NUMBER" and not _is_number(v):
                gaps.append(
                    RequirementGap(
                        attribute=name, kind="invalid", message=f"{name} must be a number, got {v!r}"
                    )
                )
    return RequirementReport(marketplace="ebay", category=category_id, gaps=gaps)

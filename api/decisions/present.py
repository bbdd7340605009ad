"""A decision as the approver pages show it: money with its currency, changes side by side, the expected effect and
the history as sentences and lists (never JSON or ISO strings), evidence links only for http(s) URLs.

Pure presentation over `DecisionView` rows and a `Formatter`; the templates only lay these out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from activities.decisions.repository import DecisionView, HistoryEntry
from api.web.formatting import Formatter, safe_url
from domain.decisions.rules import ExpectedEffect, Proposal, effect_of
from domain.money import MONEY_KEYS

# keys shown under another name; keys that are internal plumbing are not shown at all
_LABELS = {"unit_cost": "unit cost", "unit_price": "unit price", "account_id": "account", "min_price": "min price",
           "max_price": "max price"}  # fmt: skip
_HIDDEN_RESULT_KEYS = {"follow_up"}
_VERDICTS = {
    "record_only": "Recorded as a recommendation only",
    "wait": "Waits for a person to decide",
    "auto_approve": "Approved automatically",
}
_ACTIONS = {
    "proposed": "Proposed",
    "auto_approved": "Approved automatically",
    "approved": "Approved",
    "edited": "Edited and approved",
    "rejected": "Rejected",
    "expired": "Expired",
    "escalated": "Escalated",
    "premise_changed": "Sent back: the facts changed",
    "executed": "Executed",
    "failed": "Failed",
}
_PERIOD = {"day": "day", "week": "week", "month": "month"}
_SKIP_DETAILS = {"status", "version", "bulk", "comment", "verdict", "mode", "threshold", "reasons"}


def label(key: str) -> str:
    return _LABELS.get(key, key.replace("_", " "))


def is_money_key(key: str) -> bool:
    return key in MONEY_KEYS or key.endswith("_price") or key in ("competitor_min", "competitor_max")


def value_text(fmt: Formatter, key: str, value: Any, currency: str | None) -> str:
    """One value of a proposal or a result, as text: money formatted, lists and mappings as short phrases."""
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {value_text(fmt, k, v, currency)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(value_text(fmt, key, v, currency) for v in value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_money_key(key):
        return fmt.money(value, currency)
    if isinstance(value, int | float):
        return fmt.number(value)
    return str(value)


@dataclass
class Change:
    key: str
    label: str
    current: str
    proposed: str
    changed: bool
    image: str | None = None  # an http(s) image URL the proposal names (shown as a picture)


def changes(d: DecisionView, fmt: Formatter) -> list[Change]:
    out = []
    for key in dict.fromkeys([*d.proposed, *d.current]):
        if key == "account_id" and key not in d.proposed:
            continue  # plumbing of listing-scoped price changes
        cur, new = d.current.get(key), d.proposed.get(key)
        image = safe_url(new) if isinstance(new, str) and _looks_like_image(new) else None
        out.append(
            Change(
                key=key,
                label=label(key),
                current=value_text(fmt, key, cur, d.currency),
                proposed=value_text(fmt, key, new, d.currency) if key in d.proposed else "unchanged",
                changed=key in d.proposed and cur != new,
                image=image,
            )
        )
    return out


def _looks_like_image(value: str) -> bool:
    return value.lower().split("?")[0].endswith((".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif"))


def expected_effect(d: DecisionView) -> ExpectedEffect | None:
    try:
        proposal = Proposal.model_validate(d.proposal)
    except ValidationError:  # a row written before proposals were validated: show what can be shown
        return None
    return effect_of(proposal)


def effect_lines(d: DecisionView, fmt: Formatter, *, with_basis: bool = True) -> list[str]:
    """The expected effect as short sentences: margin and revenue change per period, units, a one-off spend, and
    what the estimate rests on."""
    effect = expected_effect(d)
    if effect is None:
        return []
    cur = effect.currency or d.currency
    per = f" / {_PERIOD[effect.period]}"
    lines = []
    if effect.margin_delta is not None:
        lines.append(f"Margin {fmt.money(effect.margin_delta, cur, signed=True)}{per}")
    if effect.revenue_delta is not None:
        lines.append(f"Revenue {fmt.money(effect.revenue_delta, cur, signed=True)}{per}")
    if effect.units_change_pct is not None:
        lines.append(f"Units sold {fmt.percent(effect.units_change_pct, signed=True)}")
    if effect.spend is not None:
        lines.append(f"Total spend {fmt.money(effect.spend, cur)}{_spend_detail(d, fmt, cur)}")
    if with_basis and lines and effect.basis:
        lines.append(f"Estimated {effect.basis}.")
    return lines


def _spend_detail(d: DecisionView, fmt: Formatter, currency: str | None) -> str:
    p = d.proposed
    qty, unit = p.get("quantity"), p.get("unit_price", p.get("unit_cost"))
    if qty is None or unit is None or "amount" in p:
        return ""
    text = f" = {fmt.number(qty)} × {fmt.money(unit, currency)}"
    if p.get("shipping") not in (None, "0", 0):
        text += f" + {fmt.money(p['shipping'], currency)} shipping"
    return text


def reasoning_short(d: DecisionView, limit: int = 160) -> str:
    text = " ".join(d.reasoning.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# ---------------------------------------------------------------- factors and evidence
@dataclass
class FactorRow:
    name: str
    value: str
    weight: str
    detail: str


def factor_rows(d: DecisionView, fmt: Formatter) -> list[FactorRow]:
    rows = []
    for f in d.factors:
        name, value, unit = str(f.get("name", "")), f.get("value"), f.get("unit")
        if unit == "money" or (unit is None and is_money_key(name)):
            shown = fmt.money(value, d.currency)
        elif unit == "percent" or (unit is None and name.endswith("_pct")):
            shown = fmt.percent(value)
        elif unit == "days" and value is not None:
            shown = f"{fmt.number(value)} days"
        else:
            shown = value_text(fmt, name, value, d.currency)
        weight = f.get("weight")
        rows.append(
            FactorRow(
                name=label(name),
                value=shown,
                weight="" if weight is None else fmt.percent(float(weight) * 100),
                detail=str(f.get("detail") or ""),
            )
        )
    return rows


@dataclass
class EvidenceItem:
    label: str
    value: str
    url: str | None  # None: not a safe link, shown as text below
    shown_url: str | None  # an unsafe URL, shown as plain text so nothing hides
    image: str | None


def evidence(d: DecisionView, fmt: Formatter) -> dict[str, list[EvidenceItem]]:
    groups: dict[str, list[EvidenceItem]] = {"competitor_prices": [], "images": [], "other": []}
    for e in d.evidence:
        raw_url, raw_img = e.get("url"), e.get("image_url")
        kind = e.get("kind")
        value = e.get("value")
        shown = (
            fmt.money(value, d.currency)
            if kind == "competitor_price" and value is not None
            else str(value or "")
        )
        img = safe_url(raw_img) or (safe_url(raw_url) if kind == "image" else None)
        unsafe = next((u for u in (raw_url, raw_img) if u and not safe_url(u)), None)
        item = EvidenceItem(
            label=str(e.get("label", "")), value=shown, url=safe_url(raw_url), shown_url=unsafe, image=img
        )
        if kind == "competitor_price":
            groups["competitor_prices"].append(item)
        elif img is not None:
            groups["images"].append(item)
        else:
            groups["other"].append(item)
    return groups


# ---------------------------------------------------------------- history
@dataclass
class HistoryLine:
    at: Any
    title: str
    points: list[str] = field(default_factory=list)
    comment: str | None = None
    version: int | None = None


def history(entries: list[HistoryEntry], d: DecisionView, fmt: Formatter) -> list[HistoryLine]:
    return [_line(h, d, fmt) for h in entries]


def _line(h: HistoryEntry, d: DecisionView, fmt: Formatter) -> HistoryLine:
    x, cur = h.details, d.currency
    base = _ACTIONS.get(h.action, h.action.replace("_", " ").capitalize())
    by = "" if h.actor in ("system", "policy") else f" by {h.actor}"
    line = HistoryLine(at=h.at, title=base + by, comment=x.get("comment"), version=x.get("version"))
    points = line.points
    verdict = x.get("verdict")
    if isinstance(verdict, dict):
        outcome = _VERDICTS.get(str(verdict.get("outcome")), str(verdict.get("outcome")))
        mode = f" ({x['mode']} mode)" if x.get("mode") else ""
        points.append(f"{outcome}{mode}.")
        points += [_sentence(r) for r in verdict.get("reasons") or [] if "mode:" not in str(r)]
        hits = verdict.get("guardrail_hits") or []
        if hits:
            points.append("Guard rails hit: " + "; ".join(str(hit) for hit in hits) + ".")
    for reason in x.get("reasons") or []:
        points.append(_sentence(reason))
    if h.action == "escalated":
        line.title = f"Escalated to {x.get('to_group') or 'the next group'}" + (
            f" (level {x['level']})" if x.get("level") else ""
        )
    if x.get("superseded_by"):
        points.append("A newer repricing run proposed a fresher price for this listing.")
    if isinstance(x.get("edited_value"), dict):
        before = x.get("previous_value") or {}
        for key, new in x["edited_value"].items():
            old = before.get(key) if isinstance(before, dict) else None
            points.append(
                f"{label(key)}: {value_text(fmt, key, old, cur)} → {value_text(fmt, key, new, cur)}"
            )
    if isinstance(x.get("current"), dict):
        points.append("Now: " + value_text(fmt, "current", _visible(x["current"]), cur))
    if isinstance(x.get("result"), dict):
        points += _result(x["result"], fmt, cur)
    if x.get("error"):
        points.append(_sentence(x["error"]))
    if x.get("message") and h.action == "failed":
        points.append(_sentence(x["message"]))
    for key, value in x.items():  # anything else a feature recorded, still as text
        if key not in _SKIP_DETAILS and key not in _KNOWN_DETAILS:
            points.append(f"{label(key)}: {value_text(fmt, key, value, cur)}")
    return line


_KNOWN_DETAILS = {"to_group", "level", "superseded_by", "edited_value", "previous_value", "current", "result", "error",
                  "message"}  # fmt: skip


def _visible(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "account_id"}


def _result(result: dict[str, Any], fmt: Formatter, currency: str | None) -> list[str]:
    out = []
    if "old_price" in result or "new_price" in result:
        out.append(
            f"Price {fmt.money(result.get('old_price'), currency)} → {fmt.money(result.get('new_price'), currency)}"
        )
    if result.get("follow_up"):
        out.append("The marketplace price update is queued.")
    for key, value in result.items():
        if key not in ("old_price", "new_price", "sku") and key not in _HIDDEN_RESULT_KEYS:
            out.append(f"{label(key)}: {value_text(fmt, key, value, currency)}")
    return out


def _sentence(text: Any) -> str:
    s = str(text).strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s.endswith((".", "!", "?")) else s + "."

"""How the pages write values for people (pure: api.web.formatting and api.decisions.present, no server):
money with its currency in the configured locale, moments relative and absolute, links only for http(s), the
expected effect and the history as sentences, never JSON or ISO strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from activities.decisions.repository import DecisionView, HistoryEntry
from api.decisions import present
from api.web.formatting import Formatter, safe_url

NOW = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)


def view(**proposal: Any) -> DecisionView:
    p = {"decision_type": "price_change", "subject": "SKU-1", "confidence": 0.7, **proposal}
    return DecisionView.model_validate(
        {
            "id": "d1", "decision_type": p["decision_type"], "subject": "SKU-1", "marketplace": None, "proposal": p,
            "confidence": 0.7, "status": "pending", "version": 1, "approver": None, "comment": None,
            "workflow_id": None, "created_at": NOW, "updated_at": NOW, "decided_at": None, "executed_at": None,
            "expires_at": None, "currency": p.get("currency"), "expected_effect": p.get("expected_effect"),
            "current": p.get("current", {}), "proposed": p.get("proposed", {}), "reasoning": p.get("reasoning", ""),
            "factors": p.get("factors", []), "evidence": p.get("evidence", []),
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://shop.example/p?id=1", True),
        ("http://shop.example", True),
        ("HTTPS://SHOP.EXAMPLE/x", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("data:image/png;base64,AAAA", False),
        ("vbscript:msgbox", False),
        ("//evil.example/x", False),
        ("/approvals", False),
        ("https://", False),
        ("http://[::1", False),
        (None, False),
        (42, False),
    ],
)
def test_only_http_urls_become_links(url: Any, safe: bool) -> None:
    assert (safe_url(url) is not None) == safe


def test_money_numbers_and_moments_follow_the_locale_and_time_zone() -> None:
    us = Formatter(now=NOW)
    assert us.money("12.9900") == "$12.99" and us.money("12.9900", "EUR") == "€12.99"
    assert us.money("4.1", signed=True) == "+$4.10" and us.money(None) == "—" and us.money("n/a") == "n/a"
    assert us.percent(21.5, signed=True) == "+21.5%" and us.number(1234.5) == "1,234.5"
    assert (
        us.relative(NOW - timedelta(hours=3)) == "3 hours ago"
        and us.relative(NOW + timedelta(days=2)) == "in 2 days"
    )
    assert us.absolute(NOW) == "Dec 3, 2026, 10:15\u202fAM UTC"
    de = Formatter(locale="de_DE", time_zone="Europe/Berlin", currency="EUR", now=NOW)
    assert de.money("12.9900") == "12,99\xa0€"
    assert de.absolute(NOW) == "03.12.2026, 11:15 CET"
    assert "vor 3 Stunden" == de.relative(NOW - timedelta(hours=3))
    moment = str(us.moment(NOW - timedelta(minutes=5)))
    assert (
        "5 minutes ago" in moment
        and "(Dec 3, 2026" in moment
        and 'datetime="2026-12-03T10:10:00+00:00"' in moment
    )
    # a bad setting falls back instead of failing every page
    assert Formatter(locale="xx_YY", time_zone="Mars/Olympus").absolute(NOW).endswith("UTC")


def test_changes_and_the_expected_effect_read_as_money() -> None:
    fmt = Formatter(now=NOW)
    d = view(
        currency="EUR",
        current={"price": "20.0000", "cost": "8.0000", "account_id": 3},
        proposed={"price": "18.49"},
        expected_effect={
            "margin_delta": "-0.82",
            "revenue_delta": "4.1",
            "units_change_pct": 21.5,
            "basis": "at x",
        },
    )
    changes = {c.key: c for c in present.changes(d, fmt)}
    assert (changes["price"].current, changes["price"].proposed, changes["price"].changed) == (
        "€20.00",
        "€18.49",
        True,
    )
    assert (changes["cost"].current, changes["cost"].proposed) == ("€8.00", "unchanged")
    assert "account_id" not in changes  # plumbing of a listing-scoped change
    assert present.effect_lines(d, fmt) == [
        "Margin -€0.82 / day",
        "Revenue +€4.10 / day",
        "Units sold +21.5%",
        "Estimated at x.",
    ]


def test_a_purchase_shows_its_total_spend_generically() -> None:
    fmt = Formatter(now=NOW)
    d = view(decision_type="purchase", proposed={"quantity": 400, "unit_price": "1.40", "shipping": "12.50"})
    assert present.effect_lines(d, fmt) == ["Total spend $572.50 = 400 × $1.40 + $12.50 shipping"]
    typed = view(decision_type="purchase", proposed={"amount": "99"}, expected_effect={"spend": "99"})
    assert present.effect_lines(typed, fmt) == ["Total spend $99.00"]
    # a row written before proposals were validated still renders, without an effect
    assert present.effect_lines(view(proposed={"price": "Infinity"}), fmt) == []


def test_history_reads_as_sentences_and_lists() -> None:
    fmt = Formatter(now=NOW)
    d = view(current={"price": "20.00"}, proposed={"price": "18.50"})
    entries = [
        HistoryEntry(at=NOW, actor="reprice:run-1", action="proposed", details={
            "status": "pending", "version": 1, "mode": "full-auto", "threshold": 0.85,
            "verdict": {"outcome": "wait", "reasons": ["guard rail needs a human", "price change 25.0% exceeds 20%"],
                        "guardrail_hits": ["price change 25.0% exceeds 20%"]}}),
        HistoryEntry(at=NOW, actor="system", action="escalated", details={"level": 1, "to_group": "admin"}),
        HistoryEntry(at=NOW, actor="bob", action="edited", details={
            "previous_value": {"price": "18.50"}, "edited_value": {"price": "18.75"}, "comment": "a bit less"}),
        HistoryEntry(at=NOW, actor="system", action="premise_changed", details={
            "version": 2, "current": {"price": "21.00", "account_id": 3}}),
        HistoryEntry(at=NOW, actor="system", action="executed", details={"result": {
            "sku": "SKU-1", "old_price": "21.0000", "new_price": "18.75",
            "follow_up": {"workflow": "reprice-publish", "workflow_id": "w", "arg": {}}}}),
        HistoryEntry(at=NOW, actor="system", action="failed", details={"error": "listing SKU-1 on account 3 is gone"}),
        HistoryEntry(at=NOW, actor="system", action="expired", details={"superseded_by": "run-2", "bulk": True}),
        HistoryEntry(at=NOW, actor="system", action="custom_step", details={"note": {"a": 1, "b": [1, 2]}}),
    ]  # fmt: skip
    lines = present.history(entries, d, fmt)
    assert lines[0].title == "Proposed by reprice:run-1"
    assert lines[0].points == [
        "Waits for a person to decide (full-auto mode).",
        "Guard rail needs a human.",
        "Price change 25.0% exceeds 20%.",
        "Guard rails hit: price change 25.0% exceeds 20%.",
    ]
    assert lines[1].title == "Escalated to admin (level 1)" and lines[1].points == []
    assert lines[2].title == "Edited and approved by bob" and lines[2].points == ["price: $18.50 → $18.75"]
    assert lines[2].comment == "a bit less"
    assert lines[3].points == ["Now: price: $21.00"] and lines[3].version == 2
    assert lines[4].points == ["Price $21.00 → $18.75", "The marketplace price update is queued."]
    assert lines[5].points == ["Listing SKU-1 on account 3 is gone."]
    assert lines[6].points == ["A newer repricing run proposed a fresher price for this listing."]
    assert lines[7].points == ["note: a: 1; b: 1, 2"]
    for ln in lines:
        for point in ln.points:
            assert "{" not in point and not re.search(r"\d{4}-\d\d-\d\dT", point), point

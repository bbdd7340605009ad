"""What an account is made of and what its state means: credential fields per marketplace, statuses, the plain-words
report of an account test. Pure: the shell reads, calls, and stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")

# The secret fields each adapter reads (connectors/marketplace/<mp>/README.md). Pasted keys must use these names.
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "amazon": ("client_id", "client_secret", "refresh_token", "relay_secret", "seller_id"),
    "ebay": (
        "client_id",
        "client_secret",
        "refresh_token",
        "verification_token",
        "seller_username",
        "notification_public_keys",
    ),
    "shopify": ("access_token", "client_id", "client_secret", "webhook_secret"),
    "woocommerce": ("consumer_key", "consumer_secret", "webhook_secret"),
}
# What lets an adapter authenticate at all (any one alternative complete)
REQUIRED_CREDENTIALS: dict[str, tuple[tuple[str, ...], ...]] = {
    "amazon": (("client_id", "client_secret", "refresh_token"),),
    "ebay": (("client_id", "client_secret", "refresh_token"),),
    "shopify": (("access_token",), ("client_id", "client_secret")),
    "woocommerce": (("consumer_key", "consumer_secret"),),
}

AccountStatus = Literal["pending", "connected", "needs_reauth", "disabled", "removed"]
Capability = Literal["read_listings", "write_quantities", "orders", "notifications"]
CAPABILITIES: tuple[Capability, ...] = ("read_listings", "write_quantities", "orders", "notifications")
ProbeOutcome = Literal["ok", "refused", "forbidden", "failed", "not_checked"]


def unknown_credential_fields(marketplace: str, fields: Iterable[str]) -> list[str]:
    known = set(CREDENTIAL_FIELDS.get(marketplace, ()))
    return sorted(f for f in fields if f not in known)


def missing_credentials(marketplace: str, present: Iterable[str]) -> list[str]:
    """Fields still needed before the adapter can authenticate; empty when one alternative is complete."""
    have = set(present)
    options = REQUIRED_CREDENTIALS.get(marketplace, ())
    if not options or any(set(alt) <= have for alt in options):
        return []
    return sorted(set(options[0]) - have)


def shown_status(*, enabled: bool, status: str) -> str:
    """One word for people: an account switched off is "disabled" whatever its credentials' state."""
    if status == "removed":
        return "removed"
    return "disabled" if not enabled else status


class ProbeResult(BaseModel):
    capability: Capability
    outcome: ProbeOutcome
    call: str = ""  # the marketplace operation used, e.g. "searchListingsItems (1 item)"
    detail: str = ""  # the marketplace's answer, shortened


class AccountTestReport(BaseModel):
    account_id: int
    marketplace: str
    name: str
    ok: bool
    results: list[ProbeResult] = Field(default_factory=list)
    summary: str = ""  # plain words, one line per capability


_WHAT = {
    "read_listings": "read listings",
    "write_quantities": "change quantities",
    "orders": "read orders",
    "notifications": "receive notifications",
}
_VERDICT = {
    "ok": "works",
    "refused": "credentials refused: reconnect the account",
    "forbidden": "not allowed: the app or key lacks this permission",
    "failed": "could not be checked right now (marketplace error)",
    "not_checked": "not checked",
}


def summarise(results: Iterable[ProbeResult]) -> tuple[bool, str]:
    """(every capability usable, one plain line per capability)."""
    lines, ok = [], True
    for r in results:
        line = f"{_WHAT[r.capability].capitalize()}: {_VERDICT[r.outcome]}"
        if r.detail and r.outcome != "ok":
            line += f" ({r.detail})"
        if r.call:
            line += f" [{r.call}]"
        lines.append(line)
        ok = ok and r.outcome in ("ok", "not_checked")
    return ok, "\n".join(lines)


def refused_anywhere(results: Iterable[ProbeResult]) -> bool:
    return any(r.outcome == "refused" for r in results)


def merge_options(current: Mapping[str, object], changes: Mapping[str, object | None]) -> dict[str, object]:
    """PATCH semantics for options: given keys replace, a null value removes the key, others stay."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged

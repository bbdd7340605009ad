"""Signed, expiring, single-use links to one version of one decision, sent in notifications.

The token carries (decision id, version, jti, expiry) signed with the secret key; it only opens a confirmation
page (GET never acts), and the POST from that page consumes the jti so a forwarded or replayed link is refused.
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel
from sqlmodel import Session

from activities.decisions.errors import DecisionError
from activities.decisions.tables import DecisionLinkUse
from merchflow.db.types import utcnow
from merchflow.settings import Settings

_SALT = "merchflow.decision-link.v1"
DEFAULT_LINK_TTL_SECONDS = 72 * 3600


class LinkExpired(DecisionError):
    code = "link_expired"


class LinkInvalid(DecisionError):
    code = "link_invalid"


class LinkUsed(DecisionError):
    code = "link_used"


class LinkClaims(BaseModel):
    decision_id: str
    version: int
    jti: str
    expires_at: float  # unix seconds


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=_SALT)


def _default_ttl(settings: Settings) -> int:
    notifications = getattr(settings, "notifications", None)
    hours = getattr(notifications, "link_ttl_hours", None)
    return int(hours * 3600) if hours else DEFAULT_LINK_TTL_SECONDS


def make_decision_token(
    settings: Settings,
    *,
    decision_id: str,
    version: int,
    ttl_seconds: int | None = None,
    now: float | None = None,
) -> str:
    ttl = ttl_seconds if ttl_seconds is not None else _default_ttl(settings)
    issued = time.time() if now is None else now
    payload = {"d": decision_id, "v": version, "j": secrets.token_urlsafe(12), "e": int(issued + ttl)}
    return str(_serializer(settings).dumps(payload))


def make_decision_link(
    settings: Settings, *, decision_id: str, version: int, ttl_seconds: int | None = None
) -> str:
    token = make_decision_token(settings, decision_id=decision_id, version=version, ttl_seconds=ttl_seconds)
    return f"{settings.base_url.rstrip('/')}/approvals/link/{token}"


def verify_decision_link(settings: Settings, session: Session, token: str) -> LinkClaims:
    """Claims of a genuine, unexpired, unused link; raises LinkInvalid / LinkExpired / LinkUsed."""
    try:
        raw = _serializer(settings).loads(token)
        claims = LinkClaims(decision_id=raw["d"], version=int(raw["v"]), jti=raw["j"], expires_at=raw["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid("this link is not valid (it may have been altered or cut off)") from None
    if time.time() > claims.expires_at:
        raise LinkExpired("this link has expired; open the approval queue to decide")
    if session.get(DecisionLinkUse, claims.jti) is not None:
        raise LinkUsed("this link was already used; open the approval queue to see the decision")
    return claims


def consume_decision_link(session: Session, claims: LinkClaims) -> None:
    """Marks the link used, in the caller's transaction; raises LinkUsed if it already was."""
    if session.get(DecisionLinkUse, claims.jti) is not None:
        raise LinkUsed("this link was already used; open the approval queue to see the decision")
    try:
        # a savepoint, so a lost race leaves the caller's transaction usable for its error path
        with session.begin_nested():
            session.add(DecisionLinkUse(jti=claims.jti, decision_id=claims.decision_id, used_at=utcnow()))
    except sa.exc.IntegrityError:
        raise LinkUsed("this link was already used; open the approval queue to see the decision") from None

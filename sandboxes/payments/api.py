"""Stripe's PaymentIntents API, the subset a buyer's card payments need: create (with `confirm=true` it authorises at
once), capture, cancel (voids an authorisation), refunds, events. Form-encoded requests with bracketed keys
(`metadata[deal]=...`), JSON answers in Stripe's object shapes, card errors as 402 `card_error`, and
`Idempotency-Key`: the same key with the same parameters replays the first answer, with other parameters it is an
`idempotency_error` - so a retried payment is never a second charge.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.payments.core import PaymentsSandbox, StripeError
from sandboxes.payments.store import charge_object, intent_object, new_id, now, refund_object

DECLINES = {  # Stripe's test payment methods that fail, and how
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", None, "Your card has expired."),
}


def parse_form(body: bytes) -> dict[str, Any]:
    """`a=1&metadata[k]=v&expand[]=x` -> {"a": "1", "metadata": {"k": "v"}, "expand": ["x"]}."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if "[" in key and key.endswith("]"):
            name, _, sub = key[:-1].partition("[")
            if sub == "":
                out.setdefault(name, []).append(value)
            else:
                out.setdefault(name, {})[sub] = value
        else:
            out[key] = value
    return out


def _int(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise StripeError(400, "invalid_request_error", f"Missing required param: {name}.", param=name)
        return None
    if not str(raw).isdigit() or int(raw) < 1 or int(raw) > 99_999_999:
        raise StripeError(400, "invalid_request_error", f"Invalid positive integer: {name}", param=name)
    return int(raw)


def router(sbx: PaymentsSandbox) -> APIRouter:
    r = APIRouter(tags=["payments"])
    db = sbx.state.store

    async def keyed(request: Request, handler: Any) -> JSONResponse:
        """Auth, rate limit and idempotency around one POST."""
        sbx.authorise(request)
        sbx.throttle("write")
        body = await request.body()
        key = request.headers.get("idempotency-key")
        sha = hashlib.sha256(body).hexdigest()
        if key:
            seen = db.one("SELECT * FROM pay_idempotency WHERE key = ?", (key,))
            if seen is not None:
                if (seen["method"], seen["path"], seen["params_sha"]) != ("POST", request.url.path, sha):
                    raise StripeError(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                    )
                return JSONResponse(json.loads(seen["body"]), status_code=seen["status"],
                                    headers={"idempotent-replayed": "true", "idempotency-key": key})  # fmt: skip
        try:
            status, payload = 200, handler(parse_form(body))
        except StripeError as exc:
            status, payload = exc.status, exc.body()
        if key and status < 500:
            db.execute(
                "INSERT OR IGNORE INTO pay_idempotency(key, method, path, params_sha, status, body) VALUES (?,?,?,?,?,?)",
                (key, "POST", request.url.path, sha, status, json.dumps(payload)),
            )
        headers = {"idempotency-key": key} if key else {}
        return JSONResponse(payload, status_code=status, headers=headers)

    def intent(pi_id: str) -> Any:
        row = db.one("SELECT * FROM pay_intent WHERE id = ?", (pi_id,))
        if row is None:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{pi_id}'",
                code="resource_missing",
                param="intent",
            )
        return row

    def authorise(pi_id: str) -> dict[str, Any]:
        """Confirm: the card is charged (automatic capture) or held (manual), or the decline is recorded."""
        row = intent(pi_id)
        pm = row["payment_method"] or "pm_card_visa"
        decline = DECLINES.get(pm)
        if decline is None and sbx.config.decline_next > 0:
            sbx.config.decline_next -= 1
            decline = DECLINES["pm_card_chargeDeclined"]
        if decline is not None:
            code, decline_code, message = decline
            err = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message}
            db.execute("UPDATE pay_intent SET status = 'requires_payment_method', last_error = ? WHERE id = ?",
                       (json.dumps(err), pi_id))  # fmt: skip
            obj = intent_object(intent(pi_id))
            sbx.event("payment_intent.payment_failed", obj)
            raise StripeError(
                402, "card_error", message, code=code, decline_code=decline_code, payment_intent=obj
            )
        charge_id = new_id("ch")
        auto = row["capture_method"] != "manual"
        with db.tx() as c:
            c.execute(
                "INSERT INTO pay_charge(id, payment_intent, amount, amount_captured, captured, status, created) "
                "VALUES (?,?,?,?,?,?,?)",
                (
                    charge_id,
                    pi_id,
                    row["amount"],
                    row["amount"] if auto else 0,
                    int(auto),
                    "succeeded",
                    now(),
                ),
            )
            c.execute(
                "UPDATE pay_intent SET status = ?, amount_capturable = ?, amount_received = ?, latest_charge = ?, "
                "last_error = NULL WHERE id = ?",
                ("succeeded" if auto else "requires_capture", 0 if auto else row["amount"],
                 row["amount"] if auto else 0, charge_id, pi_id),
            )  # fmt: skip
        obj = intent_object(intent(pi_id))
        sbx.event("payment_intent.succeeded" if auto else "payment_intent.amount_capturable_updated", obj)
        return obj

    @r.post("/v1/payment_intents")
    async def create(request: Request) -> JSONResponse:
        def handle(p: dict[str, Any]) -> dict[str, Any]:
            amount = _int(p, "amount", required=True)
            currency = str(p.get("currency", "")).lower()
            if len(currency) != 3:
                raise StripeError(
                    400, "invalid_request_error", "Missing required param: currency.", param="currency"
                )
            capture = p.get("capture_method", "automatic")
            if capture not in ("automatic", "automatic_async", "manual"):
                raise StripeError(
                    400, "invalid_request_error", "Invalid capture_method", param="capture_method"
                )
            pi_id = new_id("pi")
            db.execute(
                "INSERT INTO pay_intent(id, amount, currency, capture_method, status, payment_method, description, "
                "metadata, created) VALUES (?,?,?,?,?,?,?,?,?)",
                (pi_id, amount, currency, capture, "requires_payment_method" if not p.get("payment_method")
                 else "requires_confirmation", p.get("payment_method"), p.get("description"),
                 json.dumps(p.get("metadata") or {}), now()),
            )  # fmt: skip
            sbx.event("payment_intent.created", intent_object(intent(pi_id)))
            if p.get("confirm") == "true":
                return authorise(pi_id)
            return intent_object(intent(pi_id))

        return await keyed(request, handle)

    @r.post("/v1/payment_intents/{pi_id}/confirm")
    async def confirm(pi_id: str, request: Request) -> JSONResponse:
        def handle(p: dict[str, Any]) -> dict[str, Any]:
            row = intent(pi_id)
            if row["status"] not in ("requires_confirmation", "requires_payment_method"):
                raise StripeError(400, "invalid_request_error", f"This PaymentIntent's status is {row['status']}.",
                                  code="payment_intent_unexpected_state")  # fmt: skip
            if p.get("payment_method"):
                db.execute(
                    "UPDATE pay_intent SET payment_method = ? WHERE id = ?", (p["payment_method"], pi_id)
                )
            return authorise(pi_id)

        return await keyed(request, handle)

    @r.post("/v1/payment_intents/{pi_id}/capture")
    async def capture(pi_id: str, request: Request) -> JSONResponse:
        def handle(p: dict[str, Any]) -> dict[str, Any]:
            row = intent(pi_id)
            if row["status"] != "requires_capture":
                raise StripeError(400, "invalid_request_error",
                                  f"This PaymentIntent could not be captured because it has a status of {row['status']}.",
                                  code="payment_intent_unexpected_state")  # fmt: skip
            amount = _int(p, "amount_to_capture") or row["amount_capturable"]
            if amount > row["amount_capturable"]:
                raise StripeError(400, "invalid_request_error", "amount_to_capture exceeds the authorised amount",
                                  param="amount_to_capture")  # fmt: skip
            if sbx.config.capture_fails_next > 0:
                sbx.config.capture_fails_next -= 1
                raise StripeError(
                    402, "card_error", "The authorization has expired.", code="charge_expired_for_capture"
                )
            with db.tx() as c:
                c.execute(
                    "UPDATE pay_charge SET captured = 1, amount_captured = ? WHERE id = ?",
                    (amount, row["latest_charge"]),
                )
                c.execute("UPDATE pay_intent SET status = 'succeeded', amount_capturable = 0, amount_received = ? WHERE id = ?",
                          (amount, pi_id))  # fmt: skip
            obj = intent_object(intent(pi_id))
            sbx.event("payment_intent.succeeded", obj)
            return obj

        return await keyed(request, handle)

    @r.post("/v1/payment_intents/{pi_id}/cancel")
    async def cancel(pi_id: str, request: Request) -> JSONResponse:
        def handle(p: dict[str, Any]) -> dict[str, Any]:
            row = intent(pi_id)
            if row["status"] in ("succeeded", "canceled"):
                raise StripeError(400, "invalid_request_error",
                                  f"You cannot cancel this PaymentIntent because it has a status of {row['status']}.",
                                  code="payment_intent_unexpected_state")  # fmt: skip
            with db.tx() as c:
                c.execute("UPDATE pay_intent SET status = 'canceled', amount_capturable = 0, canceled_at = ? WHERE id = ?",
                          (now(), pi_id))  # fmt: skip
                if row["latest_charge"]:
                    c.execute(
                        "UPDATE pay_charge SET status = 'canceled' WHERE id = ?", (row["latest_charge"],)
                    )
            obj = intent_object(intent(pi_id))
            sbx.event("payment_intent.canceled", obj)
            return obj

        return await keyed(request, handle)

    @r.get("/v1/payment_intents/{pi_id}")
    async def retrieve(pi_id: str, request: Request) -> dict[str, Any]:
        sbx.authorise(request)
        sbx.throttle("read")
        return intent_object(intent(pi_id))

    @r.post("/v1/refunds")
    async def refund(request: Request) -> JSONResponse:
        def handle(p: dict[str, Any]) -> dict[str, Any]:
            row = intent(str(p.get("payment_intent") or ""))
            charge = (
                db.one("SELECT * FROM pay_charge WHERE id = ?", (row["latest_charge"],))
                if row["latest_charge"]
                else None
            )
            if charge is None or not charge["captured"]:
                raise StripeError(400, "invalid_request_error", "This PaymentIntent has no captured charge to refund.",
                                  code="charge_not_refundable")  # fmt: skip
            left = charge["amount_captured"] - charge["amount_refunded"]
            amount = _int(p, "amount") or left
            if amount > left:
                raise StripeError(400, "invalid_request_error",
                                  f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                                  code="amount_too_large", param="amount")  # fmt: skip
            re_id = new_id("re")
            with db.tx() as c:
                c.execute("INSERT INTO pay_refund(id, payment_intent, charge, amount, status, reason, metadata, created) "
                          "VALUES (?,?,?,?,?,?,?,?)", (re_id, row["id"], charge["id"], amount, "succeeded",
                          p.get("reason"), json.dumps(p.get("metadata") or {}), now()))  # fmt: skip
                c.execute(
                    "UPDATE pay_charge SET amount_refunded = amount_refunded + ? WHERE id = ?",
                    (amount, charge["id"]),
                )
            obj = refund_object(db.one("SELECT * FROM pay_refund WHERE id = ?", (re_id,)))
            sbx.event("refund.created", obj)
            sbx.event(
                "charge.refunded",
                charge_object(db.one("SELECT * FROM pay_charge WHERE id = ?", (charge["id"],))),
            )
            return obj

        return await keyed(request, handle)

    @r.get("/v1/charges/{charge_id}")
    async def get_charge(charge_id: str, request: Request) -> dict[str, Any]:
        sbx.authorise(request)
        row = db.one("SELECT * FROM pay_charge WHERE id = ?", (charge_id,))
        if row is None:
            raise StripeError(
                404, "invalid_request_error", f"No such charge: '{charge_id}'", code="resource_missing"
            )
        return charge_object(row)

    @r.get("/v1/events")
    async def events(request: Request, limit: int = 10, type: str | None = None) -> dict[str, Any]:
        sbx.authorise(request)
        sbx.throttle("read")
        sql, params = "SELECT * FROM pay_event", []
        if type:
            sql, params = sql + " WHERE type = ?", [type]
        rows = db.query(sql + " ORDER BY seq DESC LIMIT ?", [*params, max(1, min(limit, 100))])
        return {"object": "list", "url": "/v1/events", "has_more": False,
                "data": [sbx.event_object(row) for row in rows]}  # fmt: skip

    return r

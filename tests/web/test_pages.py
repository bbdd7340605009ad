"""The approver pages through the ASGI app (both databases): log-in, sessions, CSRF, roles, queue and
detail rendering, admin pages and signed-link confirmation. Deciding itself is in test_decide_pages.py."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from activities.decisions import repository as repo
from activities.decisions.links import make_decision_token
from api.web.session import COOKIE
from merchflow.db.engine import read_session, session_scope
from merchflow.users import get_user, set_password, verify_login
from tests.web.helpers import PASSWORD, add_decision, add_users, csrf_of, form_token, login
from workers.registry import decision_types


@pytest.fixture
async def web(api_client: httpx.AsyncClient) -> httpx.AsyncClient:
    add_users(
        api_client.app.state.engine,  # type: ignore[attr-defined]
        ("root", "admin"),
        ("alice", "approver"),
        ("vera", "viewer"),
    )
    return api_client


def engine_of(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    return client.app.state.engine  # type: ignore[attr-defined]


async def test_pages_need_a_login(web: httpx.AsyncClient) -> None:
    for path in ("/approvals", "/approvals/d1", "/admin/users", "/admin/policies"):
        r = await web.get(path)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"


async def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(web: httpx.AsyncClient) -> None:
    page = await web.get("/login")
    assert page.status_code == 200 and 'name="viewport"' in page.text
    r = await web.post(
        "/login", data={"username": "alice", "password": "wrong password", "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = await login(web, "alice")
    assert r.status_code == 303 and r.headers["location"] == "/approvals"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # base URL is http in tests
    queue = await web.get("/approvals")
    assert queue.status_code == 200 and "alice" in queue.text
    # the pre-login CSRF token is replaced at log-in
    assert csrf_of(queue.text) != csrf_of(page.text)
    r = await web.post("/logout", data={"csrf_token": csrf_of(queue.text)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert (await web.get("/approvals")).status_code == 303


async def test_secure_cookie_when_served_over_https(web: httpx.AsyncClient) -> None:
    web.app.state.settings.public_base_url = "https://approvals.example"  # type: ignore[attr-defined]
    r = await login(web, "alice")
    assert "secure" in r.headers["set-cookie"].lower()


async def test_login_redirects_only_to_local_paths(web: httpx.AsyncClient) -> None:
    page = await web.get("/login?next=//evil.example/x")
    token = csrf_of(page.text)
    r = await web.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example"},
    )
    assert r.headers["location"] == "/approvals"


async def test_failed_logins_are_rate_limited(web: httpx.AsyncClient) -> None:
    for _ in range(5):
        r = await login(web, "alice", "not the password")
        assert r.status_code == 401
    r = await login(web, "alice")  # even the right password is refused while blocked
    assert r.status_code == 429 and "Too many failed attempts" in r.text and "5 minutes" in r.text
    assert (await web.get("/approvals")).status_code == 303
    assert (await login(web, "root")).status_code == 303  # another user from the same address is not blocked


async def test_posts_without_the_csrf_token_are_refused(web: httpx.AsyncClient) -> None:
    add_decision(engine_of(web), "d1")
    r = await web.post("/login", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 403 and "security token" in r.text
    await login(web, "alice")
    for data in (
        {"action": "approve", "version": "1"},
        {"action": "approve", "version": "1", "csrf_token": "x"},
    ):
        r = await web.post("/approvals/d1/decide", data=data)
        assert r.status_code == 403 and "security token" in r.text
    r = await web.post("/approvals/bulk", data={"items": "d1:1"})
    assert r.status_code == 403
    with read_session(engine_of(web)) as session:
        assert repo.get_decision(session, "d1").status == "pending"  # type: ignore[union-attr]


async def test_queue_filters_counts_and_paging(web: httpx.AsyncClient) -> None:
    eng = engine_of(web)
    add_decision(eng, "p1", confidence=0.95, age=timedelta(hours=30))
    add_decision(eng, "p2", confidence=0.55, marketplace="ebay")
    add_decision(eng, "p3", proposed={"price": "21.00"}, marketplace=None)
    # rows of types no feature acts on (written before types were checked): listed, but never a filter chip
    add_decision(eng, "j1", decision_type="price-change")
    add_decision(eng, "done1", status="rejected")
    await login(web, "vera")
    r = await web.get("/approvals")
    assert r.status_code == 200
    assert 'data-testid="pending-total">4<' in r.text
    assert 'data-testid="count-price_change">price change 3<' in r.text
    assert 'data-testid="count-price-change"' not in r.text and "?type=price-change" not in r.text
    assert "SKU-done1" not in r.text  # only pending decisions are queued
    assert "<s>$20.00</s> → <ins>$18.50</ins>" in r.text

    async def shown(query: str) -> set[str]:
        page = await web.get("/approvals?" + query)
        assert page.status_code == 200, page.text
        return {d for d in ("p1", "p2", "p3", "j1") if f'data-testid="item-{d}"' in page.text}

    assert await shown("type=price_change") == {"p1", "p2", "p3"}
    assert await shown("marketplace=ebay") == {"p2"}
    assert await shown("min_confidence=0.9&max_confidence=") == {"p1"}
    assert await shown("max_confidence=0.6&min_confidence=0.5&type=price_change") == {"p2"}
    assert await shown("older_than_hours=24") == {"p1"}
    assert await shown("type=&marketplace=&min_confidence=&max_confidence=&older_than_hours=") == {
        "p1",
        "p2",
        "p3",
        "j1",
    }
    bad = await web.get("/approvals?min_confidence=lots")
    assert bad.status_code == 400 and "must be a number" in bad.text
    junk = await web.get("/approvals?type=price-change")
    assert junk.status_code == 400 and "known: " + ", ".join(sorted(decision_types())) in junk.text
    # a viewer gets no bulk form and no checkboxes
    assert 'data-testid="bulk-approve"' not in r.text and 'name="items"' not in r.text


async def test_queue_pages_through_many(web: httpx.AsyncClient) -> None:
    for i in range(55):
        add_decision(engine_of(web), f"m{i:02d}", age=timedelta(minutes=100 - i))
    await login(web, "alice")
    first = await web.get("/approvals")
    assert "55 matches, showing 1–50" in first.text and 'data-testid="item-m49"' in first.text
    second = await web.get("/approvals?offset=50")
    assert 'data-testid="item-m50"' in second.text and 'data-testid="item-m00"' not in second.text


async def test_detail_shows_reasoning_factors_evidence_and_history(web: httpx.AsyncClient) -> None:
    add_decision(engine_of(web), "d1", confidence=0.82)
    with session_scope(engine_of(web)) as session:
        from activities.decisions.store import audit

        audit(session, decision_id="d1", action="proposed", actor="repricer", at=None or _now(), details={})
    await login(web, "alice")
    r = await web.get("/approvals/d1")
    assert r.status_code == 200
    html = r.text
    assert "Competitors undercut SKU-d1 by 7%" in html
    assert "competitor min" in html and "lowest of 4 offers" in html
    assert 'data-testid="competitor-prices"' in html and "ShopA" in html and "19.49" in html
    assert 'src="https://img.example/p.jpg"' in html
    assert "Buy box" in html
    assert "<b>Proposed by repricer</b>" in html
    assert 'data-testid="approve"' in html and 'data-testid="edit-price"' in html and 'value="18.50"' in html
    assert (await web.get("/approvals/nope")).status_code == 404
    # security headers on every page
    assert (
        r.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    )
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"


async def test_the_approver_sees_reasoning_and_expected_effect(web: httpx.AsyncClient) -> None:
    eng = engine_of(web)
    effect = {"margin_delta": "-0.82", "revenue_delta": "4.10", "basis": "at the last 28 days' sales rate"}
    add_decision(
        eng, "d1", current={"price": "20.0000"}, extra={"expected_effect": effect, "currency": "USD"}
    )
    # a purchase (no feature acts on it yet, but old rows render): total spend = quantity x unit price + shipping
    add_decision(eng, "u1", decision_type="purchase", current={},
                 proposed={"quantity": 400, "unit_price": "1.40", "shipping": "12.50"})  # fmt: skip
    await login(web, "vera")
    queue = (await web.get("/approvals")).text
    item = queue.split('data-testid="item-d1"')[1].split("</li>")[0]
    assert "Competitors undercut SKU-d1 by 7% for three days." in item  # the reasoning, short
    assert "Margin -$0.82 / day · Revenue +$4.10 / day" in item and "<s>$20.00</s>" in item
    page = (await web.get("/approvals/d1")).text
    assert (
        "<li>Margin -$0.82 / day</li>" in page
        and "<li>Estimated at the last 28 days&#39; sales rate.</li>" in page
    )
    assert "20.0000" not in page  # money with its currency, never the column's raw scale
    purchase = (await web.get("/approvals/u1")).text
    assert "Total spend $572.50 = 400 × $1.40 + $12.50 shipping" in purchase


async def test_only_http_evidence_links_become_links(web: httpx.AsyncClient) -> None:
    evil = [
        {
            "kind": "competitor_price",
            "label": "ShopJ",
            "value": "18.00",
            "url": "javascript:alert(document.cookie)",
        },
        {"kind": "note", "label": "Data page", "url": "data:text/html,<script>alert(1)</script>"},
        {"kind": "image", "label": "pic", "image_url": "data:image/svg+xml,<svg onload=alert(1)>"},
        {"kind": "note", "label": "Sneaky", "url": " JavaScript:alert(2)"},
        {"kind": "note", "label": "Fine", "url": "https://ok.example/p"},
    ]
    add_decision(
        engine_of(web),
        "d1",
        proposed={"price": "18.50", "image": "javascript:x.png"},
        extra={"evidence": evil},
    )
    await login(web, "alice")
    html = (await web.get("/approvals/d1")).text
    hrefs = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert "https://ok.example/p" in hrefs
    assert not [h for h in hrefs if not h.startswith(("/", "https://", "http://"))], hrefs
    assert "javascript:alert(document.cookie)" in html  # shown as text, so the approver sees it
    assert 'src="data:' not in html and "<script>alert(1)" not in html


def _now():  # type: ignore[no-untyped-def]
    from merchflow.db.types import utcnow

    return utcnow()


async def test_viewer_can_look_but_not_decide(web: httpx.AsyncClient) -> None:
    add_decision(engine_of(web), "d1")
    await login(web, "vera")
    r = await web.get("/approvals/d1")
    assert r.status_code == 200 and 'data-testid="view-only"' in r.text
    assert 'data-testid="approve"' not in r.text and "/decide" not in r.text
    token = csrf_of(r.text)
    r = await web.post(
        "/approvals/d1/decide", data={"action": "approve", "version": "1", "csrf_token": token}
    )
    assert r.status_code == 403 and "not approve or reject" in r.text
    r = await web.post("/approvals/bulk", data={"items": "d1:1", "csrf_token": token})
    assert r.status_code == 403
    assert (await web.get("/admin/users")).status_code == 403
    with read_session(engine_of(web)) as session:
        assert repo.get_decision(session, "d1").status == "pending"  # type: ignore[union-attr]


async def test_admin_manages_users(web: httpx.AsyncClient) -> None:
    await login(web, "alice")
    assert (await web.get("/admin/users")).status_code == 403  # approvers are not admins
    await web.post("/logout", data={"csrf_token": await form_token(web)})
    await login(web, "root")
    token = await form_token(web, "/admin/users")
    r = await web.post(
        "/admin/users",
        data={"username": "nina", "role": "viewer", "password": "nina's password", "csrf_token": token},
    )
    assert r.status_code == 303
    r = await web.post(
        "/admin/users",
        data={"username": "nina", "role": "viewer", "password": "0123456789", "csrf_token": token},
    )
    assert r.status_code == 400 and "already exists" in r.text
    r = await web.post(
        "/admin/users", data={"username": "x", "role": "viewer", "password": "short", "csrf_token": token}
    )
    assert r.status_code == 400 and "at least 10" in r.text
    assert (
        await web.post("/admin/users/nina/role", data={"role": "approver", "csrf_token": token})
    ).status_code == 303
    r = await web.post("/admin/users/root/active", data={"active": "false", "csrf_token": token})
    assert r.status_code == 400 and "yourself" in r.text
    with read_session(engine_of(web)) as session:
        nina = get_user(session, "nina")
        assert nina is not None and nina.role == "approver" and verify_login(nina, "nina's password")[0]

    # nina logs in elsewhere; deactivating her ends that session at once
    transport = httpx.ASGITransport(app=web.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        assert (await login(other, "nina", "nina's password")).status_code == 303
        assert (await other.get("/approvals")).status_code == 200
        r = await web.post("/admin/users/nina/active", data={"active": "false", "csrf_token": token})
        assert r.status_code == 303
        assert (await other.get("/approvals")).status_code == 303
        page = await web.get("/admin/users")
        assert 'data-testid="user-nina" class="inactive"' in page.text


async def test_password_change_ends_other_sessions(web: httpx.AsyncClient) -> None:
    await login(web, "alice")
    assert (await web.get("/approvals")).status_code == 200
    with session_scope(engine_of(web)) as session:
        set_password(session, username="alice", password="a brand new password")
    assert (await web.get("/approvals")).status_code == 303


async def test_admin_sets_autonomy_policy(web: httpx.AsyncClient) -> None:
    await login(web, "root")
    r = await web.get("/admin/policies")
    assert r.status_code == 200 and 'data-testid="policy-price_change"' in r.text
    # only types some feature acts on, each with its policy; the policy in words, never JSON
    assert all(f'data-testid="policy-{t}"' in r.text for t in decision_types())
    assert 'data-testid="policy-price-change"' not in r.text
    assert "A person decides any price change above 20%." in r.text and "{" not in r.text.split("<main>")[1]
    token = csrf_of(r.text)
    r = await web.post(
        "/admin/policies/price_change",
        data={
            "mode": "full-auto",
            "threshold": "0.9",
            "max_price_change_pct": "12",
            "max_purchase_amount": "",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    with read_session(engine_of(web)) as session:
        policy = next(
            p for p in repo.get_policies(session, types=["price_change"]) if p.decision_type == "price_change"
        )
    assert (policy.mode, policy.threshold, policy.guardrails) == (
        "full-auto",
        0.9,
        {"max_price_change_pct": 12, "block_below_cost": False},
    )
    assert policy.updated_by == "root"
    page = await web.get("/admin/policies")
    assert "Full-auto: acts on its own at or above 90% confidence" in page.text
    for bad in ({"mode": "yolo"}, {"max_price_change_pct": "Infinity"}, {"max_purchase_amount": "-5"}):
        r = await web.post(
            "/admin/policies/price_change",
            data={"mode": "manual", "threshold": "0.9", "csrf_token": token, **bad},
        )
        assert r.status_code == 422 and "not saved" in r.text, bad
    r = await web.post(
        "/admin/policies/gift_wrap", data={"mode": "manual", "threshold": "0.9", "csrf_token": token}
    )
    assert "gift_wrap" not in decision_types()
    assert r.status_code == 404  # no feature acts on this type: no policy can be set for it
    with read_session(engine_of(web)) as session:
        policy = next(
            p for p in repo.get_policies(session, types=["price_change"]) if p.decision_type == "price_change"
        )
        assert [p.decision_type for p in repo.get_policies(session, types=["price_change"])] == [
            "price_change"
        ]
    assert policy.mode == "full-auto"  # unchanged by the refused forms


async def test_signed_link_opens_a_confirmation_page_only(web: httpx.AsyncClient) -> None:
    eng, settings = engine_of(web), web.app.state.settings  # type: ignore[attr-defined]
    add_decision(eng, "d1", version=2)
    token = make_decision_token(settings, decision_id="d1", version=2)
    r = await web.get(f"/approvals/link/{token}")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/approvals/link/")
    await login(web, "alice")
    r = await web.get(f"/approvals/link/{token}")
    assert r.status_code == 200 and 'data-testid="confirm-approve"' in r.text
    assert "Nothing has happened yet" in r.text
    assert (await web.get(f"/approvals/link/{token}")).status_code == 200  # opening again is harmless
    with read_session(eng) as session:
        assert repo.get_decision(session, "d1").status == "pending"  # type: ignore[union-attr]

    expired = make_decision_token(settings, decision_id="d1", version=2, ttl_seconds=-1)
    r = await web.get(f"/approvals/link/{expired}")
    assert r.status_code == 410 and "expired" in r.text
    r = await web.post(
        f"/approvals/link/{expired}", data={"action": "approve", "csrf_token": csrf_of(r.text)}
    )
    assert r.status_code == 410
    r = await web.get(f"/approvals/link/{token[:-3]}xyz")
    assert r.status_code == 400 and "not valid" in r.text
    stale = make_decision_token(settings, decision_id="d1", version=1)
    r = await web.get(f"/approvals/link/{stale}")
    assert r.status_code == 409 and "version 1" in r.text and "version 2" in r.text
    with read_session(eng) as session:
        assert repo.get_decision(session, "d1").status == "pending"  # type: ignore[union-attr]

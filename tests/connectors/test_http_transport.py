"""The shared transport never resends a write whose outcome is unknown; it retries what is safe to repeat."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from connectors.errors import ServerError, TransportError
from connectors.http import HttpTransport

Step = Callable[[httpx.Request], httpx.Response]


def transport(*steps: Step) -> tuple[HttpTransport, list[httpx.Request]]:
    """An HttpTransport whose n-th request is answered by steps[n] (the last step repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return steps[min(len(seen), len(steps)) - 1](request)

    t = HttpTransport(marketplace="test", account="a", base_url="http://mp.test", max_retries=3,
                      transport=httpx.MockTransport(handler))  # fmt: skip
    t._backoff = staticmethod(lambda attempt: 0.0)  # type: ignore[method-assign]
    return t, seen


def status(code: int, **headers: str) -> Step:
    return lambda request: httpx.Response(code, headers=headers, json={})


def raises(exc: type[Exception]) -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)  # type: ignore[call-arg]

    return step


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a_write_answered_5xx_is_raised_at_once_with_unknown_outcome(method: str) -> None:
    t, seen = transport(status(503), status(200))
    with pytest.raises(ServerError) as err:
        await t.request(method, "/x", operation="write", json={"quantity": 4})
    assert err.value.outcome_unknown and err.value.retryable
    assert len(seen) == 1


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError]
)
async def test_a_write_whose_answer_is_lost_in_transit_is_not_resent(exc: type[Exception]) -> None:
    t, seen = transport(raises(exc), status(200))
    with pytest.raises(TransportError) as err:
        await t.request("POST", "/x", operation="write", json={})
    assert err.value.outcome_unknown
    assert len(seen) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_write_that_never_left_is_retried(exc: type[Exception]) -> None:
    t, seen = transport(raises(exc), status(200))
    r = await t.request("POST", "/x", operation="write", json={})
    assert r.status_code == 200 and len(seen) == 2


async def test_a_throttled_write_is_retried_after_the_advertised_wait() -> None:
    t, seen = transport(status(429, **{"retry-after": "0"}), status(200))
    assert (await t.request("PUT", "/x", operation="write", json={})).status_code == 200
    assert len(seen) == 2


async def test_reads_and_declared_replay_safe_writes_are_retried() -> None:
    t, seen = transport(status(503), raises(httpx.ReadTimeout), status(200))
    assert (await t.request("GET", "/x", operation="read")).status_code == 200
    assert len(seen) == 3
    t, seen = transport(status(502), status(201))
    assert (await t.request("POST", "/token", operation="token", replay_safe=True)).status_code == 201
    assert len(seen) == 2


async def test_a_write_the_marketplace_refused_is_not_marked_unknown() -> None:
    t, seen = transport(status(400))
    with pytest.raises(Exception) as err:
        await t.request("POST", "/x", operation="write", json={})
    assert not getattr(err.value, "outcome_unknown", True) and len(seen) == 1

"""An httpx transport that records every request the adapter sends and every answer it gets, so the suite can
check all of them against the SP-API contract, and lets a test act between request and answer (fault toggles)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from tests.connectors.amazon.spec import SpApiContract


@dataclass
class Exchange:
    method: str
    url: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    sent_at: float
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    received_at: float | None = None
    error: str | None = None


Hook = Callable[[httpx.Request], None]
AfterHook = Callable[[httpx.Request, httpx.Response | None], None]


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []
        self.before: list[Hook] = []
        self.after: list[AfterHook] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        ex = Exchange(
            method=request.method,
            url=str(request.url),
            path=urlsplit(str(request.url)).path,
            request_headers={k.lower(): v for k, v in request.headers.items()},
            request_body=body,
            sent_at=time.monotonic(),
        )
        self.exchanges.append(ex)
        for hook in list(self.before):
            hook(request)
        try:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
        except Exception as exc:
            ex.error = type(exc).__name__
            for after in list(self.after):
                after(request, None)
            raise
        ex.status, ex.response_body, ex.received_at = response.status_code, content, time.monotonic()
        ex.response_headers = {k.lower(): v for k, v in response.headers.items()}
        out = httpx.Response(response.status_code, headers=response.headers, content=content, request=request)
        for after in list(self.after):
            after(request, out)
        return out

    async def aclose(self) -> None:
        await self.inner.aclose()

    def operations(self) -> list[str]:
        return [f"{e.method} {e.path}" for e in self.exchanges]

    def calls(self, method: str, path_prefix: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == method and e.path.startswith(path_prefix)]


UNSPECIFIED_PREFIXES = ("/orders/v0/",)  # Orders API: not in shared/specs (no contract test possible)


def contract_violations(contract: SpApiContract, exchanges: list[Exchange]) -> tuple[list[str], set[str]]:
    """Every exchange against the spec. Returns (violations, unspecified paths seen)."""
    errors: list[str] = []
    unspecified: set[str] = set()
    for ex in exchanges:
        where = f"{ex.method} {ex.path}"
        if ex.path == "/auth/o2/token":
            form = dict(pair.split("=", 1) for pair in ex.request_body.decode().split("&") if "=" in pair)
            missing = {"grant_type", "refresh_token", "client_id", "client_secret"} - set(form)
            if missing or form.get("grant_type") != "refresh_token":
                errors.append(
                    f"{where}: LWA refresh request without {sorted(missing)} / grant_type=refresh_token"
                )
            if "x-amz-access-token" in ex.request_headers:
                errors.append(f"{where}: access token sent to LWA")
            continue
        if ex.path.startswith("/sandbox-s3/"):
            if "x-amz-access-token" in ex.request_headers:
                errors.append(f"{where}: SP-API access token sent to a presigned document URL")
            xml = "xml" in ex.request_headers.get("content-type", "") + ex.response_headers.get(
                "content-type", ""
            )
            if (
                xml
            ):  # XML feeds (order acknowledgement) and their reports: no XSD in shared/specs to check against
                continue
            if ex.method == "PUT":
                errors += [f"{where}: {e}" for e in contract.check_feed_document(ex.request_body)]
            elif ex.status == 200:
                errors += [f"{where}: {e}" for e in contract.check_report(ex.response_body)]
            continue
        if ex.path.startswith(UNSPECIFIED_PREFIXES):
            unspecified.add(ex.path.split("/")[1] + "/" + ex.path.split("/")[2])
            continue
        found = contract.find(ex.method, ex.path)
        if found is None:
            errors.append(f"{where}: no such operation in the SP-API models")
            continue
        op, path_params = found
        errors += contract.check_request(op, path_params, ex.url, ex.request_body)
        if "x-amz-access-token" not in ex.request_headers:
            errors.append(f"{where}: no x-amz-access-token header")
        # 504 is a gateway answer (timeout / lost response injected by the sandbox), not the operation's own
        if ex.status is not None and ex.status != 504:
            errors += contract.check_response(op, ex.status, ex.response_body)
    return errors, unspecified

"""Refuse URLs that point into private networks (SSRF): a competitor URL comes from data we do not control."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit


class ScrapeRefused(Exception):
    """The URL may not be fetched (scheme, private address, robots.txt). Not retryable."""


def _is_private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_url(url: str, *, allowed_private_hosts: Iterable[str] = ()) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ScrapeRefused(f"only http(s) URLs are fetched, not {parts.scheme!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise ScrapeRefused("URL has no host")
    if parts.username or parts.password:
        raise ScrapeRefused("URLs with credentials are refused")
    allowed = {h.lower() for h in allowed_private_hosts}
    if host in allowed:
        return
    try:
        ip = ipaddress.ip_address(host)
        addrs = [ip]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or 443, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise ScrapeRefused(f"cannot resolve {host}: {exc}") from exc
        addrs = [ipaddress.ip_address(info[4][0]) for info in infos]
    for addr in addrs:
        if _is_private(addr):
            raise ScrapeRefused(
                f"{host} resolves to a private or local address ({addr}); allow it explicitly in settings"
            )

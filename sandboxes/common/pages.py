"""Product pages a sandbox marketplace serves to the competitor scraper, in the forms real shops use:
JSON-LD (/products/{sku}), microdata only (/products/{sku}/microdata), neither — plain HTML for CSS rules
(/products/{sku}/plain), and a page whose price only JavaScript renders (/products/{sku}/js). Plus a robots.txt
that disallows /private/."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, PlainTextResponse

# sku -> {"title", "price" (str), "currency", "identifiers": {...}, "brand"} or None
ProductLookup = Callable[[str], dict[str, Any] | None]

ROBOTS = "User-agent: *\nDisallow: /private/\nAllow: /\n\nUser-agent: BadBot\nDisallow: /\n"


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def _gtin_fields(ids: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in ids.items():
        key = {
            "upc": "gtin12",
            "ean": "gtin13",
            "isbn": "isbn",
            "mpn": "mpn",
            "asin": "sku",
            "gtin": "gtin",
        }.get(k)
        if key:
            out[key] = v
    return out


def product_pages_router(lookup: ProductLookup, *, shop_name: str) -> APIRouter:
    r = APIRouter(tags=["product pages"], include_in_schema=False)

    def get(sku: str) -> dict[str, Any]:
        p = lookup(sku)
        if p is None:
            raise HTTPException(404, "no such product")
        return p

    @r.get("/robots.txt", response_class=PlainTextResponse)
    def robots() -> str:
        return ROBOTS

    @r.get("/products/{sku}", response_class=HTMLResponse)
    def json_ld(sku: str) -> str:
        p = get(sku)
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": p["title"],
            "sku": sku,
            "brand": {"@type": "Brand", "name": p.get("brand") or shop_name},
            **_gtin_fields(p.get("identifiers", {})),
            "offers": {
                "@type": "Offer",
                "price": p["price"],
                "priceCurrency": p.get("currency", "USD"),
                "availability": "https://schema.org/InStock",
                "seller": {"@type": "Organization", "name": shop_name},
            },
        }
        # json.dumps output is escaped for a <script> block: "</" cannot close it early
        script = json.dumps(data).replace("</", "<\\/")
        return _page(
            p["title"],
            f"<h1>{html.escape(p['title'])}</h1>",
            f'<script type="application/ld+json">{script}</script>',
        )

    @r.get("/products/{sku}/microdata", response_class=HTMLResponse)
    def microdata(sku: str) -> str:
        p = get(sku)
        ids = "".join(
            f'<meta itemprop="{k}" content="{html.escape(v)}">'
            for k, v in _gtin_fields(p.get("identifiers", {})).items()
        )
        body = (
            f'<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">{html.escape(p["title"])}</h1>{ids}'
            f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
            f'<span itemprop="priceCurrency" content="{p.get("currency", "USD")}">$</span>'
            f'<span itemprop="price" content="{p["price"]}">{p["price"]}</span></div></div>'
        )
        return _page(p["title"], body)

    @r.get("/products/{sku}/plain", response_class=HTMLResponse)
    def plain(sku: str) -> str:
        p = get(sku)
        ids = p.get("identifiers", {})
        gtin = ids.get("ean") or ids.get("upc") or ids.get("isbn") or ""
        body = (
            f'<h1 class="product-title">{html.escape(p["title"])}</h1>'
            f'<div class="buy-box"><span class="amount">US$ {float(p["price"]):,.2f}</span>'
            f'<span class="gtin">{html.escape(gtin)}</span></div>'
        )
        return _page(p["title"], body)

    @r.get("/products/{sku}/js", response_class=HTMLResponse)
    def js(sku: str) -> str:
        p = get(sku)
        data = json.dumps({"price": p["price"], "title": p["title"]}).replace("</", "<\\/")
        body = (
            '<h1 class="product-title"></h1><div class="buy-box"><span class="amount"></span></div>'
            f"<script>const d = {data}; document.querySelector('.product-title').textContent = d.title;"
            "document.querySelector('.amount').textContent = 'US$ ' + Number(d.price).toFixed(2);</script>"
        )
        return _page(p["title"], body)

    @r.get("/private/{rest:path}", response_class=HTMLResponse)
    def private(rest: str) -> str:
        return _page("private", "<p>not for robots</p>")

    return r

"""Per-marketplace copy rules, with where each number comes from.

- Amazon: Seller Central "Product title requirements" (titles <= 200 characters including spaces; none of
  ! $ ? _ { } ^ ¬ ¦; no word more than twice except articles, prepositions and conjunctions; no promotional
  phrases such as "free shipping"); listing attributes bullet_point (up to 5, we keep each <= 500 characters as
  the style guides ask), product_description (<= 2000 characters, plain text) and generic_keyword ("search
  terms", fewer than 250 bytes).
- eBay: Sell Inventory API v1 `Product` (title max 80, subtitle max 55, description max 4000, aspect name max
  40, aspect value max 50; the offer's listingDescription may be longer but product.description is what we
  send). eBay has no bullet or keyword field: bullets become a list in the description; search reads the title
  and the item specifics.
- Shopify: Admin API product `title` (255 characters), `descriptionHtml` (HTML, no documented length limit),
  `tags` (up to 250 tags of at most 255 characters each). Bullets become a list in descriptionHtml.
- WooCommerce: REST v3 product `name` (WordPress post_title, no length limit: we keep 200 so one title fits
  every marketplace), `description` (HTML, filtered by wp_kses_post), `short_description` (where the bullets
  go) and `tags` (term names, wp_terms.name is VARCHAR(200)).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

BulletField = Literal["bullets", "description", "short_description"]

PROMOTIONAL_PHRASES: tuple[str, ...] = (
    "free shipping", "free delivery", "100% quality guaranteed", "best seller", "bestseller", "hot item",
    "hot sale", "on sale", "limited offer", "cheapest", "best price", "buy now",
)  # fmt: skip
# Words the Amazon repeat rule does not count
STOP_WORDS = frozenset(
    "a an the and or for nor but so yet of in on at to by with from over under into onto per via & -".split()
)


class CopyRules(BaseModel):
    marketplace: str
    title_max: int
    title_forbidden_chars: str = ""
    title_max_word_repeats: int | None = None
    promotional_phrases: tuple[str, ...] = ()
    bullet_field: BulletField = "bullets"
    bullets_max: int = 5
    bullet_max: int = 500
    description_max: int | None = None
    description_html: bool = False
    keywords_max_count: int | None = None
    keyword_max: int | None = None
    keywords_max_bytes: int | None = None  # all keywords joined by spaces, UTF-8
    source: str = ""


COPY_RULES: dict[str, CopyRules] = {
    "amazon": CopyRules(
        marketplace="amazon",
        title_max=200,
        title_forbidden_chars="!$?_{}^¬¦",
        title_max_word_repeats=2,
        promotional_phrases=PROMOTIONAL_PHRASES,
        bullet_field="bullets",
        bullets_max=5,
        bullet_max=500,
        description_max=2000,
        description_html=False,
        keywords_max_bytes=249,
        source="Amazon Seller Central product title requirements; listing attributes bullet_point, "
        "product_description, generic_keyword",
    ),
    "ebay": CopyRules(
        marketplace="ebay",
        title_max=80,
        title_forbidden_chars="<>",
        bullet_field="description",
        bullets_max=0,
        description_max=4000,
        description_html=True,
        keywords_max_count=0,
        source="eBay Sell Inventory API v1 Product (title 80, description 4000)",
    ),
    "shopify": CopyRules(
        marketplace="shopify",
        title_max=255,
        title_forbidden_chars="<>",
        bullet_field="description",
        bullets_max=0,
        description_html=True,
        keywords_max_count=250,
        keyword_max=255,
        source="Shopify Admin API product title / descriptionHtml / tags",
    ),
    "woocommerce": CopyRules(
        marketplace="woocommerce",
        title_max=200,
        title_forbidden_chars="<>",
        bullet_field="short_description",
        bullets_max=10,
        bullet_max=500,
        description_html=True,
        keywords_max_count=50,
        keyword_max=200,
        source="WooCommerce REST v3 product name / description / short_description / tags (WordPress terms)",
    ),
}

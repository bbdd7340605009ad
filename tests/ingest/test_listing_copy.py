"""Listing copy rules: the validator names each broken rule, and the fitter's output always validates."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ingest.draft import ListingCopy
from domain.listing.fit import fit_copy, truncate_words, validate_copy
from domain.listing.rules import COPY_RULES

MARKETPLACES = sorted(COPY_RULES)


def codes(listing: ListingCopy, mp: str) -> set[str]:
    return {i.code for i in validate_copy(listing, COPY_RULES[mp])}


def test_amazon_title_rules() -> None:
    bad = ListingCopy(title="FREE SHIPPING Bottle $ Steel Bottle Bottle {New}")
    assert {"forbidden_chars", "promotional", "repeated_word"} <= codes(bad, "amazon")
    fitted = fit_copy(bad, COPY_RULES["amazon"])
    assert fitted.listing.title == "Bottle Steel Bottle New"
    assert any("promotional" in c for c in fitted.changes)
    assert validate_copy(fitted.listing, COPY_RULES["amazon"]) == []


def test_articles_do_not_count_as_repeats() -> None:
    title = "The Mug and the Saucer and the Spoon"
    assert "repeated_word" not in codes(ListingCopy(title=title), "amazon")


def test_title_is_cut_at_a_word_boundary_without_a_dangling_connector() -> None:
    title = "ACME Stainless Steel Insulated Water Bottle with Straw Lid and Carry Loop for Hiking Camping and Gym Use"
    fitted = fit_copy(ListingCopy(title=title), COPY_RULES["ebay"]).listing.title
    assert len(fitted) <= 80 and title.startswith(fitted)
    assert not fitted.endswith((" and", " with", " for", ","))
    assert truncate_words("abcdefghij", 4) == "abcd"  # one long word: hard cut


def test_ebay_folds_bullets_into_the_description_and_drops_keywords() -> None:
    listing = ListingCopy(title="Mug", bullets=["Ceramic", "350 ml"], description="A mug.", keywords=["mug"])
    assert "unsupported" in codes(listing, "ebay")
    fitted = fit_copy(listing, COPY_RULES["ebay"])
    assert fitted.listing.bullets == [] and fitted.listing.keywords == []
    assert "<li>Ceramic</li>" in fitted.listing.description


def test_woocommerce_puts_bullets_in_the_short_description() -> None:
    fitted = fit_copy(ListingCopy(title="Mug", bullets=["Ceramic & glaze"]), COPY_RULES["woocommerce"])
    assert fitted.short_description == "<ul><li>Ceramic &amp; glaze</li></ul>"
    assert fitted.listing.bullets == []


def test_amazon_description_is_plain_text_and_scripts_never_pass() -> None:
    listing = ListingCopy(title="Mug", description='<p onclick="x()">Nice</p><script>alert(1)</script>')
    assert {"markup", "active_content"} <= codes(listing, "amazon")
    assert "active_content" in codes(listing, "shopify")
    assert fit_copy(listing, COPY_RULES["amazon"]).listing.description == "Nice alert(1)"
    shopify = fit_copy(listing, COPY_RULES["shopify"]).listing.description
    assert "script" not in shopify and "onclick" not in shopify and "Nice" in shopify


def test_amazon_keywords_fit_249_bytes_counting_utf8() -> None:
    keywords = [f"größe{i:02d}" for i in range(60)]  # 'ö' and 'ß' take two bytes each
    listing = ListingCopy(title="Shoe", keywords=keywords)
    assert "too_many_bytes" in codes(listing, "amazon")
    fitted = fit_copy(listing, COPY_RULES["amazon"]).listing
    assert len(" ".join(fitted.keywords).encode()) <= 249 and len(fitted.keywords) > 10


def test_description_is_cut_at_a_sentence() -> None:
    text = "First sentence here. " * 150
    fitted = fit_copy(ListingCopy(title="x y", description=text), COPY_RULES["amazon"]).listing.description
    assert len(fitted) <= 2000 and fitted.endswith(".")


_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF) | st.sampled_from("<>!$?_{}^¬¦ \n\t"),
    max_size=400,
)


@pytest.mark.parametrize("mp", MARKETPLACES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=1, max_size=400).filter(lambda t: any(c.isalnum() for c in t)),
    bullets=st.lists(_text, max_size=12),
    description=st.text(max_size=6000),
    keywords=st.lists(st.text(max_size=300), max_size=300),
)
def test_fitted_copy_always_validates(
    mp: str, title: str, bullets: list[str], description: str, keywords: list[str]
) -> None:
    rules = COPY_RULES[mp]
    fitted = fit_copy(
        ListingCopy(title=title, bullets=bullets, description=description, keywords=keywords), rules
    ).listing
    issues = [i for i in validate_copy(fitted, rules) if i.code != "empty"]
    assert issues == [], issues

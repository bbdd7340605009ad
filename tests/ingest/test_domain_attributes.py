"""Pure attribute logic: OCR text parsing, barcode identifiers, colours, the offline draft."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from domain.ingest.attributes import Attribute, best_by_name
from domain.ingest.colours import PALETTE, colour_attributes, dominant_colours, name_colour, srgb_to_oklab
from domain.ingest.draft import OFFLINE_MAX_CONFIDENCE, DraftRequest, offline_draft
from domain.ingest.identifiers import (
    barcode_attributes,
    identifiers_in_text,
    isbn10_to_isbn13,
    isbn13_to_isbn10,
)
from domain.ingest.review import ReviewProblem, floors_of, read_reviewed
from domain.ingest.text_parse import OcrLine, parse_lines


def line(text: str, score: float = 0.98, height: float = 30, y: float = 100) -> OcrLine:
    return OcrLine(text=text, score=score, height=height, y=y)


def values(attrs: list[Attribute]) -> dict[str, str]:
    return {k: a.value for k, a in best_by_name(attrs).items()}


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("Net wt 350 g", "weight", "350 g"),
        ("Weight: 1,2 kg", "weight", "1.2 kg"),
        ("2 lbs", "weight", "2 lb"),
        ("500 ml", "volume", "500 ml"),
        ("1.5 L", "volume", "1.5 L"),
        ("16 fl oz", "volume", "16 fl oz"),
        ("30 x 20 x 10 cm", "dimensions", "30 x 20 x 10 cm"),
        ("12 × 8 in", "dimensions", "12 x 8 in"),
        ("Size: XL", "size", "XL"),
        ("Größe 42", "size", "42"),
        ("Model No. WB-500X", "model_number", "WB-500X"),
        ("MPN: 8841-22", "model_number", "8841-22"),
        ("Brand: Nordic Home", "brand", "Nordic Home"),
        ("100% organic cotton", "material", "100% organic cotton"),
        ("Stainless steel", "material", "stainless steel"),
    ],
)
def test_parse_lines(text: str, name: str, value: str) -> None:
    assert values(parse_lines([line(text)])).get(name) == value


def test_labelled_values_are_trusted_more_and_scores_carry_through() -> None:
    labelled = best_by_name(parse_lines([line("Net wt 350 g", score=0.9)]))["weight"]
    bare = best_by_name(parse_lines([line("350 g", score=0.9)]))["weight"]
    assert labelled.confidence > bare.confidence
    assert labelled.source == "ocr" and labelled.evidence == "Net wt 350 g"
    assert labelled.number == 350 and labelled.unit == "g"
    assert (
        best_by_name(parse_lines([line("Net wt 350 g", score=0.5)]))["weight"].confidence
        < labelled.confidence
    )


def test_words_that_look_like_labels_are_not_model_numbers() -> None:
    assert "model_number" not in values(parse_lines([line("Refill pack"), line("Model: Classic")]))


def test_brand_guess_is_the_prominent_top_line_with_low_confidence() -> None:
    attrs = parse_lines([line("ACME", height=80, y=10), line("Steel Water Bottle", height=30, y=120)])
    brand = best_by_name(attrs)["brand"]
    assert brand.value == "ACME" and brand.confidence < 0.5
    # no clearly dominant line: no guess at all
    assert "brand" not in values(parse_lines([line("ACME", height=30), line("Bottle", height=29)]))


def test_upc_a_read_as_ean13_is_unfolded() -> None:
    got = values(barcode_attributes("EAN-13", "0036000291452"))
    assert got == {"gtin": "00036000291452", "ean": "0036000291452", "upc": "036000291452"}
    assert values(barcode_attributes("UPC-A", "036000291452"))["upc"] == "036000291452"


def test_isbn_barcode_gives_both_isbns() -> None:
    got = values(barcode_attributes("EAN-13", "9780306406157"))
    assert got["isbn"] == "9780306406157" and got["isbn10"] == "0306406152"
    assert isbn13_to_isbn10("9791234567896") is None  # 979 has no ISBN-10
    assert isbn10_to_isbn13("0306406152") == "9780306406157"
    assert isbn13_to_isbn10("9780306406157") == "0306406152"


def test_wrong_check_digits_are_dropped() -> None:
    assert barcode_attributes("EAN-13", "4006381333932") == []
    assert identifiers_in_text("Order 400638133393 2", ocr_score=1.0) == []


def test_identifiers_in_text() -> None:
    got = values(identifiers_in_text("ISBN 0-306-40615-2", ocr_score=0.95))
    assert got["isbn"] == "9780306406157"
    got = values(identifiers_in_text("EAN 4006381333931", ocr_score=0.95))
    assert got["ean"] == "4006381333931"


def test_qr_codes_give_text_and_url() -> None:
    got = values(barcode_attributes("QR Code", "https://example.com/p/1"))
    assert got["url"] == "https://example.com/p/1" and got["qr_text"] == "https://example.com/p/1"


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_every_palette_colour_names_itself(name: str) -> None:
    assert name_colour(srgb_to_oklab(np.array(PALETTE[name], dtype=np.uint8)))[0] == name


@pytest.mark.parametrize(
    ("rgb", "name"), [((10, 10, 12), "black"), ((128, 128, 128), "grey"), ((250, 250, 250), "white")]
)
def test_greys_by_lightness(rgb: tuple[int, int, int], name: str) -> None:
    assert name_colour(srgb_to_oklab(np.array(rgb, dtype=np.uint8)))[0] == name


def test_product_colour_not_background() -> None:
    img = np.full((100, 140, 3), 252, np.uint8)
    img[15:85, 30:110] = (200, 25, 35)  # a red product
    img[40:60, 40:100] = (15, 15, 15)  # a black print on it
    colours = dominant_colours(img)
    assert colours[-1].background and colours[-1].name == "white"
    fg = [c for c in colours if not c.background]
    assert fg[0].name == "red" and fg[0].share > 0.7
    main = colour_attributes(colours)[0]
    assert main.name == "colour" and main.value == "red" and main.source == "colour" and main.confidence > 0.8


def test_kmeans_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (60, 60, 3), dtype=np.uint8)
    assert dominant_colours(img) == dominant_colours(img)


def test_offline_draft_is_deterministic_and_clearly_less_confident() -> None:
    attrs = [
        Attribute(name="brand", value="ACME", confidence=0.95, source="ocr", evidence="Brand: ACME"),
        Attribute(name="volume", value="500 ml", confidence=0.9, source="ocr", evidence="500 ml"),
        Attribute(name="colour", value="blue", confidence=0.9, source="colour"),
        Attribute(
            name="material", value="stainless steel", confidence=0.9, source="ocr", evidence="Stainless steel"
        ),
        Attribute(name="ean", value="4006381333931", confidence=0.99, source="barcode"),
    ]
    request = DraftRequest(
        product_key="p",
        image_sha256="0" * 64,
        attributes=attrs,
        ocr_lines=["Brand: ACME", "Water Bottle", "500 ml"],
    )
    a, b = offline_draft(request), offline_draft(request)
    assert a == b
    assert a.source == "offline" and a.confidence <= OFFLINE_MAX_CONFIDENCE
    assert a.listing.title == "ACME Water Bottle 500 ml blue"
    assert "Material: stainless steel" in a.listing.bullets
    assert "EAN 4006381333931" in a.listing.description
    assert "water" in a.listing.keywords and not any(k.isdigit() for k in a.listing.keywords)
    # a seller's hint names the product better than any OCR line
    hinted = offline_draft(request.model_copy(update={"hints": {"title": "Insulated Flask"}}))
    assert hinted.listing.title.startswith("ACME Insulated Flask")


def test_an_edited_price_below_the_marketplace_floor_cannot_be_published() -> None:
    current = {"marketplaces": {"ebay": {"floor": "5.37"}, "shopify": {"floor": None}}}
    floors = floors_of(current)
    assert floors == {"ebay": Decimal("5.37")}
    proposed = {"title": "Mug", "quantity": 2, "price.ebay": "5.36", "price.shopify": "1.00"}
    with pytest.raises(ReviewProblem, match=r"price.ebay 5.36 is below .*: 5.37"):
        read_reviewed(proposed, ["ebay", "shopify"], floors)
    ok = read_reviewed({**proposed, "price.ebay": "5.37"}, ["ebay", "shopify"], floors)
    assert ok.prices == {"ebay": Decimal("5.37"), "shopify": Decimal("1.00")}  # no cost, no floor

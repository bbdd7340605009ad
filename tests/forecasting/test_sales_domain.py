"""Sales rows from files: header rules, per-row validation, pseudonymised buyers, the business key of a line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.forecasting.sales import (
    buyer_token,
    check_sales_header,
    line_key,
    normalise_sale,
)


def test_header_needs_date_sku_quantity_and_accepts_aliases() -> None:
    ok = check_sales_header(["Date", "SKU", "qty", "Price", "channel", "buyer", "extra"])
    assert not ok.fatal
    assert ok.columns == ("date", "sku", "quantity", "unit_price", "channel", "buyer_id", "")
    assert [i.code for i in ok.issues] == ["unknown_column"]
    bad = check_sales_header(["day", "sku"])
    assert bad.fatal and {i.field for i in bad.issues if i.severity == "error"} == {"date", "quantity"}


def test_rows_are_validated_with_a_message_per_field() -> None:
    sale, issues = normalise_sale(
        {
            "date": "2025-03-31T14:05:00Z",
            "sku": " MUG-1 ",
            "quantity": "-2",
            "unit_price": "9.5",
            "buyer_id": "b@x",
        },
        7,
    )
    assert issues == [] and sale is not None
    assert (sale.sold_on, sale.sku, sale.quantity, sale.unit_price) == (
        date(2025, 3, 31),
        "MUG-1",
        -2,
        Decimal("9.5000"),
    )
    sale, issues = normalise_sale({"date": "31/03/2025", "sku": "", "quantity": "1.5", "unit_price": "-1"}, 8)
    assert sale is None
    assert {(i.row_number, i.field) for i in issues} == {
        (8, "date"),
        (8, "sku"),
        (8, "quantity"),
        (8, "unit_price"),
    }
    assert normalise_sale({"date": "2025-01-01", "sku": "A", "quantity": 0}, 9)[0] is None  # no sale


def test_buyers_are_pseudonymised_with_a_keyed_hash() -> None:
    key = b"k" * 32
    token = buyer_token(key, "jane@example.com")
    assert len(token) == 32 and "jane" not in token
    assert token == buyer_token(key, "jane@example.com") != buyer_token(b"x" * 32, "jane@example.com")


def test_line_keys_tell_repeated_sales_apart_and_match_across_files() -> None:
    a, _ = normalise_sale({"date": "2025-01-01", "sku": "A", "quantity": 1}, 1)
    b, _ = normalise_sale({"date": "2025-01-01", "sku": "A", "quantity": 1}, 2)
    assert a is not None and b is not None
    assert a.content_key(None) == b.content_key(None)  # identical rows: told apart by occurrence only
    assert line_key(a.content_key(None), 0) != line_key(b.content_key(None), 1)
    c, _ = normalise_sale({"date": "2025-01-01", "sku": "A", "quantity": 1, "order_id": "o-9"}, 3)
    assert c is not None and c.content_key(None) != a.content_key(None)

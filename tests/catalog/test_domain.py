"""Pure catalog logic: identifiers, header checks, row normalisation, content hashes, resumable readers."""

from __future__ import annotations

import io
from decimal import Decimal
from itertools import islice

import pytest

from domain.catalog.records import (
    CatalogFileError,
    DuplicateSkus,
    changed_products,
    iter_csv_records,
    iter_jsonl_records,
    read_csv_header,
    validate_batch,
)
from domain.catalog.rows import (
    IssueCode,
    Severity,
    check_header,
    normalise_row,
)
from domain.identifiers import normalise_asin, normalise_ean, normalise_isbn, normalise_mpn, normalise_upc

GOOD = {"sku": "SKU-1", "name": "Widget", "cost": "4.20"}


def codes(issues: list) -> set[tuple[str, str]]:
    return {(i.field, i.code) for i in issues}


# ------------------------------------------------------------------------------------------ identifiers
@pytest.mark.parametrize("upc", ["036000291452", "0-36000-29145-2", " 012345678905 "])
def test_valid_upcs_are_normalised_to_twelve_digits(upc: str) -> None:
    value, error = normalise_upc(upc)
    assert error is None and value is not None and len(value) == 12 and value.isdigit()


def test_upc_missing_its_leading_zero_is_restored() -> None:
    assert normalise_upc("36000291452") == ("036000291452", None)


@pytest.mark.parametrize(
    ("upc", "fragment"),
    [
        ("036000291453", "check digit"),
        ("03600029145", "check digit"),  # padded to 12 but then wrong
        ("3.60003E+11", "spreadsheet"),
        ("12345", "12 digits"),
    ],
)
def test_invalid_upcs_are_explained(upc: str, fragment: str) -> None:
    value, error = normalise_upc(upc)
    assert value is None and error is not None and fragment in error


def test_ean13_and_ean8_check_digits() -> None:
    assert normalise_ean("4006381333931") == ("4006381333931", None)
    assert normalise_ean("73513537") == ("73513537", None)  # EAN-8
    assert "check digit" in (normalise_ean("4006381333932")[1] or "")
    assert "8 or 13" in (normalise_ean("400638133393")[1] or "")


def test_isbn10_and_isbn13() -> None:
    assert normalise_isbn("0-306-40615-2") == ("0306406152", None)
    assert normalise_isbn("080442957x") == ("080442957X", None)  # X check digit, lower case accepted
    assert normalise_isbn("978-0-306-40615-7") == ("9780306406157", None)
    assert "check digit" in (normalise_isbn("0306406153")[1] or "")
    assert "check digit" in (normalise_isbn("9780306406158")[1] or "")
    assert "978 or 979" in (normalise_isbn("1234567890128")[1] or "")


def test_asin_and_mpn_shapes() -> None:
    assert normalise_asin(" b0demo0010 ") == ("B0DEMO0010", None)
    assert normalise_asin("B0-SHORT")[0] is None
    assert normalise_mpn("HK-CK20") == ("HK-CK20", None)
    assert normalise_mpn("x" * 101)[0] is None


# ------------------------------------------------------------------------------------------ header
def test_header_is_case_and_space_insensitive_and_reports_unknown_columns_as_warnings() -> None:
    header = check_header(["\ufeffSKU", "Name", "Cost", "Min Price", "colour"])
    assert header.columns == ("sku", "name", "cost", "min_price", "")
    assert not header.fatal
    (warning,) = header.issues
    assert warning.severity == Severity.WARNING and warning.code == IssueCode.UNKNOWN_COLUMN
    assert "colour" in warning.message


def test_missing_required_columns_are_fatal_and_named() -> None:
    header = check_header(["sku", "title", "price"])
    assert header.fatal
    missing = {i.field for i in header.issues if i.code == IssueCode.MISSING_COLUMN}
    assert missing == {"name", "cost"}
    assert any("found: sku, title, price" in i.message for i in header.issues)


def test_semicolon_separated_header_gets_a_hint() -> None:
    header = check_header(["sku;name;cost"])
    assert header.fatal
    errors = [i for i in header.issues if i.severity == Severity.ERROR]
    assert len(errors) == 3 and all("separated by semicolons" in i.message for i in errors)


def test_duplicate_column_is_fatal() -> None:
    header = check_header(["sku", "name", "cost", "Cost"])
    assert header.fatal
    assert codes(list(header.issues)) == {("cost", IssueCode.DUPLICATE_COLUMN)}


# ------------------------------------------------------------------------------------------ rows
def test_good_row_is_normalised() -> None:
    product, issues = normalise_row(
        {
            "sku": "  SKU-1 ",
            "name": "Wireless\n  Headphones",
            "brand": "",
            "cost": "38",
            "price": "79.99",
            "currency": "eur",
            "attributes": '{"color": "black"}',
            "image_refs": "a.jpg| b.jpg ||",
            "upc": "036000291452",
            "isbn": "",
        },
        7,
    )
    assert issues == []
    assert product is not None
    assert product.sku == "SKU-1"
    assert product.name == "Wireless Headphones"
    assert product.brand is None
    assert product.cost == Decimal("38.0000") and product.price == Decimal("79.99")
    assert product.currency == "EUR"
    assert product.attributes == {"color": "black", "identifiers": {"upc": "036000291452"}}
    assert product.image_refs == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    ("changes", "field", "code", "fragment"),
    [
        ({"cost": "-1.00"}, "cost", IssueCode.INVALID_VALUE, "must not be negative"),
        ({"cost": "12,50"}, "cost", IssueCode.INVALID_VALUE, "dot as decimal separator"),
        ({"cost": "NaN"}, "cost", IssueCode.INVALID_VALUE, "must be a number"),
        ({"cost": ""}, "cost", IssueCode.MISSING_VALUE, "cost is required"),
        ({"cost": "1e12"}, "cost", IssueCode.INVALID_VALUE, "too large"),
        ({"price": "abc"}, "price", IssueCode.INVALID_VALUE, "must be a number"),
        ({"sku": ""}, "sku", IssueCode.MISSING_VALUE, "sku is required"),
        ({"sku": "S" * 65}, "sku", IssueCode.TOO_LONG, "65 characters"),
        ({"sku": "A\x07B"}, "sku", IssueCode.INVALID_VALUE, "control"),
        ({"name": "n" * 501}, "name", IssueCode.TOO_LONG, "at most 500"),
        ({"brand": "b" * 201}, "brand", IssueCode.TOO_LONG, "at most 200"),
        ({"currency": "XYZ"}, "currency", IssueCode.INVALID_VALUE, "ISO 4217"),
        ({"attributes": "[1, 2]"}, "attributes", IssueCode.INVALID_VALUE, "JSON object"),
        ({"attributes": "{not json"}, "attributes", IssueCode.INVALID_VALUE, "JSON object"),
        ({"attributes": '{"x": NaN}'}, "attributes", IssueCode.INVALID_VALUE, "NaN"),
        ({"image_refs": "[1, 2]"}, "image_refs", IssueCode.INVALID_VALUE, "JSON list of strings"),
        ({"ean": "4006381333932"}, "ean", IssueCode.INVALID_VALUE, "check digit"),
        ({"min_price": "10", "max_price": "5"}, "min_price", IssueCode.INCONSISTENT, "above max_price"),
    ],
)
def test_row_errors_name_the_field(changes: dict[str, str], field: str, code: str, fragment: str) -> None:
    product, issues = normalise_row({**GOOD, **changes}, 12)
    assert product is None
    matching = [i for i in issues if i.field == field and i.code == code]
    assert matching, issues
    assert matching[0].row_number == 12 and matching[0].severity == Severity.ERROR
    assert fragment in matching[0].message


def test_several_errors_in_one_row_are_all_reported() -> None:
    product, issues = normalise_row({"sku": "", "name": "", "cost": "-3", "currency": "??"}, 3)
    assert product is None
    assert codes(issues) == {
        ("sku", IssueCode.MISSING_VALUE),
        ("name", IssueCode.MISSING_VALUE),
        ("cost", IssueCode.INVALID_VALUE),
        ("currency", IssueCode.INVALID_VALUE),
    }


def test_price_warnings_keep_the_row() -> None:
    product, issues = normalise_row({**GOOD, "price": "3.00", "min_price": "3.50"}, 1)
    assert product is not None
    assert {i.severity for i in issues} == {Severity.WARNING}
    assert any("below cost 4.20" in i.message for i in issues)
    assert any("outside the range" in i.message for i in issues)


def test_json_lines_values_keep_their_types_and_stay_exact() -> None:
    product, issues = normalise_row(
        {
            "sku": 12345,
            "name": "N",
            "cost": 12.99,
            "price": 20,
            "attributes": {"a": [1, 2]},
            "image_refs": ["x.png"],
        },
        1,
    )
    assert issues == [] and product is not None
    assert product.sku == "12345"
    assert product.cost == Decimal("12.99") and product.price == Decimal("20")
    assert product.attributes == {"a": [1, 2]} and product.image_refs == ["x.png"]
    _, issues = normalise_row({**GOOD, "cost": True}, 1)
    assert codes(issues) == {("cost", IssueCode.INVALID_VALUE)}


def test_content_hash_ignores_formatting_but_not_content() -> None:
    a, _ = normalise_row({**GOOD, "cost": "4.2", "attributes": '{"b": 1, "a": 2}', "name": " Widget "}, 1)
    b, _ = normalise_row({**GOOD, "cost": "4.2000", "attributes": '{"a": 2, "b": 1}'}, 99)
    c, _ = normalise_row({**GOOD, "cost": "4.21"}, 1)
    assert a is not None and b is not None and c is not None
    assert a.content_hash == b.content_hash
    assert c.content_hash != a.content_hash


# ------------------------------------------------------------------------------------------ readers
CSV = (
    "\ufeffsku,name,cost\r\n"
    'A,"Multi\nline name",1\r\n'
    "\r\n"
    "B,Plain,2\r\n"
    'C,"bad"quote,3\r\n'
    "D,too,many,fields\r\n"
    ",,\r\n"
    "E,Last,5\r\n"
).encode()


def test_csv_records_carry_row_numbers_and_resume_from_any_offset() -> None:
    raw, data_offset = read_csv_header(io.BytesIO(CSV))
    header = check_header(raw)
    assert header.columns == ("sku", "name", "cost")
    records = list(
        iter_csv_records(
            io.BytesIO(CSV[data_offset:]), columns=header.columns, start_offset=data_offset, first_row=1
        )
    )
    assert [r.row_number for r in records] == [1, 2, 3, 4, 5]
    assert records[0].values == {"sku": "A", "name": "Multi\nline name", "cost": "1"}
    assert records[2].values is None and records[2].issue is not None
    assert records[2].issue.code == IssueCode.MALFORMED_ROW
    assert records[3].issue is not None and "4 fields but the header has 3" in records[3].issue.message
    assert records[-1].end_offset == len(CSV)
    # batches of two, each starting where the previous one ended, see exactly the same records
    resumed, offset, row = [], data_offset, 1
    while offset < len(CSV):
        batch = list(
            islice(
                iter_csv_records(
                    io.BytesIO(CSV[offset:]), columns=header.columns, start_offset=offset, first_row=row
                ),
                2,
            )
        )
        resumed += batch
        offset, row = batch[-1].end_offset, batch[-1].row_number + 1
    assert [(r.row_number, r.values) for r in resumed] == [(r.row_number, r.values) for r in records]


def test_invalid_utf8_names_the_byte() -> None:
    data = "sku,name,cost\nA,Caf\u00e9,1\n".encode("latin-1")
    _, offset = read_csv_header(io.BytesIO(data))
    with pytest.raises(CatalogFileError, match="not valid UTF-8 at byte 19"):
        list(
            iter_csv_records(
                io.BytesIO(data[offset:]), columns=("sku", "name", "cost"), start_offset=offset, first_row=1
            )
        )


def test_empty_file_has_no_header() -> None:
    with pytest.raises(CatalogFileError, match="empty"):
        read_csv_header(io.BytesIO(b"\n\n"))


def test_jsonl_rows_are_line_numbers_and_bad_lines_are_reported() -> None:
    data = b'{"SKU": "A", "name": "x", "cost": 1}\n\n[1]\n{oops\n{"sku": "B", "cost": NaN}\n'
    records = list(iter_jsonl_records(io.BytesIO(data), start_offset=0, first_row=1))
    assert [r.row_number for r in records] == [1, 3, 4, 5]
    assert records[0].values == {"sku": "A", "name": "x", "cost": 1}
    assert "JSON object, got list" in records[1].issue.message  # type: ignore[union-attr]
    assert all(r.values is None for r in records[1:])


def test_duplicate_skus_first_row_wins() -> None:
    dups = DuplicateSkus()
    assert dups.check({"sku": "A"}, 1) is None
    assert dups.check({"sku": " B "}, 2) is None
    issue = dups.check({"sku": "A "}, 7)
    assert issue is not None and issue.row_number == 7 and issue.code == IssueCode.DUPLICATE_SKU
    assert "first on row 1" in issue.message
    assert dups.check({"sku": ""}, 8) is None  # a missing SKU is reported by row validation instead


def test_validate_batch_skips_scanned_duplicates_and_never_yields_one_sku_twice() -> None:
    data = b"sku,name,cost,price\nA,a,1,2\nB,b,-1,2\nA,again,1,2\nC,c,5,1\nC,c2,5,6\nbroken\n"
    raw, offset = read_csv_header(io.BytesIO(data))
    records = list(
        iter_csv_records(
            io.BytesIO(data[offset:]), columns=check_header(raw).columns, start_offset=offset, first_row=1
        )
    )
    batch = validate_batch(records, duplicate_rows={3})
    assert [p.sku for p in batch.products] == ["A", "C"]
    assert batch.invalid_rows == 4  # B (negative cost), row 3 (scan duplicate), row 5 (C again), broken row
    assert {(i.row_number, i.code) for i in batch.issues} == {
        (2, IssueCode.INVALID_VALUE),
        (4, IssueCode.INCONSISTENT),  # price below cost: a warning, C is kept
        (5, IssueCode.DUPLICATE_SKU),
        (6, IssueCode.MALFORMED_ROW),
    }
    assert batch.warnings == 1


def test_changed_products_compares_content_hashes() -> None:
    a, _ = normalise_row({**GOOD, "sku": "A"}, 1)
    b, _ = normalise_row({**GOOD, "sku": "B"}, 2)
    c, _ = normalise_row({**GOOD, "sku": "C"}, 3)
    assert a is not None and b is not None and c is not None
    changed, new = changed_products([a, b, c], {"A": a.content_hash, "B": "old-hash", "Z": "x"})
    assert [p.sku for p in changed] == ["B", "C"] and new == 1
    changed, new = changed_products([a], {"A": None})  # a row written by something else than an import
    assert changed == [a] and new == 0

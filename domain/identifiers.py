"""Product identifiers: UPC, EAN, ISBN (check digits verified), ASIN and MPN (shape only).

Each `normalise_*` returns `(value, None)` on success or `(None, message)`; messages are meant for sellers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SEPARATORS = re.compile(r"[\s-]+")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
MPN_MAX = 100


def gtin_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10 check used by UPC-A, EAN-8, EAN-13 and ISBN-13: weights 3,1,3,... from the right."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def isbn10_check_digit_ok(chars: str) -> bool:
    total = 0
    for i, c in enumerate(chars):
        value = 10 if (c == "X" and i == 9) else int(c)
        total += value * (10 - i)
    return total % 11 == 0


def _clean(raw: str) -> str:
    return _SEPARATORS.sub("", raw.strip())


def _spreadsheet_hint(raw: str) -> str:
    # "1.23457E+11": a spreadsheet turned the code into a float and lost digits; nothing can restore them
    return (
        " (it looks like a spreadsheet turned it into a number; format the column as text)"
        if ("E+" in raw.upper() or "." in raw)
        else ""
    )


def normalise_upc(raw: str) -> tuple[str | None, str | None]:
    v = _clean(raw)
    if not v.isdigit():
        return None, f"UPC must contain only digits, got {raw!r}{_spreadsheet_hint(raw)}"
    if len(v) == 11:
        # spreadsheets drop the leading zero of UPCs; restoring it is safe because the check digit decides
        v = "0" + v
    if len(v) != 12:
        return None, f"UPC must have 12 digits, got {len(v)}"
    if not gtin_check_digit_ok(v):
        return None, f"UPC {v} has a wrong check digit"
    return v, None


def normalise_ean(raw: str) -> tuple[str | None, str | None]:
    v = _clean(raw)
    if not v.isdigit():
        return None, f"EAN must contain only digits, got {raw!r}{_spreadsheet_hint(raw)}"
    if len(v) not in (8, 13):
        return None, f"EAN must have 8 or 13 digits, got {len(v)}"
    if not gtin_check_digit_ok(v):
        return None, f"EAN {v} has a wrong check digit"
    return v, None


def normalise_isbn(raw: str) -> tuple[str | None, str | None]:
    v = _clean(raw).upper()
    if len(v) == 10:
        if not (v[:9].isdigit() and (v[9].isdigit() or v[9] == "X")):
            return None, f"ISBN-10 must be 9 digits and a digit or X, got {raw!r}"
        if not isbn10_check_digit_ok(v):
            return None, f"ISBN {v} has a wrong check digit"
        return v, None
    if len(v) == 13:
        if not v.isdigit() or v[:3] not in ("978", "979"):
            return None, f"ISBN-13 must be 13 digits starting with 978 or 979, got {raw!r}"
        if not gtin_check_digit_ok(v):
            return None, f"ISBN {v} has a wrong check digit"
        return v, None
    return None, f"ISBN must have 10 or 13 characters, got {len(v)}"


def normalise_asin(raw: str) -> tuple[str | None, str | None]:
    v = raw.strip().upper()
    if not _ASIN.match(v):
        return None, f"ASIN must be 10 letters or digits, got {raw!r}"
    return v, None


def normalise_mpn(raw: str) -> tuple[str | None, str | None]:
    v = raw.strip()
    if len(v) > MPN_MAX:
        return None, f"MPN is {len(v)} characters long; at most {MPN_MAX} allowed"
    if any(ord(c) < 32 for c in v):
        return None, "MPN contains control characters"
    return v, None


NORMALISERS: dict[str, Callable[[str], tuple[str | None, str | None]]] = {
    "upc": normalise_upc,
    "ean": normalise_ean,
    "isbn": normalise_isbn,
    "asin": normalise_asin,
    "mpn": normalise_mpn,
}


# ---------------------------------------------------------------- matching a listing to a product
GTIN_KINDS = ("gtin", "upc", "ean", "isbn")  # one family: the same product under any of them is one GTIN-14


def gtin14(kind: str, raw: str) -> str | None:
    """A UPC, EAN, ISBN or GTIN in GTIN-14 form (zero-padded; ISBN-10 through its ISBN-13), so one product's codes
    compare equal whichever a marketplace shows. None when the value is not a valid code of that kind."""
    kind = kind.lower()
    if kind == "isbn":
        value, error = normalise_isbn(raw)
        if error or value is None:
            return None
        if len(value) == 10:
            body = "978" + value[:9]
            check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
            value = body + str(check)
        return value.zfill(14)
    digits = _clean(raw)
    if not digits.isdigit() or len(digits) not in (8, 11, 12, 13, 14):
        return None
    if len(digits) == 11 and kind == "upc":
        digits = "0" + digits  # spreadsheets drop UPCs' leading zero (see normalise_upc)
    if len(digits) == 11 or not gtin_check_digit_ok(digits):
        return None
    return digits.zfill(14)


def match_keys(identifiers: dict[str, str]) -> set[tuple[str, str]]:
    """(kind, value) pairs a listing and a product are matched on: `gtin` (GTIN-14 of any UPC / EAN / ISBN / GTIN),
    `asin`, `mpn` (case- and space-insensitive). Invalid values are left out: they would match nothing real."""
    keys: set[tuple[str, str]] = set()
    for kind, raw in identifiers.items():
        if not isinstance(raw, str) or not raw.strip():
            continue
        k = kind.lower()
        if k in GTIN_KINDS:
            value = gtin14(k, raw)
            if value:
                keys.add(("gtin", value))
        elif k == "asin":
            asin, error = normalise_asin(raw)
            if asin and not error:
                keys.add(("asin", asin))
        elif k == "mpn":
            mpn = " ".join(raw.split()).upper()
            if mpn and len(mpn) <= MPN_MAX:
                keys.add(("mpn", mpn))
    return keys

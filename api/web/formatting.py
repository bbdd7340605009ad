"""Values as people read them on the pages: money with its currency, moments relative and absolute in the seller's
time zone, numbers in the configured locale (Babel), and links only where they are safe.

One `Formatter` per rendered page (built from settings by api.web.render), so every template shows "$12.99", never
"12.9900", and "3 hours ago (Dec 3, 2026, 10:15 AM UTC)", never an ISO string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_currency, format_decimal, format_percent
from markupsafe import Markup

DEFAULT_LOCALE = "en_US"


def safe_url(url: Any) -> str | None:
    """The URL if it may become a link or an image source (http / https with a host), else None: `javascript:`,
    `data:`, `vbscript:`, relative or malformed URLs are shown as text instead."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return text


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


@dataclass
class Formatter:
    locale: str = DEFAULT_LOCALE
    time_zone: str = "UTC"
    currency: str = "USD"  # for amounts whose proposal names none
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        try:
            Locale.parse(self.locale)
        except (UnknownLocaleError, ValueError):
            self.locale = DEFAULT_LOCALE
        try:
            self._tz: tzinfo = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            self._tz = UTC

    # ------------------------------------------------------------ numbers
    def money(self, value: Any, currency: str | None = None, *, signed: bool = False) -> str:
        """'$12.99' (the currency's own digits); text that is not a number is shown as it is."""
        amount = _number(value)
        if amount is None:
            return "—" if value is None else str(value)
        text = format_currency(amount, currency or self.currency, locale=self.locale)
        return f"+{text}" if signed and amount > 0 else text

    def number(self, value: Any) -> str:
        amount = _number(value)
        if amount is None:
            return "—" if value is None else str(value)
        return format_decimal(amount, locale=self.locale, decimal_quantization=False, format="#,##0.####")

    def percent(self, value: Any, *, signed: bool = False) -> str:
        """A value in percent (12.5 -> '12.5%')."""
        amount = _number(value)
        if amount is None:
            return "—" if value is None else str(value)
        text = format_percent(amount / 100, locale=self.locale, format="#,##0.#%")
        return f"+{text}" if signed and amount > 0 else text

    # ------------------------------------------------------------ moments
    def absolute(self, at: datetime | None) -> str:
        """'Dec 3, 2026, 10:15 AM UTC' in the seller's time zone and the locale's order."""
        if at is None:
            return ""
        local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(self._tz)
        day = format_date(local, "medium", locale=self.locale)
        clock = format_time(local, "short", tzinfo=local.tzinfo, locale=self.locale)
        return f"{day}, {clock} {local.strftime('%Z')}"

    def relative(self, at: datetime | None) -> str:
        """'3 hours ago' / 'in 2 days'."""
        if at is None:
            return ""
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        delta = at - self.now
        if abs(delta.total_seconds()) < 45:
            return "just now"
        return format_timedelta(delta, add_direction=True, threshold=0.9, locale=self.locale)

    def moment(self, at: datetime | None, *, compact: bool = False) -> Markup:
        """A <time> element: relative and absolute (compact: the absolute one in the tooltip only)."""
        if at is None:
            return Markup("")
        rel, abs_, iso = self.relative(at), self.absolute(at), at.isoformat()
        # Markup.format escapes every argument
        if compact:
            return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, abs_, rel)
        return Markup('<time datetime="{}">{} <span class="abs">({})</span></time>').format(iso, rel, abs_)

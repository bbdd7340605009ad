"""Make copy fit a marketplace: a validator that names every rule broken, and a fitter that repairs what
can be repaired mechanically (truncate at word or sentence boundaries, strip disallowed characters and
promotional phrases, fold bullets into the description where a marketplace has no bullet field).

`validate_copy(fit_copy(c, r).listing, r)` is always empty: the fitter only ever produces valid copy.
"""

from __future__ import annotations

import html
import re
from collections import Counter

from pydantic import BaseModel

from domain.ingest.draft import ListingCopy
from domain.listing.rules import STOP_WORDS, CopyRules

_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"[ \t]+")
_TRAILING = re.compile(r"[\s,;:\-–&/(]+$|\s+(?:and|or|with|for|of|the|a|an|in|on|by|&)$", re.IGNORECASE)
_WORD = re.compile(r"[\w'’]+", re.UNICODE)


class CopyIssue(BaseModel):
    field: str
    code: str
    message: str


class FittedCopy(BaseModel):
    listing: ListingCopy
    short_description: str | None = None  # WooCommerce: the bullets as a list
    changes: list[str]


def _plain(text: str) -> str:
    text = _CONTROL.sub("", html.unescape(_TAG.sub(" ", text)))
    return _SPACE.sub(" ", text).strip()


def _clean_text(text: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def truncate_words(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary and without a dangling connector."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit * 0.5 else text[:limit]
    for _ in range(3):  # "..., with" / "... and the": a few connectors at most, never the whole text
        shorter = _TRAILING.sub("", cut).rstrip()
        if not shorter or shorter == cut:
            break
        cut = shorter
    return cut[:limit]


def truncate_sentences(text: str, limit: int) -> str:
    """Whole sentences when they fill at least half the room, else words."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "), head.rfind(".\n"))
    if end >= limit * 0.5:
        return head[: end + 1]
    return truncate_words(text, limit)


def _promotional(text: str, rules: CopyRules) -> list[str]:
    low = text.lower()
    return [p for p in rules.promotional_phrases if re.search(r"(?<!\w)" + re.escape(p) + r"(?!\w)", low)]


def _repeated_words(title: str, rules: CopyRules) -> list[str]:
    if rules.title_max_word_repeats is None:
        return []
    counts = Counter(w.lower() for w in _WORD.findall(title) if w.lower() not in STOP_WORDS)
    return sorted(w for w, n in counts.items() if n > rules.title_max_word_repeats)


def _keywords_bytes(keywords: list[str]) -> int:
    return len(" ".join(keywords).encode("utf-8"))


def validate_copy(listing: ListingCopy, rules: CopyRules) -> list[CopyIssue]:
    issues: list[CopyIssue] = []

    def add(field: str, code: str, message: str) -> None:
        issues.append(CopyIssue(field=field, code=code, message=f"{rules.marketplace}: {message}"))

    t = listing.title
    if not t.strip():
        add("title", "empty", "the title is empty")
    if len(t) > rules.title_max:
        add("title", "too_long", f"the title has {len(t)} characters; at most {rules.title_max}")
    bad = sorted({c for c in t if c in rules.title_forbidden_chars})
    if bad:
        add("title", "forbidden_chars", f"the title contains {' '.join(bad)}")
    for phrase in _promotional(t, rules):
        add("title", "promotional", f"the title contains the promotional phrase {phrase!r}")
    for word in _repeated_words(t, rules):
        add(
            "title",
            "repeated_word",
            f"the word {word!r} appears more than {rules.title_max_word_repeats} times",
        )
    if _TAG.search(t) or _CONTROL.search(t):
        add("title", "markup", "the title contains HTML or control characters")
    if listing.bullets and (rules.bullet_field != "bullets" or rules.bullets_max == 0):
        add(
            "bullets",
            "unsupported",
            f"no bullet field: bullets belong in the {rules.bullet_field.replace('_', ' ')}",
        )
    elif len(listing.bullets) > rules.bullets_max:
        add("bullets", "too_many", f"{len(listing.bullets)} bullet points; at most {rules.bullets_max}")
    for i, b in enumerate(listing.bullets):
        if len(b) > rules.bullet_max:
            add(
                f"bullets[{i}]",
                "too_long",
                f"bullet {i + 1} has {len(b)} characters; at most {rules.bullet_max}",
            )
    d = listing.description
    if rules.description_max is not None and len(d) > rules.description_max:
        add(
            "description",
            "too_long",
            f"the description has {len(d)} characters; at most {rules.description_max}",
        )
    if not rules.description_html and _TAG.search(d):
        add("description", "markup", "HTML is not allowed in the description")
    if re.search(r"<\s*(script|iframe|object|embed|style)\b|\bon\w+\s*=", d, re.IGNORECASE):
        add("description", "active_content", "scripts, frames and event handlers are not allowed")
    kw = listing.keywords
    if rules.keywords_max_count is not None and len(kw) > rules.keywords_max_count:
        add("keywords", "too_many", f"{len(kw)} keywords; at most {rules.keywords_max_count}")
    if rules.keyword_max is not None:
        for k in kw:
            if len(k) > rules.keyword_max:
                add(
                    "keywords",
                    "too_long",
                    f"keyword {k[:30]!r} is longer than {rules.keyword_max} characters",
                )
    if rules.keywords_max_bytes is not None and _keywords_bytes(kw) > rules.keywords_max_bytes:
        add(
            "keywords",
            "too_many_bytes",
            f"keywords take {_keywords_bytes(kw)} bytes; at most {rules.keywords_max_bytes}",
        )
    return issues


def _fit_title(title: str, rules: CopyRules, changes: list[str]) -> str:
    t = _plain(title)
    for phrase in _promotional(t, rules):
        t = re.sub(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", " ", t, flags=re.IGNORECASE)
        changes.append(f"title: removed the promotional phrase {phrase!r}")
    if rules.title_forbidden_chars and any(c in rules.title_forbidden_chars for c in t):
        t = "".join(" " if c in rules.title_forbidden_chars else c for c in t)
        changes.append("title: removed characters this marketplace does not allow")
    repeated = set(_repeated_words(t, rules))
    if repeated:
        seen: Counter[str] = Counter()
        kept = []
        for token in t.split(" "):
            key = " ".join(w.lower() for w in _WORD.findall(token))
            seen[key] += 1
            if key in repeated and seen[key] > (rules.title_max_word_repeats or 0):
                continue
            kept.append(token)
        t = " ".join(kept)
        changes.append(f"title: dropped repeats of {', '.join(sorted(repeated))}")
    t = _SPACE.sub(" ", t).strip(" ,;-")
    if len(t) > rules.title_max:
        t = truncate_words(t, rules.title_max)
        changes.append(f"title: shortened to {len(t)} characters at a word boundary")
    return t


def _bullet_list(bullets: list[str], as_html: bool) -> str:
    if as_html:
        return "<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in bullets) + "</ul>"
    return "\n".join(f"• {b}" for b in bullets)


def _strip_active(text: str) -> str:
    text = re.sub(
        r"<\s*(script|style|iframe|object|embed)\b.*?(</\s*\1\s*>|$)",
        " ",
        text,
        flags=re.IGNORECASE | re.DOTALL,
    )
    return re.sub(r"\s+on\w+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", "", text, flags=re.IGNORECASE)


def fit_copy(listing: ListingCopy, rules: CopyRules) -> FittedCopy:
    changes: list[str] = []
    title = _fit_title(listing.title, rules, changes)
    bullets = [_plain(b) for b in listing.bullets if _plain(b)]
    if rules.description_html:
        description = _clean_text(_strip_active(listing.description))
    else:
        description = _plain(listing.description)
    short_description = None
    if bullets and (rules.bullets_max == 0 or rules.bullet_field != "bullets"):
        folded = _bullet_list([truncate_words(b, rules.bullet_max) for b in bullets], rules.description_html)
        if rules.bullet_field == "short_description":
            short_description = folded
            changes.append("bullets: moved to the short description")
        else:
            description = (
                f"{description}\n{folded}".strip() if not rules.description_html else description + folded
            )
            changes.append("bullets: folded into the description (no bullet field)")
        bullets = []
    if len(bullets) > rules.bullets_max:
        changes.append(f"bullets: kept the first {rules.bullets_max} of {len(bullets)}")
        bullets = bullets[: rules.bullets_max]
    for i, b in enumerate(bullets):
        if len(b) > rules.bullet_max:
            bullets[i] = truncate_sentences(b, rules.bullet_max)
            changes.append(f"bullet {i + 1}: shortened to {len(bullets[i])} characters")
    if rules.description_max is not None and len(description) > rules.description_max:
        if rules.description_html:
            description = _plain(description)  # never cut inside a tag
        description = truncate_sentences(description, rules.description_max)
        changes.append(f"description: shortened to {len(description)} characters")
    keywords = _fit_keywords(listing.keywords, rules, changes)
    fitted = ListingCopy(title=title, bullets=bullets, description=description, keywords=keywords)
    return FittedCopy(listing=fitted, short_description=short_description, changes=changes)


def _fit_keywords(raw: list[str], rules: CopyRules, changes: list[str]) -> list[str]:
    keywords: list[str] = []
    for k in raw:
        k = _plain(k).lower().strip(" ,;")
        if rules.keyword_max is not None:
            k = truncate_words(k, rules.keyword_max)
        if k and k not in keywords:
            keywords.append(k)
    if rules.keywords_max_count is not None and len(keywords) > rules.keywords_max_count:
        keywords = keywords[: rules.keywords_max_count]
        changes.append(f"keywords: kept {len(keywords)}")
    if rules.keywords_max_bytes is not None:
        while keywords and _keywords_bytes(keywords) > rules.keywords_max_bytes:
            keywords.pop()
        if len(keywords) < len(raw):
            changes.append(f"keywords: kept {len(keywords)} within {rules.keywords_max_bytes} bytes")
    return keywords

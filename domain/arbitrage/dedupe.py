"""Duplicate offers: the same source id seen again, or the same item posted twice - one seller's repost under a new
id (near-identical title), or a cross-post on another source (near-identical photo, similar title and price).
Two people selling the same model at the same price are two items, not a duplicate: a title alone only counts
within one seller's offers.

Built for batches of thousands: candidates come from blocking keys (the normalised title, each model-like token,
the seller, and four 16-bit bands of the photo's 64-bit perceptual hash, so two hashes within 3 bits share a band), and only
candidates are compared. `DedupeIndex` keeps what a scan has seen; the shell preloads it with the candidates the
database holds for the batch's keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel

# Words that change nothing about what the item is.
STOP_WORDS = frozenset(
    """a an and the for with of in on to by new used brand like mint excellent great good condition sealed box
    nib obo firm sale selling must go only works working perfect lot free pickup local cash""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")
_JOINER = re.compile(r"(?<=[a-z0-9])[-./](?=[a-z0-9])")  # "WH-1000XM4" and "WH1000XM4" are one model
TITLE_SIMILARITY = 0.8  # Jaccard of the title's word sets
PRICE_TOLERANCE = Decimal("0.15")  # a repost is usually at (about) the same price
PHASH_MAX_DISTANCE = 6  # bits out of 64 (a re-saved or resized photo stays within a few)
PHOTO_TITLE_SIMILARITY = 0.5  # a cross-post keeps most of its title
BANDS = 4


def title_tokens(title: str) -> frozenset[str]:
    return frozenset(t for t in _TOKEN.findall(_JOINER.sub("", title.lower())) if t not in STOP_WORDS)


def title_key(tokens: frozenset[str]) -> str:
    return " ".join(sorted(tokens))


def model_tokens(tokens: Iterable[str]) -> list[str]:
    """Tokens that look like model numbers (letters and digits, 4+ characters): strong blocking keys."""
    return sorted(
        t for t in tokens if len(t) >= 4 and any(c.isdigit() for c in t) and any(c.isalpha() for c in t)
    )


def phash_bands(phash: str | None) -> list[str]:
    if not phash or len(phash) != 16:
        return []
    return [f"{i}:{phash[i * 4 : (i + 1) * 4]}" for i in range(BANDS)]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


class Fingerprint(BaseModel):
    """What dedupe keeps of an offer (also stored with it, so later scans can match against it)."""

    offer_key: str  # "<source>:<source_id>"
    title_key: str
    price: Decimal
    phash: str | None = None
    seller: str | None = None

    def tokens(self) -> frozenset[str]:
        return frozenset(self.title_key.split())

    def blocking_keys(self) -> list[str]:
        toks = self.tokens()
        keys = [f"t:{self.title_key}"] if self.title_key else []
        keys += [f"m:{t}" for t in model_tokens(toks)]
        keys += [f"p:{b}" for b in phash_bands(self.phash)]
        if self.seller:
            keys.append(f"s:{self.seller}")  # a seller's own reposts, whatever the new title
        return keys


def fingerprint(
    offer_key: str, title: str, price: Decimal, phash: str | None, seller: str | None
) -> Fingerprint:
    return Fingerprint(
        offer_key=offer_key, title_key=title_key(title_tokens(title)), price=price, phash=phash, seller=seller
    )


def same_item(a: Fingerprint, b: Fingerprint) -> str | None:
    """Why `a` duplicates `b`, or None. Sellers are namespaced by source ("classifieds:u123")."""
    sim = jaccard(a.tokens(), b.tokens())
    if sim >= TITLE_SIMILARITY and a.seller and a.seller == b.seller:
        return f"repost of {b.offer_key} (same seller, title {sim:.0%} alike)"
    if (
        a.phash
        and b.phash
        and sim >= PHOTO_TITLE_SIMILARITY
        and hamming(a.phash, b.phash) <= PHASH_MAX_DISTANCE
    ):
        # a manufacturer's stock photo is shared by many sellers: the photo counts only at a similar price
        low, high = sorted((a.price, b.price))
        if high <= low * (1 + PRICE_TOLERANCE):
            return f"same photo as {b.offer_key}"
    return None


@dataclass
class DedupeIndex:
    seen_keys: set[str] = field(default_factory=set)  # offer keys (source:source_id)
    _blocks: dict[str, list[Fingerprint]] = field(default_factory=dict)

    def add(self, fp: Fingerprint) -> None:
        self.seen_keys.add(fp.offer_key)
        for key in fp.blocking_keys():
            self._blocks.setdefault(key, []).append(fp)

    def check(self, fp: Fingerprint) -> str | None:
        """None for a new item; else why it is a duplicate (the source id, or the item it repeats)."""
        if fp.offer_key in self.seen_keys:
            return "seen before (same source id)"
        checked: set[str] = set()
        for key in fp.blocking_keys():
            for other in self._blocks.get(key, ()):
                if other.offer_key in checked or other.offer_key == fp.offer_key:
                    continue
                checked.add(other.offer_key)
                why = same_item(fp, other)
                if why:
                    return why
        return None

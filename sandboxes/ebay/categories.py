"""The eBay sandbox's category tree: a handful of eBay US leaf categories with their paths, the words that
suggest them, and the item aspects each requires or recommends (Taxonomy API shapes).

Ids and names follow eBay US's tree; the aspect lists are a faithful subset (the real ones are longer). Real
suggestions come from eBay's search models; here a category scores by the words of the query it knows.
"""

from __future__ import annotations

from typing import Any

TREE_ID, TREE_VERSION = "0", "130"


def _aspect(
    name: str,
    *,
    required: bool = False,
    recommended: bool = False,
    values: tuple[str, ...] = (),
    mode: str = "FREE_TEXT",
    cardinality: str = "SINGLE",
    max_length: int = 65,
) -> dict[str, Any]:
    constraint: dict[str, Any] = {
        "aspectDataType": "STRING",
        "aspectMode": mode if values else "FREE_TEXT",
        "aspectRequired": required,
        "aspectUsage": "RECOMMENDED" if (required or recommended) else "OPTIONAL",
        "itemToAspectCardinality": cardinality,
        "aspectMaxLength": max_length,
        "aspectEnabledForVariations": False,
    }
    doc: dict[str, Any] = {"localizedAspectName": name, "aspectConstraint": constraint}
    if values:
        doc["aspectValues"] = [{"localizedValue": v} for v in values]
    return doc


COLOURS = ("Beige", "Black", "Blue", "Brown", "Gold", "Gray", "Green", "Multicolor", "Orange", "Pink", "Purple", "Red",
           "Silver", "White", "Yellow")  # fmt: skip
BRAND = _aspect("Brand", required=True)
COLOR = _aspect("Color", recommended=True)
MATERIAL = _aspect("Material", recommended=True)
TYPE = _aspect("Type", recommended=True)

# id -> (name, ancestors root first, words, aspects)
CATEGORIES: dict[str, tuple[str, list[str], tuple[str, ...], list[dict[str, Any]]]] = {
    "20625": (
        "Mugs",
        ["Home & Garden", "Kitchen, Dining & Bar", "Dinnerware & Serving Dishes"],
        ("mug", "mugs", "cup", "coffee", "tea", "ceramic"),
        [BRAND, TYPE, COLOR, MATERIAL, _aspect("Capacity", recommended=True)],
    ),
    "15687": (
        "T-Shirts",
        ["Clothing, Shoes & Accessories", "Men", "Men's Clothing", "Shirts"],
        ("t-shirt", "tshirt", "tee", "shirt", "cotton"),
        [
            BRAND,
            _aspect(
                "Size",
                required=True,
                values=("XS", "S", "M", "L", "XL", "XXL", "XXXL"),
                mode="SELECTION_ONLY",
            ),
            _aspect(
                "Department", required=True, values=("Men", "Women", "Unisex Adults"), mode="SELECTION_ONLY"
            ),
            COLOR,
            MATERIAL,
        ],
    ),
    "261186": (
        "Books",
        ["Books & Magazines"],
        ("book", "books", "isbn", "novel", "atlas", "paperback", "hardcover"),
        [
            _aspect("Book Title", required=True),
            _aspect("Author", required=True),
            _aspect("Language", required=True),
        ],
    ),
    "112581": (
        "Lamps",
        ["Home & Garden", "Lamps, Lighting & Ceiling Fans"],
        ("lamp", "lamps", "light", "lighting", "desk"),
        [BRAND, TYPE, COLOR, _aspect("Model", recommended=True)],
    ),
    "45238": (
        "Scarves & Wraps",
        ["Clothing, Shoes & Accessories", "Women", "Women's Accessories"],
        ("scarf", "scarves", "wrap", "shawl", "silk"),
        [BRAND, COLOR, MATERIAL, _aspect("Size", recommended=True)],
    ),
    "20694": (
        "Thermoses & Flasks",
        ["Home & Garden", "Kitchen, Dining & Bar", "Flasks"],
        ("flask", "thermos", "bottle", "vacuum", "insulated", "stainless", "steel"),
        [BRAND, COLOR, MATERIAL, _aspect("Capacity", recommended=True)],
    ),
    "26677": (
        "Storage Boxes",
        ["Home & Garden", "Household Supplies & Cleaning", "Home Organization"],
        ("box", "boxes", "storage", "container", "bin"),
        [BRAND, COLOR, MATERIAL, _aspect("Item Dimensions", recommended=True)],
    ),
    "9355": (
        "Cell Phones & Smartphones",
        ["Cell Phones & Accessories"],
        ("phone", "smartphone", "mobile", "cell"),
        [BRAND, _aspect("Model", required=True), COLOR],
    ),
    "99": ("Everything Else", [], (), [BRAND]),
}


def suggest(query: str, limit: int = 5) -> list[dict[str, Any]]:
    words = {w.strip(".,:;!?()\"'").lower() for w in query.split()}
    scored = []
    for cid, (_, _, vocabulary, _) in CATEGORIES.items():
        score = len(words & set(vocabulary))
        if score:
            scored.append((score, cid))
    scored.sort(key=lambda s: (-s[0], s[1]))
    picks = [(s, cid) for s, cid in scored[:limit]] or [(0, "99")]
    return [_suggestion(cid, score) for score, cid in picks]


def _suggestion(cid: str, score: int) -> dict[str, Any]:
    name, path, _, _ = CATEGORIES[cid]
    ancestors = [
        {
            "categoryId": f"{cid}-{level}",
            "categoryName": ancestor,
            "categorySubtreeNodeHref": f"/commerce/taxonomy/v1/category_tree/{TREE_ID}/get_category_subtree",
            "categoryTreeNodeLevel": level + 1,
        }
        for level, ancestor in enumerate(path)
    ]
    return {
        "category": {"categoryId": cid, "categoryName": name},
        "categoryTreeNodeAncestors": list(reversed(ancestors)),  # eBay lists the parent first
        "categoryTreeNodeLevel": len(path) + 1,
        "relevancy": "HIGH" if score >= 2 else "MEDIUM" if score == 1 else "LOW",
    }


def aspects(cid: str) -> list[dict[str, Any]] | None:
    found = CATEGORIES.get(cid)
    return None if found is None else found[3]

"""Catalog files sellers already have (Shopify products CSV, WooCommerce product CSV, Amazon inventory and flat
files), an explicit column mapping, variants, and the `quantity` column's way into stock through the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from temporalio.worker import Worker

from activities.catalog.files import read_batch, scan_file
from domain.catalog.presets import ImportOptions
from domain.catalog.records import validate_batch
from tests.catalog.test_api import URL, finished, query

SHOPIFY = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,"
    "Option2 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Price,"
    "Variant Compare At Price,Variant Barcode,Image Src,Image Position,Variant Image,Cost per item,Status\n"
    "classic-tee,Classic Tee,<p>Soft</p>,Acme,Apparel,Shirts,,TRUE,Size,S,Color,Red,TEE-S-RED,200,shopify,5,19.99,,"
    "036000291452,https://cdn.example/tee.jpg,1,,7.50,active\n"
    ",,,,,,,,,,,,,,,,,,,https://cdn.example/tee-back.jpg,2,,,\n".replace(
        ",,,,,,,,,,,,,,,,,,,https", "classic-tee,,,,,,,,,,,,,,,,,,,https"
    )
    + "classic-tee,,,,,,,,,M,,Red,TEE-M-RED,200,shopify,3,19.99,,,,,,7.50,\n"
    "mug,Big Mug,,Acme,Kitchen,Mugs,,TRUE,Title,Default Title,,,MUG-1,300,shopify,12,9.50,,4006381333931,,,,,active\n"
)
WOO = (
    'ID,Type,SKU,Name,Published,"Regular price",Categories,Images,Parent,Stock,"GTIN, UPC, EAN, or ISBN",Brands,'
    '"Attribute 1 name","Attribute 1 value(s)"\n'
    '10,variable,HOODIE,Hoodie,1,,"Clothing > Hoodies",https://shop.example/h.jpg,,,,Zed,Size,"S, M"\n'
    "11,variation,HOODIE-S,Hoodie - S,1,35.00,,,id:10,4,4006381333931,,Size,S\n"
    "12,variation,HOODIE-M,Hoodie - M,1,35.00,,,id:10,0,,,Size,M\n"
    "13,simple,CAP,Cap,1,12.00,Accessories,,,9,036000291452,Zed,,\n"
    "14,grouped,SET,Gift set,1,,,,,,,,,\n"
)
AMAZON_LOADER = (
    "sku\tproduct-id\tproduct-id-type\tprice\tminimum-seller-allowed-price\tmaximum-seller-allowed-price\t"
    "item-condition\tquantity\tadd-delete\n"
    "AMZ-1\t036000291452\t3\t14.99\t10.00\t20.00\t11\t7\ta\n"
    "AMZ-2\tB00TESTASN\t1\t9.99\t\t\t11\t0\ta\n"
)
AMAZON_FLAT = (
    "TemplateType=fptcustom\tVersion=2021.1114\tThe top 3 rows are for Amazon.com use only. Do not modify or delete.\n"
    "Product Type\tSeller SKU\tBrand Name\tProduct Name\tProduct ID\tProduct ID Type\tStandard Price\tQuantity\t"
    "Parentage\tParent SKU\tColor\tSize\n"
    "feed_product_type\titem_sku\tbrand_name\titem_name\texternal_product_id\texternal_product_id_type\t"
    "standard_price\tquantity\tparent_child\tparent_sku\tcolor_name\tsize_name\n"
    "shirt\tFLAT-P\tAcme\tFlat shirt\t\t\t\t\tparent\t\t\t\n"
    "shirt\tFLAT-S\tAcme\tFlat shirt S\t4006381333931\tEAN\t21.00\t6\tchild\tFLAT-P\tBlue\tS\n"
)


def products(path: Path, options: ImportOptions, size: int = 1000) -> tuple[list[Any], list[Any], int]:
    scan = scan_file(path, "csv", heartbeat=lambda n: None, options=options)
    assert scan.fatal_error is None, scan.issues
    records = read_batch(path, "csv", start_offset=scan.data_offset, first_row=1, size=size, options=options)
    batch = validate_batch(records, set(), options)
    return batch.products, batch.issues, batch.skipped_rows


def test_shopify_products_csv(tmp_path: Path) -> None:
    path = tmp_path / "products_export.csv"
    path.write_text(SHOPIFY)
    rows, issues, skipped = products(path, ImportOptions(preset="shopify"))
    by = {p.sku: p for p in rows}
    assert list(by) == ["TEE-S-RED", "TEE-M-RED", "MUG-1"] and skipped == 1  # the image row is no product
    tee = by["TEE-M-RED"]  # a variant row: title and vendor come from the product's first row
    assert (tee.name, tee.brand, tee.category, str(tee.cost), tee.quantity) == (
        "Classic Tee - M / Red",
        "Acme",
        "Apparel",
        "7.5000",
        3,
    )
    assert (tee.parent_sku, tee.options) == ("classic-tee", {"Size": "M", "Color": "Red"})
    assert by["TEE-S-RED"].attributes["identifiers"] == {"upc": "036000291452"}
    mug = by["MUG-1"]
    assert (mug.parent_sku, mug.options, mug.name) == (None, None, "Big Mug")  # Default Title: no variants
    assert str(mug.cost) == "0.0000" and mug.attributes["needs_cost"] is True
    assert any(i.field == "cost" and i.row_number == 4 for i in issues)


def test_shopify_variants_never_split_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "products_export.csv"
    path.write_text(SHOPIFY)
    options = ImportOptions(preset="shopify")
    scan = scan_file(path, "csv", heartbeat=lambda n: None, options=options)
    first = read_batch(path, "csv", start_offset=scan.data_offset, first_row=1, size=1, options=options)
    assert [r.row_number for r in first] == [1, 2, 3]  # the tee's image and M rows come along
    second = read_batch(path, "csv", start_offset=first[-1].end_offset, first_row=4, size=1, options=options)
    assert [r.values["Variant SKU"] for r in second if r.values] == ["MUG-1"]


def test_woocommerce_product_csv(tmp_path: Path) -> None:
    path = tmp_path / "wc-product-export.csv"
    path.write_text(WOO)
    rows, _, skipped = products(path, ImportOptions(preset="woocommerce"))
    by = {p.sku: p for p in rows}
    assert list(by) == ["HOODIE", "HOODIE-S", "HOODIE-M", "CAP"] and skipped == 1  # the grouped product
    s = by["HOODIE-S"]
    assert (s.parent_sku, s.options, str(s.price), s.quantity, s.brand, s.category) == (
        "HOODIE", {"Size": "S"}, "35.0000", 4, "Zed", "Clothing > Hoodies")  # fmt: skip
    assert s.attributes["identifiers"] == {"ean": "4006381333931"}
    assert by["CAP"].attributes["identifiers"] == {"upc": "036000291452"} and by["HOODIE"].image_refs == [
        "https://shop.example/h.jpg"
    ]


def test_amazon_inventory_loader_and_flat_file(tmp_path: Path) -> None:
    loader = tmp_path / "inventory.txt"
    loader.write_text(AMAZON_LOADER)
    rows, issues, _ = products(loader, ImportOptions(preset="amazon"))
    by = {p.sku: p for p in rows}
    assert by["AMZ-1"].attributes["identifiers"] == {"upc": "036000291452"}
    assert (str(by["AMZ-1"].min_price), str(by["AMZ-1"].max_price), by["AMZ-1"].quantity) == (
        "10.0000",
        "20.0000",
        7,
    )
    assert by["AMZ-2"].attributes["identifiers"] == {"asin": "B00TESTASN"} and by["AMZ-2"].name == "AMZ-2"
    assert any(i.field == "name" for i in issues)  # the loader has no names: the SKU stands in, said so

    flat = tmp_path / "flat.txt"
    flat.write_text(AMAZON_FLAT)
    rows, _, _ = products(flat, ImportOptions(preset="amazon"))
    by = {p.sku: p for p in rows}
    assert set(by) == {"FLAT-P", "FLAT-S"}
    assert (by["FLAT-S"].parent_sku, by["FLAT-S"].options, by["FLAT-S"].brand) == (
        "FLAT-P",
        {"Color": "Blue", "Size": "S"},
        "Acme",
    )


def test_explicit_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("Item code,Description,Unit cost,On hand,EAN\nX-1,Widget,2.5,40,4006381333931\n")
    options = ImportOptions(
        mapping={"sku": "Item code", "name": "Description", "cost": "Unit cost", "quantity": "On hand"}
    )
    [p], _issues, _ = products(path, options)
    assert (p.sku, p.name, str(p.cost), p.quantity, p.attributes["identifiers"]) == (
        "X-1",
        "Widget",
        "2.5000",
        40,
        {"ean": "4006381333931"},
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("Code,Description\nX,Y\n")
    scan = scan_file(bad, "csv", heartbeat=lambda n: None, options=options)
    assert scan.fatal_error and "Item code" in scan.fatal_error


async def test_quantity_becomes_stock_through_the_ledger(
    api_client: httpx.AsyncClient, operator: dict[str, str], catalog_worker: Worker
) -> None:
    async def upload(text: str, **params: str) -> dict[str, Any]:
        r = await api_client.post(
            URL, params=params, headers={**operator, "content-type": "text/csv"}, content=text.encode()
        )
        return await finished(api_client, operator, r)

    first = await upload("sku,name,cost,quantity,ean\nQ-1,One,1.00,10,4006381333931\nQ-2,Two,1.00,0,\n")
    assert first["counts"]["stock_set"] == 2
    levels = dict(query(api_client, "SELECT sku, on_hand FROM stock_level ORDER BY sku"))
    assert levels == {"Q-1": 10, "Q-2": 0}
    ledger = query(api_client, "SELECT sku, kind, quantity FROM stock_ledger ORDER BY id")
    assert ledger == [("Q-1", "receipt", 10)]  # nothing to receive for 0
    assert query(api_client, "SELECT kind, value FROM product_identifier WHERE sku = 'Q-1'") == [
        ("gtin", "04006381333931")
    ]

    # re-importing with other quantities leaves existing stock alone by default ...
    again = await upload("sku,name,cost,stock\nQ-1,One,1.00,3\nQ-3,Three,1.00,5\n")
    assert again["counts"]["stock_set"] == 1
    assert dict(query(api_client, "SELECT sku, on_hand FROM stock_level ORDER BY sku")) == {
        "Q-1": 10,
        "Q-2": 0,
        "Q-3": 5,
    }
    # ... and sets it when asked, as an adjustment in the ledger
    asked = await upload("sku,name,cost,quantity\nQ-1,One,1.00,3\n", stock="set")
    assert asked["counts"]["stock_set"] == 1
    assert dict(query(api_client, "SELECT sku, on_hand FROM stock_level WHERE sku = 'Q-1'")) == {"Q-1": 3}
    assert query(api_client, "SELECT kind, quantity FROM stock_ledger WHERE sku = 'Q-1' ORDER BY id") == [
        ("receipt", 10),
        ("adjustment", -7),
    ]

    bad = await api_client.post(
        URL,
        params={"mapping": '{"nope": "x"}'},
        headers={**operator, "content-type": "text/csv"},
        content=b"a\n1\n",
    )
    assert bad.status_code == 422 and "unknown field" in bad.json()["error"]["message"]
    shop = await upload(SHOPIFY, preset="shopify")
    assert (shop["counts"]["inserted"], shop["counts"]["stock_set"]) == (3, 3)
    variants = query(
        api_client, "SELECT sku, parent_sku FROM product WHERE parent_sku IS NOT NULL ORDER BY sku"
    )
    assert variants == [("TEE-M-RED", "classic-tee"), ("TEE-S-RED", "classic-tee")]
    _ = sa  # the module's SQL goes through query()

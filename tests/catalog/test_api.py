"""Catalog-import API on SQLite and PostgreSQL, with the real Temporal dev server and a worker."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from merchflow.settings import Settings
from tests.catalog.conftest import running_worker

URL = "/api/v1/catalog/imports"
GOOD = (
    "SKU,Name,Brand,Cost,Price,UPC,Attributes,Image Refs\n"
    'H-1,Headphones,Sonora,38.00,79.99,036000291452,"{""color"": ""black""}",a.jpg|b.jpg\n'
    "M-2,Mug,Hearth,3.10,12.99,,,\n"
    "L-3,Lamp,Lumio,14.20,34.90,,,\n"
)


def engine_of(client: httpx.AsyncClient) -> sa.Engine:
    return client.app.state.engine  # type: ignore[attr-defined,no-any-return]


def query(client: httpx.AsyncClient, sql: str) -> list[Any]:
    with engine_of(client).connect() as conn:
        return list(conn.execute(sa.text(sql)).all())


async def upload_csv(client: httpx.AsyncClient, auth: dict[str, str], text: str | bytes) -> httpx.Response:
    data = text.encode() if isinstance(text, str) else text
    return await client.post(URL, files={"file": ("products.csv", data, "text/csv")}, headers=auth)


async def finished(
    client: httpx.AsyncClient, auth: dict[str, str], created: httpx.Response
) -> dict[str, Any]:
    assert created.status_code in (200, 202), created.text
    temporal = client.app.state.temporal.client  # type: ignore[attr-defined]
    await temporal.get_workflow_handle(created.json()["workflow_id"]).result()
    r = await client.get(created.json()["links"]["self"], headers=auth)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_good_file_is_imported_and_reported(
    api_client: httpx.AsyncClient, catalog_worker: Worker, operator: dict[str, str]
) -> None:
    created = await upload_csv(api_client, operator, GOOD)
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["id"] == hashlib.sha256(b"csv\n" + GOOD.encode()).hexdigest()
    assert body["existing"] is False and body["status"] == "pending"
    assert created.headers["location"] == f"{URL}/{body['id']}" == body["links"]["self"]
    assert body["workflow_id"] == f"catalog-import-{body['id']}"

    done = await finished(api_client, operator, created)
    assert done["status"] == "completed" and done["total_rows"] == 3
    assert done["counts"] == {
        "processed_rows": 3,
        "valid_rows": 3,
        "invalid_rows": 0,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "stock_set": 0,
    }
    assert done["progress"]["percent"] == 100.0 and done["finished_at"]
    assert done["report"]["total"] == 0
    ((upc, refs),) = query(api_client, "SELECT attributes, image_refs FROM product WHERE sku='H-1'")
    assert "036000291452" in str(upc) and "b.jpg" in str(refs)


async def test_resubmitting_the_same_file_returns_the_existing_import(
    api_client: httpx.AsyncClient, catalog_worker: Worker, operator: dict[str, str]
) -> None:
    first = await upload_csv(api_client, operator, GOOD)
    await finished(api_client, operator, first)
    temporal = api_client.app.state.temporal.client  # type: ignore[attr-defined]
    handle = temporal.get_workflow_handle(first.json()["workflow_id"])
    run_before = (await handle.describe()).run_id
    again = await api_client.post(
        URL, content=GOOD.encode(), headers={**operator, "Content-Type": "text/csv; charset=utf-8"}
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["existing"] is True
    assert again.json()["status"] == "completed"
    assert query(api_client, "SELECT count(*) FROM catalog_import") == [(1,)]
    assert query(api_client, "SELECT count(*), count(DISTINCT sku) FROM product") == [(3, 3)]
    assert (await handle.describe()).run_id == run_before  # no second workflow run
    # the same bytes as another format are another import
    as_jsonl = await api_client.post(
        URL, params={"format": "jsonl"}, content=b'{"sku": "Z", "name": "z", "cost": 1}\n', headers=operator
    )
    assert as_jsonl.status_code == 202


async def test_row_problems_are_reported_with_row_field_and_message(
    api_client: httpx.AsyncClient, catalog_worker: Worker, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    text = (
        "sku,name,cost,price,colour\n"
        "A-1,Good,1.00,2.00,red\n"
        "A-2,Negative,-5.00,2.00,red\n"
        "A-1,Duplicate,1.00,2.00,red\n"
        'A-3,"Bad"quote,1,2,red\n'
        "A-4,Too,many,fields,here,x\n"
        "A-5,Cheap,9.00,1.00,red\n"
        "A-6,NoCost,,1.00,red\n"
    )
    done = await finished(api_client, operator, await upload_csv(api_client, operator, text))
    assert done["status"] == "completed"
    assert (done["counts"]["valid_rows"], done["counts"]["invalid_rows"]) == (2, 5)
    got = {(i["row"], i["field"], i["code"], i["severity"]) for i in done["report"]["items"]}
    assert got == {
        (0, "colour", "unknown_column", "warning"),
        (2, "cost", "invalid_value", "error"),
        (3, "sku", "duplicate_sku", "error"),
        (4, "row", "malformed_row", "error"),
        (5, "row", "malformed_row", "error"),
        (6, "price", "inconsistent", "warning"),
        (7, "cost", "missing_value", "error"),
    }
    messages = {i["row"]: i["message"] for i in done["report"]["items"]}
    assert "must not be negative" in messages[2] and "first on row 1" in messages[3]
    assert "6 fields but the header has 5" in messages[5]

    # the viewer may read, paged and filtered
    url = f"{URL}/{done['id']}"
    page = (await api_client.get(url, params={"offset": 2, "limit": 2}, headers=viewer)).json()["report"]
    assert [i["row"] for i in page["items"]] == [3, 4]
    assert (page["total"], page["errors"], page["warnings"]) == (7, 5, 2)
    warn = (await api_client.get(url, params={"severity": "warning"}, headers=viewer)).json()["report"]
    assert [i["row"] for i in warn["items"]] == [0, 6] and warn["total"] == 2
    listing = (await api_client.get(URL, headers=viewer)).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == done["id"]


async def test_json_lines_raw_body(
    api_client: httpx.AsyncClient, catalog_worker: Worker, operator: dict[str, str]
) -> None:
    body = b'{"sku": "J-1", "name": "Jay", "cost": 2.5, "image_refs": ["j.png"]}\n{"sku": "J-2", "cost": 1}\n'
    created = await api_client.post(
        URL, content=body, headers={**operator, "Content-Type": "application/x-ndjson"}
    )
    assert created.status_code == 202, created.text
    assert created.json()["file_format"] == "jsonl"
    done = await finished(api_client, operator, created)
    assert (done["counts"]["inserted"], done["counts"]["invalid_rows"]) == (1, 1)
    assert [(i["row"], i["field"]) for i in done["report"]["items"]] == [(2, "name")]


async def assert_refused(r: httpx.Response, status: int, code: str, fragment: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    assert fragment in r.json()["error"]["message"], r.text


async def test_unusable_files_are_refused_before_any_import_starts(
    api_client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    latin1 = "sku,name,cost\nA,Mug,1\nB,Caf\u00e9 cup,2\n".encode("latin-1")
    r = await upload_csv(api_client, operator, latin1)
    await assert_refused(r, 422, "bad_encoding", "line 3 is not valid UTF-8")
    assert r.json()["error"]["details"] == {"line": 3}
    utf16 = "sku,name,cost\nA,Mug,1\n".encode("utf-16")
    await assert_refused(await upload_csv(api_client, operator, utf16), 422, "bad_encoding", "UTF-16")
    garbage = bytes(range(256)) * 4
    await assert_refused(await upload_csv(api_client, operator, garbage), 422, "binary_file", "NUL")
    await assert_refused(await upload_csv(api_client, operator, b""), 422, "empty_file", "empty")
    await assert_refused(
        await upload_csv(api_client, operator, "sku,name,cost\n"), 422, "empty_file", "no product"
    )
    r = await upload_csv(api_client, operator, "SKU,Title,Price\nA,Mug,1\n")
    await assert_refused(r, 422, "missing_columns", "required column 'name' is missing")
    assert "required column 'cost' is missing" in r.json()["error"]["message"]
    assert r.json()["error"]["details"]["header"] == ["SKU", "Title", "Price"]
    r = await api_client.post(
        URL, content=b'["not", "an", "object"]\n', headers={**operator, "Content-Type": "application/jsonl"}
    )
    await assert_refused(r, 422, "malformed_file", "JSON object")
    r = await api_client.post(URL, content=b"a,b\n", headers={**operator, "Content-Type": "text/plain"})
    await assert_refused(r, 415, "unsupported_media_type", "?format=csv|jsonl")
    r = await api_client.post(URL, files={"other": (None, "x")}, headers=operator)
    await assert_refused(r, 400, "bad_request", "no file part")

    assert query(api_client, "SELECT count(*) FROM catalog_import") == [(0,)]
    blob_dir = api_client.app.state.settings.blob_dir  # type: ignore[attr-defined]
    assert [p.name for p in blob_dir.rglob("*") if p.is_file()] == []  # nothing half-written left behind


async def test_oversize_uploads_are_refused_without_being_read_whole(
    api_client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    limit = api_client.app.state.settings.max_upload_bytes  # type: ignore[attr-defined]
    sent = {"chunks": 0}

    async def body(chunks: int) -> AsyncIterator[bytes]:
        yield b"sku,name,cost\n"
        for i in range(chunks):
            sent["chunks"] += 1
            yield f"SKU-{i},{'x' * 4080},1\n".encode()

    # streamed (chunked, no length): refused as soon as the limit is passed
    r = await api_client.post(URL, content=body(1000), headers={**operator, "Content-Type": "text/csv"})
    await assert_refused(r, 413, "payload_too_large", str(limit))
    assert limit // 4096 <= sent["chunks"] <= limit // 4096 + 2  # ~4 MB offered, ~64 KB read
    # a declared length over the limit is refused before the first byte is read
    sent["chunks"] = 0
    r = await api_client.post(
        URL,
        content=body(1000),
        headers={**operator, "Content-Type": "text/csv", "Content-Length": str(1000 * 4096)},
    )
    await assert_refused(r, 413, "payload_too_large", "larger than the limit")
    assert sent["chunks"] == 0
    # the same through multipart
    sent["chunks"] = 0
    big = b"sku,name,cost\n" + b"".join(f"S{i},{'y' * 4000},1\n".encode() for i in range(40))
    r = await upload_csv(api_client, operator, big)
    await assert_refused(r, 413, "payload_too_large", "larger than the limit")
    blob_dir = api_client.app.state.settings.blob_dir  # type: ignore[attr-defined]
    assert [p.name for p in blob_dir.rglob("*") if p.is_file()] == []


async def test_roles_and_lookups(api_client: httpx.AsyncClient, viewer: dict[str, str]) -> None:
    r = await api_client.post(URL, content=GOOD.encode(), headers={**viewer, "Content-Type": "text/csv"})
    assert r.status_code == 403
    assert (await api_client.post(URL, content=GOOD.encode())).status_code == 401
    assert (await api_client.get(f"{URL}/{'0' * 64}", headers=viewer)).status_code == 404
    assert (await api_client.get(f"{URL}/not-an-id", headers=viewer)).status_code == 422
    assert (await api_client.get(URL, headers=viewer)).json()["items"] == []


async def test_progress_comes_from_the_workflow_while_running_and_the_database_otherwise(
    api_client: httpx.AsyncClient,
    operator: dict[str, str],
    temporal_env: WorkflowEnvironment,
    api_settings: Settings,
) -> None:
    created = await upload_csv(api_client, operator, GOOD)
    url = created.json()["links"]["self"]
    # no worker yet: the import is queued, the database answers
    queued = (await api_client.get(url, headers=operator)).json()
    assert queued["progress"] == {
        "phase": "queued",
        "total_rows": None,
        "processed_rows": 0,
        "percent": None,
        "batches_done": None,
        "source": "database",
    }
    async with running_worker(api_settings, temporal_env.client):
        done = await finished(api_client, operator, created)
        assert done["progress"]["source"] == "database" and done["status"] == "completed"
        # while the database says "running", the workflow is asked (a finished workflow still answers)
        with engine_of(api_client).begin() as conn:
            conn.execute(sa.text("UPDATE catalog_import SET status = 'running'"))
        live = (await api_client.get(url, headers=operator)).json()["progress"]
        assert live == {
            "phase": "completed",
            "total_rows": 3,
            "processed_rows": 3,
            "percent": 100.0,
            "batches_done": 1,
            "source": "workflow",
        }


async def test_a_reset_app_database_imports_a_file_temporal_remembers(
    api_client: httpx.AsyncClient, catalog_worker: Worker, operator: dict[str, str]
) -> None:
    text = GOOD + "R-9,Reset probe,Acme,1.00,2.00,,,\n"
    first = await finished(api_client, operator, await upload_csv(api_client, operator, text))
    assert first["status"] == "completed"
    with engine_of(api_client).begin() as conn:  # the app database is wiped; Temporal keeps its history
        for table in ("catalog_import_batch", "catalog_import_issue", "catalog_import", "product"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    again = await upload_csv(api_client, operator, text)
    assert again.status_code == 202 and again.json()["id"] == first["id"]
    done = await finished(api_client, operator, again)
    assert done["status"] == "completed" and done["counts"]["inserted"] == 4

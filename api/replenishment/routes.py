"""Replenishment: suppliers and their SKUs, alert thresholds, the last plan and alerts, purchase orders (read,
confirm, receive deliveries, cancel, resend) - PO changes go through the PO's workflow (Temporal updates)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.forecasting.sales_repository import insert_ignore
from activities.replenishment.tables import (
    AlertThreshold,
    PurchaseOrder,
    PurchaseOrderLine,
    ReplenishmentPlanRow,
    StockAlert,
    Supplier,
    SupplierItem,
)
from api.deps import AnyCaller, DbSession, Operator, ReadSession, Temporal
from api.errors import ApiError, error_responses
from api.inputs import Offset
from api.replenishment import views
from api.routing import ApiRoute
from merchflow.db.types import utcnow
from workflows.replenishment.contract import (
    CANCEL_UPDATE,
    CONFIRM_UPDATE,
    RECEIVE_UPDATE,
    RESEND_SIGNAL,
    CancelRequest,
    ConfirmRequest,
    PoState,
    ReceiptLine,
    ReceiveRequest,
    ReceiveResult,
    po_workflow_id,
)

router = APIRouter(tags=["replenishment"], route_class=ApiRoute)
PoId = Annotated[str, Path(pattern=r"^po-[0-9a-f]{16}$")]


# ---------------------------------------------------------------- suppliers
@router.post("/api/v1/suppliers", status_code=201, summary="Add a supplier", responses=error_responses(409))
def create_supplier(body: views.SupplierIn, _: Operator, session: DbSession) -> dict[str, Any]:
    if session.exec(select(Supplier).where(Supplier.name == body.name)).first() is not None:
        raise ApiError(409, f"a supplier named {body.name!r} exists")
    s = Supplier(**body.model_dump())
    session.add(s)
    session.flush()
    return views.supplier_view(s)


@router.get("/api/v1/suppliers", summary="Suppliers")
def list_suppliers(_: AnyCaller, session: ReadSession, offset: Offset = 0,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:  # fmt: skip
    rows = session.exec(select(Supplier).order_by(Supplier.id).offset(offset).limit(limit)).all()  # type: ignore[arg-type]
    return {"items": [views.supplier_view(s) for s in rows], "offset": offset, "limit": limit}


@router.get(
    "/api/v1/suppliers/{supplier_id}", summary="A supplier and its SKUs", responses=error_responses(404)
)
def get_supplier(
    supplier_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _: AnyCaller, session: ReadSession
) -> dict[str, Any]:
    s = session.get(Supplier, supplier_id)
    if s is None:
        raise ApiError(404, f"no supplier {supplier_id}")
    items = session.exec(
        select(SupplierItem).where(SupplierItem.supplier_id == supplier_id).order_by(SupplierItem.sku)
    ).all()  # type: ignore[arg-type]
    return {**views.supplier_view(s), "items": [i.model_dump() for i in items]}


@router.patch(
    "/api/v1/suppliers/{supplier_id}", summary="Change a supplier's terms", responses=error_responses(404)
)
def patch_supplier(supplier_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: views.SupplierPatch, _: Operator,
                   session: DbSession) -> dict[str, Any]:  # fmt: skip
    s = session.get(Supplier, supplier_id)
    if s is None:
        raise ApiError(404, f"no supplier {supplier_id}")
    changes = body.model_dump(exclude_unset=True)
    columns = Supplier.__table__.c  # type: ignore[attr-defined]
    cleared = [k for k, v in changes.items() if v is None and k in columns and not columns[k].nullable]
    if cleared:  # null clears a field that may be empty; these must have a value
        raise ApiError(422, f"{', '.join(sorted(cleared))} cannot be null", details=[
            {"location": f"body.{k}", "message": "a value is required"} for k in sorted(cleared)
        ])  # fmt: skip
    for k, v in changes.items():
        setattr(s, k, v)
    s.updated_at = utcnow()
    session.add(s)
    return views.supplier_view(s)


@router.put("/api/v1/suppliers/{supplier_id}/items", summary="Link SKUs to a supplier (upsert: unit cost, "
            "supplier SKU, preferred)", responses=error_responses(404))  # fmt: skip
def put_items(supplier_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: views.SupplierItems, _: Operator,
              session: DbSession) -> dict[str, int]:  # fmt: skip
    if session.get(Supplier, supplier_id) is None:
        raise ApiError(404, f"no supplier {supplier_id}")
    conn, now = session.connection(), utcnow()
    table = SupplierItem.__table__  # type: ignore[attr-defined]
    rows = {i.sku: {**i.model_dump(), "supplier_id": supplier_id, "updated_at": now} for i in body.items}
    preferred = [sku for sku, r in rows.items() if r["preferred"]]
    if preferred:  # one preferred supplier per SKU: this one now
        conn.execute(sa.update(table).where(table.c.sku.in_(preferred), table.c.supplier_id != supplier_id)
                     .values(preferred=False))  # fmt: skip
    stmt = insert_ignore(conn, table)
    cols = ("unit_cost", "supplier_sku", "preferred", "updated_at")
    conn.execute(stmt.on_conflict_do_update(index_elements=["sku", "supplier_id"], set_={c: stmt.excluded[c] for c in cols}),
                 list(rows.values()))  # fmt: skip
    return {"linked": len(rows)}


# ---------------------------------------------------------------- thresholds, plan, alerts
@router.put("/api/v1/replenishment/thresholds", summary="Alert thresholds per SKU or category (upsert; both "
            "limits empty removes the row)")  # fmt: skip
def put_thresholds(body: views.Thresholds, _: Operator, session: DbSession) -> dict[str, int]:
    n = 0
    for t in body.items:
        row = session.get(AlertThreshold, (t.scope, t.key))
        if t.low_stock is None and t.risk_days is None:
            if row is not None:
                session.delete(row)
            continue
        row = row or AlertThreshold(scope=t.scope, key=t.key)
        row.low_stock, row.risk_days, row.updated_at = t.low_stock, t.risk_days, utcnow()
        session.add(row)
        n += 1
    return {"saved": n}


@router.get("/api/v1/replenishment/thresholds", summary="Alert thresholds")
def get_thresholds(_: AnyCaller, session: ReadSession) -> dict[str, Any]:
    rows = session.exec(select(AlertThreshold).order_by(AlertThreshold.scope, AlertThreshold.key)).all()  # type: ignore[arg-type]
    return {"items": [r.model_dump() for r in rows]}


@router.get("/api/v1/replenishment/plan", summary="The last run's plan per SKU: reorder point, safety stock, EOQ, "
            "ABC / XYZ, order quantity (paged in SKU order; `to_order` keeps SKUs with something to order)")  # fmt: skip
def get_plan(_: AnyCaller, session: ReadSession, after: Annotated[str, Query(max_length=64)] = "",
             limit: Annotated[int, Query(ge=1, le=1000)] = 100, to_order: bool = False) -> dict[str, Any]:  # fmt: skip
    q = select(ReplenishmentPlanRow).where(ReplenishmentPlanRow.sku > after)
    if to_order:
        q = q.where(ReplenishmentPlanRow.order_qty > 0)
    rows = session.exec(q.order_by(ReplenishmentPlanRow.sku).limit(limit)).all()  # type: ignore[arg-type]
    return {
        "items": [r.model_dump() for r in rows],
        "next_after": rows[-1].sku if len(rows) == limit else None,
    }


@router.get("/api/v1/replenishment/plan/{sku}", summary="One SKU's plan", responses=error_responses(404))
def get_plan_sku(
    sku: Annotated[str, Path(max_length=64)], _: AnyCaller, session: ReadSession
) -> dict[str, Any]:
    row = session.get(ReplenishmentPlanRow, sku)
    if row is None:
        raise ApiError(404, f"no plan for SKU {sku!r}")
    return row.model_dump()


@router.get("/api/v1/replenishment/alerts", summary="Stock alerts (firing by default)")
def get_alerts(_: AnyCaller, session: ReadSession, status: Literal["firing", "resolved"] = "firing",
               offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:  # fmt: skip
    q = select(StockAlert).where(StockAlert.status == status)
    total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(StockAlert.kind, StockAlert.sku).offset(offset).limit(limit)).all()  # type: ignore[arg-type]
    return {"total": total, "items": [r.model_dump() for r in rows]}


# ---------------------------------------------------------------- purchase orders
@router.get("/api/v1/purchase-orders", summary="Purchase orders, newest first")
def list_pos(_: AnyCaller, session: ReadSession, status: Annotated[str | None, Query(max_length=20)] = None,
             offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:  # fmt: skip
    q = select(PurchaseOrder)
    if status:
        q = q.where(PurchaseOrder.status == status)
    rows = session.exec(
        q.order_by(PurchaseOrder.created_at.desc(), PurchaseOrder.id).offset(offset).limit(limit)
    ).all()  # type: ignore[attr-defined]
    return {"items": [views.po_view(p) for p in rows], "offset": offset, "limit": limit}


def _po(session: Any, po_id: str) -> tuple[PurchaseOrder, list[PurchaseOrderLine]]:
    po = session.get(PurchaseOrder, po_id)
    if po is None:
        raise ApiError(404, f"no purchase order {po_id}")
    lines = session.exec(
        select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po_id).order_by(PurchaseOrderLine.sku)
    ).all()  # type: ignore[arg-type]
    return po, list(lines)


@router.get("/api/v1/purchase-orders/{po_id}.csv", summary="A purchase order's lines as CSV",
            responses=error_responses(404))  # fmt: skip
def get_po_csv(po_id: PoId, _: AnyCaller, session: ReadSession) -> Response:
    po, lines = _po(session, po_id)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["po_id", "sku", "quantity", "unit_cost", "received", "currency"])
    for x in lines:
        w.writerow([po.id, x.sku, x.quantity, f"{x.unit_cost:.2f}", x.received, po.currency])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{po.id}.csv"'})  # fmt: skip


@router.get(
    "/api/v1/purchase-orders/{po_id}",
    summary="A purchase order with its lines",
    responses=error_responses(404),
)
def get_po(po_id: PoId, _: AnyCaller, session: ReadSession) -> dict[str, Any]:
    po, lines = _po(session, po_id)
    return views.po_view(po, lines)


async def _update(temporal: Any, po_id: str, name: str, arg: Any, result_type: type) -> Any:
    handle = temporal.get_workflow_handle(po_workflow_id(po_id))
    try:
        return await handle.execute_update(name, arg, result_type=result_type)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
        raise ApiError(409, message) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, f"purchase order {po_id} is closed or has no workflow") from None
        raise


@router.post("/api/v1/purchase-orders/{po_id}/confirm", summary="The supplier confirmed the order",
             responses=error_responses(404, 409))  # fmt: skip
async def confirm_po(
    po_id: PoId, body: views.ConfirmIn, caller: Operator, session: ReadSession, temporal: Temporal
) -> dict[str, Any]:
    _po(session, po_id)
    state = await _update(
        temporal, po_id, CONFIRM_UPDATE, ConfirmRequest(actor=caller.username, note=body.note), PoState
    )
    return state.model_dump()  # type: ignore[no-any-return]


@router.post("/api/v1/purchase-orders/{po_id}/receipts", summary="Book a delivery against the order (partial "
             "allowed): stock rises and every marketplace is updated", responses=error_responses(404, 409))  # fmt: skip
async def receive_po(
    po_id: PoId, body: views.ReceiptIn, caller: Operator, session: ReadSession, temporal: Temporal
) -> dict[str, Any]:
    _po(session, po_id)
    req = ReceiveRequest(receipt_id=body.receipt_id, actor=caller.username,
                         lines=[ReceiptLine(sku=x.sku, quantity=x.quantity) for x in body.lines])  # fmt: skip
    result = await _update(temporal, po_id, RECEIVE_UPDATE, req, ReceiveResult)
    return result.model_dump()  # type: ignore[no-any-return]


@router.post("/api/v1/purchase-orders/{po_id}/cancel", summary="Cancel the order (what is not received yet)",
             responses=error_responses(404, 409))  # fmt: skip
async def cancel_po(
    po_id: PoId, body: views.CancelIn, caller: Operator, session: ReadSession, temporal: Temporal
) -> dict[str, Any]:
    _po(session, po_id)
    state = await _update(
        temporal, po_id, CANCEL_UPDATE, CancelRequest(actor=caller.username, reason=body.reason), PoState
    )
    return state.model_dump()  # type: ignore[no-any-return]


@router.post("/api/v1/purchase-orders/{po_id}/resend", status_code=202, summary="Send the order email again after "
             "a failure (e.g. the supplier's address was fixed)", responses=error_responses(404, 409))  # fmt: skip
async def resend_po(po_id: PoId, _: Operator, session: ReadSession, temporal: Temporal) -> dict[str, str]:
    po, _lines = _po(session, po_id)
    if po.status != "approved":
        raise ApiError(
            409, f"purchase order {po_id} is {po.status}: only an approved, unsent order is resent"
        )
    await temporal.get_workflow_handle(po_workflow_id(po_id)).signal(RESEND_SIGNAL)
    return {"status": "resending"}

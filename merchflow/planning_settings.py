"""Settings groups of demand planning: sales history, the nightly forecast run, replenishment and its alerts.

Kept beside `merchflow.settings` (which only names the groups), like the operators' tooling.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class ForecastingSettings(BaseModel):
    """Sales history and the nightly `forecast-run` (a Temporal Schedule in time_zone)."""

    run_cron: str = "30 1 * * *"  # nightly forecast run, in time_zone (before repricing at 02:00)
    retrain_every_days: int = Field(7, ge=1, le=90)  # backtest + model choice again when the last is older
    horizon_days: int = Field(30, ge=7, le=120)  # days forecast ahead (the revenue projection needs 30)
    history_days: int = Field(730, ge=60, le=3650)  # sales history a run reads
    batch_size: int = Field(2000, ge=50, le=20_000)  # SKUs per forecast activity (one global model per batch)
    # keyed hash of buyer ids in sales imports; empty: derived from secret_key (set it to rotate independently)
    buyer_key: SecretStr | None = None
    import_batch_size: int = Field(5000, ge=100, le=50_000)  # rows per batch of a sales import
    analytics_window_days: int = Field(30, ge=7, le=365)  # top / worst, channels, sell-through window
    customer_segments: int = Field(4, ge=2, le=10)  # K-Means clusters of buyers


class ReplenishmentSettings(BaseModel):
    """Reorder points, EOQ, alerts and purchase orders, computed after every forecast run."""

    service_level: float = Field(0.95, gt=0.5, lt=1)  # cycle service level behind the safety stock
    order_cost: float = Field(50.0, ge=0)  # per purchase order (EOQ), in the supplier's currency
    holding_rate: float = Field(0.25, gt=0, le=2)  # yearly holding cost as a share of unit cost (EOQ)
    default_reorder_point: float = Field(10.0, ge=0)  # SKUs without sales history (source documents)
    default_order_quantity: float = Field(50.0, gt=0)
    default_lead_time_days: float = Field(14.0, gt=0)  # SKUs without a supplier link
    # alerts: low stock = on hand at or below the reorder point (or the SKU's / category's threshold);
    # stock-out risk = days of cover below the lead time plus this margin (or the threshold's risk_days)
    risk_margin_days: float = Field(0.0, ge=0, le=365)
    propose_orders: bool = True  # reorder suggestions become purchase-order decisions
    po_email_from: str | None = None  # default: notifications.smtp_from
    po_send_retries: int = Field(
        12, ge=1, le=100
    )  # delivery attempts of a PO email before it waits for a resend

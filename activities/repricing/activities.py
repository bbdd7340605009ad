"""Repricing activities on the database and the pricing engine: start / finish a run, price one batch of SKUs
(sync: pandas runs on the worker's thread pool, never in a workflow), train the demand model. Marketplace calls
(fee estimates, pushes, competitor prices) are in activities/repricing/market.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from temporalio import activity

from activities.common.timing import Phases
from activities.decisions import notifications
from activities.decisions.repository import get_policy
from activities.repricing.compute import as_money, price_batch
from activities.repricing.db import writing
from activities.repricing.inputs import active_model, load_batch
from activities.repricing.store import prepare_items, write_decisions, write_dry_run
from activities.repricing.tables import DemandModelRow, RepriceRun
from activities.repricing.training import history_frame, store_model
from domain.decisions.rules import PRICE_CHANGE
from domain.repricing.demand import fit_demand_model
from merchflow.db.engine import read_session
from merchflow.db.models import MarketplaceAccount, MarketplaceListing
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.repricing.contract import (
    AccountRef,
    AccountTotals,
    FinishRunInput,
    RepriceBatchInput,
    RepriceBatchResult,
    RunSummary,
    StartRunInput,
    StartRunResult,
    TrainInput,
    TrainResult,
)

log = get_logger(__name__)
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]


class RepricingActivities:
    def __init__(self, deps: Deps) -> None:
        self.engine = deps.engine
        self.settings = deps.settings
        self.cfg = deps.settings.repricing

    @activity.defn(name="reprice-start-run")
    def start_run(self, inp: StartRunInput) -> StartRunResult:
        with writing(self.engine) as s:
            if s.get(RepriceRun, inp.run_id) is None:
                s.add(
                    RepriceRun(
                        id=inp.run_id,
                        dry_run=inp.dry_run,
                        filters={
                            **inp.filters.model_dump(exclude_none=True),
                            "requested_by": inp.requested_by,
                        },
                    )
                )
            q = sa.select(MarketplaceAccount).where(MarketplaceAccount.enabled.is_(True))  # type: ignore[attr-defined]
            q = q.where(MarketplaceAccount.status == "connected")  # not called until reconnected
            if inp.filters.account_ids:
                q = q.where(MarketplaceAccount.id.in_(inp.filters.account_ids))  # type: ignore[union-attr]
            listed = sa.exists().where(_L.c.account_id == MarketplaceAccount.id, _L.c.status == "active")
            accounts = [
                AccountRef(account_id=a.id or 0, marketplace=a.marketplace, name=a.name)
                for a in s.exec(q.where(listed).order_by(MarketplaceAccount.id)).scalars()  # type: ignore[call-overload,arg-type]
            ]
            needs_model = s.execute(sa.select(sa.func.count()).select_from(DemandModelRow)).scalar_one() == 0
        return StartRunResult(
            accounts=accounts,
            scraper_queue=self.settings.task_queue("scraper"),
            today=datetime.now(ZoneInfo(self.settings.time_zone)).date(),
            batch_size=self.cfg.batch_size,
            needs_model=needs_model,
        )

    @activity.defn(name="reprice-batch")
    def price_batch(self, inp: RepriceBatchInput) -> RepriceBatchResult:
        """One batch: read the facts, run the engine, write proposals (and decisions, acting on auto-approved
        ones). Counts come back from the rows written, so a retried batch reports the same."""
        now, clock = utcnow(), Phases()
        with clock("read"), read_session(self.engine) as s:
            frame = load_batch(
                s,
                account_id=inp.account_id,
                marketplace=inp.marketplace,
                filters=inp.filters,
                after_sku=inp.after_sku,
                limit=inp.limit,
                fees=inp.fees,
                now=now,
                competitor_max_age=timedelta(hours=self.cfg.competitor_max_age_hours),
                run_rate_days=self.cfg.run_rate_days,
                model=active_model(s),
            )
        if frame.empty:
            return RepriceBatchResult(last_sku=None, done=True, totals=AccountTotals())
        activity.heartbeat("priced")
        with clock("price"):
            out = price_batch(frame, self.cfg.pricing, today=inp.today)
            changed = out[out["changed"]]
        totals = AccountTotals(
            batches=1,
            evaluated=len(out),
            proposed=len(changed),
            expected_margin_delta=as_money(changed["margin_delta"].sum()),
            expected_revenue_delta=as_money(changed["revenue_delta"].sum()),
        )
        with clock("propose"):
            items = {} if inp.dry_run else prepare_items(
                changed, run_id=inp.run_id, account_id=inp.account_id, marketplace=inp.marketplace, now=now,
                ttl=timedelta(hours=self.cfg.decision_ttl_hours), run_rate_days=self.cfg.run_rate_days,
            )  # fmt: skip
        activity.heartbeat("writing")
        statuses: dict[str, str] = {}
        if not changed.empty:
            beat = lambda: activity.heartbeat("waiting to write")  # noqa: E731
            with clock("write"), writing(self.engine, beat, waited=lambda w: clock.add("write_wait", w)) as s:
                if inp.dry_run:
                    write_dry_run(s, run_id=inp.run_id, account_id=inp.account_id, changed=changed)
                else:
                    statuses = write_decisions(
                        s, run_id=inp.run_id, account_id=inp.account_id, changed=changed, items=items,
                        policy=get_policy(s, PRICE_CHANGE).to_policy(), now=now,
                    )  # fmt: skip
            for status in statuses.values():
                if status in ("auto_approved", "pushed", "failed"):
                    totals.auto_approved += 1
                elif status == "recommended":
                    totals.recommended += 1
                elif status == "pending":
                    totals.pending += 1
        last = str(frame["sku"].iloc[-1])
        activity.heartbeat(last)
        totals.add_seconds(clock.rounded())
        return RepriceBatchResult(last_sku=last, done=len(frame) < inp.limit, totals=totals)

    @activity.defn(name="reprice-finish-run")
    def finish_run(self, inp: FinishRunInput) -> RunSummary:
        t = inp.totals
        with writing(self.engine) as s:
            run = s.get(RepriceRun, inp.run_id) or RepriceRun(id=inp.run_id)
            run.status, run.finished_at, run.error = inp.status, utcnow(), inp.error
            run.evaluated, run.proposed, run.auto_approved, run.pending = (
                t.evaluated,
                t.proposed,
                t.auto_approved,
                t.pending,
            )
            run.pushed, run.failed = t.pushed, t.push_rejected + t.push_failed
            run.expected_margin_delta, run.expected_revenue_delta = (
                t.expected_margin_delta,
                t.expected_revenue_delta,
            )
            s.add(run)
            outbox_id = None
            if not run.dry_run and t.pending:
                outbox_id, _ = notifications.enqueue(
                    s,
                    dedupe_key=f"reprice:{inp.run_id}",
                    decision_id=None,
                    event="batch_pending",
                    audience="approver",
                    subject=f"[merchflow] {t.pending} price changes need approval",
                    body=f"Repricing run {inp.run_id} proposed {t.pending} price changes that wait for approval.",
                    link=f"{self.settings.base_url.rstrip('/')}/approvals",
                )
            dry_run = run.dry_run
        log.info(
            "reprice run finished", run_id=inp.run_id, status=inp.status, proposed=t.proposed, pushed=t.pushed
        )
        return RunSummary(
            run_id=inp.run_id, dry_run=dry_run, status=inp.status, totals=t, notify_outbox_id=outbox_id
        )

    @activity.defn(name="demand-model-fit")
    def train_demand_model(self, inp: TrainInput) -> TrainResult:
        now = utcnow()
        days, period = inp.history_days or self.cfg.history_days, inp.period_days or self.cfg.period_days
        with read_session(self.engine) as s:
            history = history_frame(s, now=now, history_days=days, period_days=period)
        if history.empty:
            return TrainResult(model_id=None, rows=0, categories=0)
        model = fit_demand_model(history)
        if not model.elasticity:
            return TrainResult(model_id=None, rows=model.n_rows, categories=0)
        with writing(self.engine) as s:
            model_id = store_model(s, model, now=now, params={"history_days": days, "period_days": period})
        log.info("demand model trained", model_id=model_id, rows=model.n_rows, mape=model.validation_mape)
        return TrainResult(
            model_id=model_id,
            rows=model.n_rows,
            categories=len(model.elasticity),
            validation_mae_log=None
            if model.validation_mae_log != model.validation_mae_log
            else model.validation_mae_log,
            validation_mape=None if model.validation_mape != model.validation_mape else model.validation_mape,
        )

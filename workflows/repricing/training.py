"""`demand-model-train`: the weekly retrain of the demand model (and a run's first model, as its child)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.repricing.activities import RepricingActivities
    from workflows.common.retries import STEADY
    from workflows.repricing.contract import TRAIN_WORKFLOW, TrainInput, TrainResult


@workflow.defn(name=TRAIN_WORKFLOW)
class DemandModelTrainWorkflow:
    @workflow.run
    async def run(self, inp: TrainInput) -> TrainResult:
        return await workflow.execute_activity_method(
            RepricingActivities.train_demand_model,
            inp,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=STEADY,
        )

"""Decisions: approval-gated AI proposals under an autonomy policy, decided on the approver pages or by API.

The mechanism knows no business process: features register the action of each decision type they propose."""

from merchflow.features import Feature

FEATURE = Feature(
    name="decisions",
    workflows=[
        "workflows.decisions.decision:DecisionWorkflow",
        "workflows.decisions.batch:DecisionBatchExecuteWorkflow",
    ],
    activities=["activities.decisions.activities:DecisionActivities"],
    tables=["activities.decisions.tables"],
    routers=["api.decisions.routes:router", "api.decisions.web:router"],
    templates="api.decisions",
    startup_steps=["activities.decisions.demo:demo_decisions_step"],
)

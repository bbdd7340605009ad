"""Operations: alert checks, housekeeping (log / upload / sandbox-log retention), the notification re-sender, and
the operators' endpoints (`/metrics`, the Temporal UI's codec server)."""

from merchflow.features import Feature

FEATURE = Feature(
    name="ops",
    workflows=[
        "workflows.ops.alerts:AlertsWorkflow",
        "workflows.ops.housekeeping:HousekeepingWorkflow",
        "workflows.ops.housekeeping:OutboxResendWorkflow",
    ],
    activities=[
        "activities.ops.alerts:AlertActivities",
        "activities.ops.housekeeping:HousekeepingActivities",
    ],
    tables=["activities.ops.tables"],
    routers=["api.ops.metrics:router", "api.ops.codec:router"],
    schedules="workflows.ops.schedules:definitions",
)

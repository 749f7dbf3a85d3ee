"""Services of the alerts domain: classification and operator configuration (writes and side effects)."""

from alerts.services.classify import (
    ClaimedBatch,
    ClassifyResult,
    PoisonEvent,
    batches_claim,
    batches_classify,
    batches_process,
)
from alerts.services.config import (
    ConfigChange,
    dev_host_create,
    dev_host_delete,
    dev_host_update,
    device_team_create,
    device_team_delete,
    device_team_update,
    rule_create,
    rule_delete,
    rule_update,
    rules_set_active,
)

__all__ = [
    "ClaimedBatch",
    "ClassifyResult",
    "ConfigChange",
    "PoisonEvent",
    "batches_claim",
    "batches_classify",
    "batches_process",
    "dev_host_create",
    "dev_host_delete",
    "dev_host_update",
    "device_team_create",
    "device_team_delete",
    "device_team_update",
    "rule_create",
    "rule_delete",
    "rule_update",
    "rules_set_active",
]

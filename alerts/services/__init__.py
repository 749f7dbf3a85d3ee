"""Services of the alerts domain: classification and operator configuration (writes and side effects).

Classification: ``claiming`` -> ``staging`` (pure) -> ``committing``, driven by ``classify``'s loop.
Configuration and the one audit writer: ``config``.
"""

from alerts.services.claiming import ClaimedBatch, batches_claim
from alerts.services.classify import batches_classify
from alerts.services.committing import ClassifyResult, batches_process
from alerts.services.config import (
    ConfigChange,
    config_audit_write,
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
from alerts.services.staging import PoisonEvent

__all__ = [
    "ClaimedBatch",
    "ClassifyResult",
    "ConfigChange",
    "PoisonEvent",
    "config_audit_write",
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

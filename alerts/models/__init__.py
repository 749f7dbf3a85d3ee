from alerts.models.audit import ConfigAuditLog
from alerts.models.pipeline import AlertOutbox, DeadLetter, EventAuditLog, IngestBatch
from alerts.models.rules import AlertRule, DevelopmentHost, DeviceTeam
from alerts.models.runtime import RuntimeSetting

__all__ = [
    "AlertOutbox",
    "AlertRule",
    "ConfigAuditLog",
    "DeadLetter",
    "DevelopmentHost",
    "DeviceTeam",
    "EventAuditLog",
    "IngestBatch",
    "RuntimeSetting",
]

from alerts.models.api_keys import ApiKey
from alerts.models.audit import ConfigAuditLog
from alerts.models.email import EmailDigest, TeamContact  # Email_only digests (issue 14)
from alerts.models.legacy import LegacyImport  # upgrade from v2.3
from alerts.models.lifecycle import AlertSignature, MaintenanceWindow, OidMapping  # alert lifecycle (issue 14)
from alerts.models.pipeline import AlertOutbox, DeadLetter, EventAuditLog, IngestBatch
from alerts.models.rule_lab import RuleBacktest, RuleHealth  # rule lab (issue 10)
from alerts.models.rules import AlertRule, DevelopmentHost, DeviceTeam
from alerts.models.runtime import RuntimeSetting

__all__ = [
    "AlertOutbox",
    "AlertRule",
    "AlertSignature",  # alert lifecycle (issue 14)
    "ApiKey",
    "ConfigAuditLog",
    "DeadLetter",
    "DevelopmentHost",
    "DeviceTeam",
    "EmailDigest",  # issue 14
    "EventAuditLog",
    "IngestBatch",
    "LegacyImport",
    "MaintenanceWindow",  # alert lifecycle (issue 14)
    "OidMapping",  # alert lifecycle (issue 14)
    "RuleBacktest",  # rule lab (issue 10)
    "RuleHealth",  # rule lab (issue 10)
    "RuntimeSetting",
    "TeamContact",  # issue 14
]

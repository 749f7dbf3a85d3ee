"""Operator configuration: rules, development hosts, device teams, each change audited.

Every create, update and delete goes through here (the admin now, the REST
API later) and writes its ``ConfigAuditLog`` row in the same transaction as
the change, with the old and new values. ``config_audit_write`` is the one
writer of that table: operator actions on dead letters and the outbox
(remediation) and ``load_sample_data`` use it too. The rule version in Redis is bumped
on commit by the models themselves (signals for saves and deletes,
``ConfigQuerySet`` for bulk updates that send no signals).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from alerts.choices import AuditOperation
from alerts.models import AlertRule, ConfigAuditLog, DevelopmentHost, DeviceTeam, MaintenanceWindow

# Who made the record, per model (set on create only).
_AUTHOR_FIELD = {
    AlertRule: "created_by",
    DevelopmentHost: "added_by",
    DeviceTeam: "assigned_by",
    MaintenanceWindow: "created_by",
}
_ENCODER = DjangoJSONEncoder()


@dataclass(frozen=True)
class ConfigChange:
    """Who changes configuration and why; one correlation id ties together the rows of one request."""

    user: str
    reason: str = ""
    correlation_id: uuid.UUID = field(default_factory=uuid.uuid4)


def _snapshot(instance: models.Model) -> dict:
    """The row's values as JSON-safe data (datetimes as ISO text)."""
    values = {f.attname: f.value_from_object(instance) for f in instance._meta.concrete_fields}
    return {
        k: (v if isinstance(v, str | int | float | bool | type(None)) else _ENCODER.default(v))
        for k, v in values.items()
    }


def config_audit_write(
    *,
    change: ConfigChange,
    operation: str,
    table_name: str,
    record_id: int | None,
    old_values: dict | None,
    new_values: dict | None,
) -> ConfigAuditLog:
    """Write one audit row: who (``change.user``), why, what, and the values before and after.

    Call it inside the transaction of the change it records, so both commit or neither.
    """
    return ConfigAuditLog.objects.create(
        changed_by=change.user,
        operation=operation,
        table_name=table_name,
        record_id=record_id,
        old_values=old_values,
        new_values=new_values,
        reason=change.reason,
        correlation_id=change.correlation_id,
    )


def _audit(change: ConfigChange, operation: str, instance: models.Model, old: dict | None, new: dict | None) -> None:
    config_audit_write(
        change=change,
        operation=operation,
        table_name=instance._meta.db_table,
        record_id=instance.pk,
        old_values=old,
        new_values=new,
    )


def config_save(*, instance: models.Model, change: ConfigChange) -> models.Model:
    """Validate and save a rule, development host or device team; audit it as a create or an update."""
    model = type(instance)
    with transaction.atomic():
        current = model.objects.select_for_update().filter(pk=instance.pk).first() if instance.pk else None
        if current is None and model in _AUTHOR_FIELD:  # tables without an author column (oid_mappings)
            setattr(instance, _AUTHOR_FIELD[model], change.user)
        instance.full_clean()
        instance.save()
        operation = AuditOperation.CREATE if current is None else AuditOperation.UPDATE
        _audit(change, operation, instance, None if current is None else _snapshot(current), _snapshot(instance))
    return instance


def config_delete(*, instance: models.Model, change: ConfigChange) -> None:
    """Delete a rule, development host or device team for good, audited with its last values."""
    with transaction.atomic():
        old = _snapshot(instance)
        record_id = instance.pk
        instance.delete()
        instance.pk = record_id  # the audit row names the deleted record
        _audit(change, AuditOperation.DELETE, instance, old, None)


def _update(instance: models.Model, data: dict, change: ConfigChange) -> models.Model:
    for name, value in data.items():
        setattr(instance, name, value)
    return config_save(instance=instance, change=change)


def rule_create(*, data: dict, change: ConfigChange) -> AlertRule:
    return config_save(instance=AlertRule(**data), change=change)


def rule_update(*, rule: AlertRule, data: dict, change: ConfigChange) -> AlertRule:
    return _update(rule, data, change)


def rule_delete(*, rule: AlertRule, change: ConfigChange, soft: bool = False) -> None:
    """Hard delete (admin) or soft delete (API: ``is_active=False``, the history stays readable)."""
    if soft:
        _update(rule, {"is_active": False}, change)
    else:
        config_delete(instance=rule, change=change)


def rules_set_active(*, rules: models.QuerySet, active: bool, change: ConfigChange) -> int:
    """Activate or deactivate many rules in one UPDATE, one audit row per rule that changes."""
    with transaction.atomic():
        changing = list(rules.select_for_update().exclude(is_active=active))
        for rule in changing:
            old = _snapshot(rule)
            rule.is_active = active
            _audit(change, AuditOperation.UPDATE, rule, old, _snapshot(rule))
        # ConfigQuerySet.update bumps the rule version (update sends no signals).
        return AlertRule.objects.filter(pk__in=[r.pk for r in changing]).update(is_active=active)


def dev_host_create(*, data: dict, change: ConfigChange) -> DevelopmentHost:
    return config_save(instance=DevelopmentHost(**data), change=change)


def dev_host_update(*, host: DevelopmentHost, data: dict, change: ConfigChange) -> DevelopmentHost:
    return _update(host, data, change)


def dev_host_delete(*, host: DevelopmentHost, change: ConfigChange) -> None:
    config_delete(instance=host, change=change)


def device_team_create(*, data: dict, change: ConfigChange) -> DeviceTeam:
    return config_save(instance=DeviceTeam(**data), change=change)


def device_team_update(*, team: DeviceTeam, data: dict, change: ConfigChange) -> DeviceTeam:
    return _update(team, data, change)


def device_team_delete(*, team: DeviceTeam, change: ConfigChange) -> None:
    config_delete(instance=team, change=change)

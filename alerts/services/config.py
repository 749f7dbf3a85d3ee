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

import threading
import uuid
from dataclasses import dataclass, field

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from psycopg2.extras import execute_values

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


def snapshot(instance: models.Model) -> dict:
    """The row's values as JSON-safe data (datetimes as ISO text)."""
    values = {f.attname: f.value_from_object(instance) for f in instance._meta.concrete_fields}
    return {
        k: (v if isinstance(v, str | int | float | bool | list | dict | type(None)) else _ENCODER.default(v))
        for k, v in values.items()
    }


# Tables whose changes make a new configuration version (``alerts.services.config_apply``).
VERSIONED_TABLES = frozenset(
    {"alert_rules", "development_hosts", "device_teams", "oid_mappings", "maintenance_windows", "team_contacts",
     "runtime_settings", "lookup_tables"}
)  # fmt: skip
_versions = threading.local()


class config_versions_paused:  # noqa: N801  (a context manager used like a function)
    """Inside an apply the per-change version hook stays quiet: the apply records its one version itself."""

    def __enter__(self):
        _versions.paused = getattr(_versions, "paused", 0) + 1

    def __exit__(self, *exc):
        _versions.paused -= 1


def _version_on_commit(change: ConfigChange) -> None:
    """After the change commits, record a numbered version (once per request, i.e. per correlation id)."""
    if getattr(_versions, "paused", 0):
        return
    pending = _versions.__dict__.setdefault("pending", set())
    if change.correlation_id in pending:
        return
    pending.add(change.correlation_id)

    def record() -> None:
        pending.discard(change.correlation_id)
        from alerts.services.config_apply import config_version_record  # it reads the whole configuration

        config_version_record(change, source="admin")

    transaction.on_commit(record)


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
    A change of configuration makes a numbered version once it commits.
    """
    if table_name in VERSIONED_TABLES:
        _version_on_commit(change)
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


def config_audit_write_many(*, change: ConfigChange, rows: list[tuple]) -> None:
    """Many audit rows in few INSERTs: ``rows`` of (operation, table_name, record_id, old_values, new_values).

    The same rows as ``config_audit_write``, for a configuration apply that changes thousands of objects
    (``execute_values``: Django's ``bulk_create`` took seconds per 10,000 rows).
    """
    if not rows:
        return
    if any(row[1] in VERSIONED_TABLES for row in rows):
        _version_on_commit(change)
    values = [
        (
            change.user,
            operation,
            table_name,
            record_id,
            _json(old),
            _json(new),
            change.reason,
            str(change.correlation_id),
        )
        for operation, table_name, record_id, old, new in rows
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            "INSERT INTO config_audit_log (changed_at, changed_by, operation, table_name, record_id, old_values, "
            "new_values, reason, correlation_id) VALUES %s",
            values,
            template="(now(), %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s::uuid)",
            page_size=2000,
        )


def _json(value: dict | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


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
        _audit(change, operation, instance, None if current is None else snapshot(current), snapshot(instance))
    return instance


def config_delete(*, instance: models.Model, change: ConfigChange) -> None:
    """Delete a rule, development host or device team for good, audited with its last values."""
    with transaction.atomic():
        old = snapshot(instance)
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
            old = snapshot(rule)
            rule.is_active = active
            _audit(change, AuditOperation.UPDATE, rule, old, snapshot(rule))
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

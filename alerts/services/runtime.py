"""Changing runtime settings: validated, audited, and announced to every process."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from alerts.choices import AuditOperation
from alerts.dynamic_config import runtime_forget
from alerts.models import RuntimeSetting
from alerts.runtime_catalog import setting_parse, setting_spec
from alerts.services.config import ConfigChange, config_audit_write
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)


def _version_bump() -> None:
    try:
        get_redis().incr(redis_keys.RUNTIME_SETTINGS_VERSION)
    except RedisError as exc:
        # Processes still re-read the table on their periodic schedule.
        log.warning("runtime settings version bump failed (%s)", type(exc).__name__)
    runtime_forget()


def runtime_settings_set(values: dict, change: ConfigChange, *, from_text: bool = False) -> dict:
    """Validate every value first, then store them all in one transaction with one audit row each.

    Raises ``RuntimeSettingError`` (nothing stored) on an unknown name or a bad
    value. ``None`` returns a setting to its environment default. Returns the
    values that changed, as {name: (old, new)}.
    """
    parsed = {
        name: (None if raw is None else setting_parse(name, raw, from_text=from_text)) for name, raw in values.items()
    }
    changed: dict = {}
    with transaction.atomic():
        for name, value in parsed.items():
            row, _created = RuntimeSetting.objects.select_for_update().get_or_create(name=name)
            old_effective = getattr(settings, setting_spec(name).setting) if row.value is None else row.value
            if row.value == value:
                continue
            old = row.value
            row.value, row.updated_by = value, change.user
            row.save()
            config_audit_write(
                change=change,
                operation=AuditOperation.UPDATE,
                table_name=RuntimeSetting._meta.db_table,
                record_id=None,
                old_values={"name": name, "value": old, "effective": old_effective},
                new_values={"name": name, "value": value},
            )
            changed[name] = (old_effective, value)
        if changed:
            transaction.on_commit(_version_bump)
    if changed:
        log.info("runtime settings changed by %s: %s", change.user, sorted(changed))
    return changed


def runtime_setting_set(name: str, value, change: ConfigChange, *, from_text: bool = False) -> dict:
    return runtime_settings_set({name: value}, change, from_text=from_text)

"""Any change to rules, development hosts or device teams bumps the rule version.

Workers compare the version once per batch and recompile their cached
RuleSet when it moved. Bulk changes that bypass signals (``QuerySet.update``,
``bulk_create``, ``bulk_update``) bump it in ``alerts.models.rules.ConfigQuerySet``.
"""

from axes.signals import user_locked_out
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam, MaintenanceWindow, OidMapping
from alerts.rule_cache import rules_version_bump_on_commit
from alerts.services.login_protection import login_lockout_audit


@receiver(post_save, sender=AlertRule)
@receiver(post_delete, sender=AlertRule)
@receiver(post_save, sender=DevelopmentHost)
@receiver(post_delete, sender=DevelopmentHost)
@receiver(post_save, sender=DeviceTeam)
@receiver(post_delete, sender=DeviceTeam)
@receiver(post_save, sender=OidMapping)
@receiver(post_delete, sender=OidMapping)
@receiver(post_save, sender=MaintenanceWindow)
@receiver(post_delete, sender=MaintenanceWindow)
def _config_changed(sender, **kwargs) -> None:
    rules_version_bump_on_commit()


@receiver(user_locked_out)
def _login_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    login_lockout_audit(username=username, ip_address=ip_address)


@receiver(post_migrate)
def _ingest_keys_import(sender, **kwargs) -> None:
    """Keys still in INGEST_API_KEYS become ingest key rows, once (``migrate`` runs at every deploy)."""
    if sender.name == "alerts":
        from alerts.services.ingest_keys import ingest_keys_import_environment

        ingest_keys_import_environment()

"""What an upgrade from MUTT v2.3 has already brought over (so a second run changes nothing)."""

from django.db import models


class LegacyImport(models.Model):
    """One imported v2.3 item: a rule, host, team mapping, or a drained chunk of a Redis list."""

    key = models.CharField(max_length=255, unique=True, help_text="e.g. alert_rules:12, redis:mutt:ingest_queue:<sha>")
    target_id = models.BigIntegerField(null=True, blank=True, help_text="the MUTT row it became, when one")
    detail = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "legacy_imports"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.key} -> {self.target_id}"

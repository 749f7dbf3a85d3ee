"""Rule lab state: backtests (progress and result, kept 24 h) and the rule health table.

Both are written only by the rule lab's own jobs; nothing here changes a rule,
an audit row or a forward.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


BACKTEST_UNFINISHED = (BacktestStatus.QUEUED, BacktestStatus.RUNNING)


class RuleBacktest(models.Model):
    """One backtest of a draft rule change over a window of the audit trail.

    The partial unique index lets one user hold at most one unfinished backtest
    (the API answers 409 with the running one's id; ``rule_lab.backtest_start`` relies on it).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED)
    draft = models.JSONField()  # {"rules": [...], "replace": bool}, never saved as rules
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    scanned = models.BigIntegerField(default=0)
    percent = models.FloatField(default=0.0)
    cancel_requested = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # heartbeat: progress writes touch it
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "rule_backtests"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=[s.value for s in BACKTEST_UNFINISHED]),
                name="rule_backtests_one_unfinished_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"backtest {self.pk} ({self.status})"


class RuleHealth(models.Model):
    """Per-rule health, recomputed from the audit trail by a background job (one row per rule)."""

    rule_id = models.IntegerField(primary_key=True)
    hits_24h = models.BigIntegerField(default=0)
    hits_7d = models.BigIntegerField(default=0)
    hits_30d = models.BigIntegerField(default=0)
    last_matched = models.DateTimeField(null=True, blank=True)
    candidates = models.BigIntegerField(default=0)  # replayed events whose conditions held for it
    never_matched = models.BooleanField(default=False)
    shadowed_by = models.IntegerField(null=True, blank=True)
    duplicate_of = models.JSONField(default=list)
    window_days = models.PositiveIntegerField(default=7)
    replay_since = models.DateTimeField(null=True, blank=True)  # oldest replayed event (the window, or capped)
    replayed_events = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "rule_health"
        ordering = ["rule_id"]
        verbose_name_plural = "rule health"

    def __str__(self) -> str:
        return f"health of rule {self.rule_id}"

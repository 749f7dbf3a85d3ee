"""The pipeline tables: inbox, audit trail, outbox, dead letters."""

from __future__ import annotations

from django.db import models
from django.db.models import Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from alerts.choices import (
    BatchStatus,
    DeadLetterStage,
    DeadLetterStatus,
    ForwardStatus,
    SourceChoices,
)


class IngestBatch(models.Model):
    """One accepted ingest request: its normalised events, stored before the 202.

    Claimed by ``alerts.services.batches_claim`` with a lease: a claim commits
    ``status=processing``, ``attempts+1`` and ``lease_until`` before any work,
    so a worker killed mid-batch leaves a visible delivery count and the batch
    comes back when the lease expires; after ``CLASSIFY_MAX_DELIVERIES`` it is
    marked dead with a dead letter instead of looping forever.
    """

    events = models.JSONField()
    event_count = models.PositiveIntegerField()
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "ingest_batches"
        verbose_name_plural = "ingest batches"
        indexes = [
            # The claim query and the backlog count read only unfinished rows.
            models.Index(
                fields=["id"],
                name="ingest_batches_unfinished",
                condition=Q(status__in=[BatchStatus.PENDING, BatchStatus.PROCESSING]),
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.event_count} events, {self.status})"


class EventAuditLog(models.Model):
    """One row per classified event, forever (RANGE-partitioned by month on ``received_at``).

    The table is created by raw SQL in migration 0002: the real primary key is
    (received_at, id) (migration 0014; it is also the newest-first index)
    because a partitioned table's keys must contain the partition key. Django
    treats ``id`` as the key, which is unique in practice (one sequence). Unique on (correlation_id, received_at) so a redelivered
    batch inserts nothing twice.
    """

    id = models.BigAutoField(primary_key=True)
    received_at = models.DateTimeField()
    event_timestamp = models.DateTimeField()
    processed_at = models.DateTimeField()
    hostname = models.CharField(max_length=255)
    message = models.TextField()
    source = models.CharField(max_length=10, choices=SourceChoices.choices)
    syslog_severity = models.SmallIntegerField(null=True)
    trap_oid = models.CharField(max_length=255, null=True)
    rule_id = models.IntegerField(null=True)
    team_assignment = models.CharField(max_length=64, null=True)
    handling = models.CharField(max_length=30)
    is_dev = models.BooleanField(default=False)
    correlation_id = models.UUIDField()
    batch_id = models.BigIntegerField(null=True)
    raw_payload = models.JSONField()
    forward_status = models.CharField(max_length=10, choices=ForwardStatus.choices, default=ForwardStatus.NONE)
    forwarded_at = models.DateTimeField(null=True)
    # Alert lifecycle (issue 14): added by migration 0012.
    trap_name = models.CharField(max_length=128, null=True)
    signature = models.TextField(null=True)  # set for forwarded and clear events
    clears = models.UUIDField(null=True)  # a clear: the correlation id of the alert it closes
    folded_into = models.UUIDField(null=True)  # a repeat: the first event's correlation id
    suppressed_by = models.IntegerField(null=True)  # the maintenance window that kept it from Moogsoft
    digest_id = models.UUIDField(null=True)  # Email_only: the digest that carries it

    class Meta:
        db_table = "event_audit_log"
        managed = False  # created and partitioned by migration 0002 (RunSQL)
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.correlation_id} {self.hostname} → {self.handling}"


class AlertOutbox(models.Model):
    """An alert waiting for Moogsoft. Leaves when delivered or dead-lettered.

    Retry state lives here (``attempts``, ``next_attempt_at``), not in Celery
    ETA messages, so a long outage holds nothing in Redis. ``correlation_id``
    is unique so a redelivered classify batch cannot queue an alert twice.
    """

    correlation_id = models.UUIDField(unique=True)
    audit_id = models.BigIntegerField(null=True, blank=True)
    audit_received_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # --- issue 15 (forwarding priority): the handling, derived by PostgreSQL from the
    # payload so every writer (classify's one-statement insert included) sets it
    # without knowing about it. The class order lives in settings, not in the rows:
    # forwarding.outbox_lease.outbox_claim reads each handling's due rows in order
    # through ``alert_outbox_claim`` and changing the order rewrites nothing.
    handling = models.GeneratedField(
        expression=Coalesce(KT("payload__handling"), Value(""), output_field=models.TextField()),
        output_field=models.TextField(),
        db_persist=True,
    )
    # issue 13: leases not ended by an outcome (its worker died); past
    # FORWARD_MAX_DELIVERIES the row is a dead letter (forwarding.services).
    deliveries = models.PositiveIntegerField(db_default=0, default=0)

    class Meta:
        db_table = "alert_outbox"
        verbose_name_plural = "alert outbox"
        ordering = ["next_attempt_at", "id"]
        indexes = [
            # forwarding.outbox_lease.outbox_claim: due rows of one handling, oldest first.
            models.Index(fields=["handling", "next_attempt_at", "id"], name="alert_outbox_claim"),
        ]

    def __str__(self) -> str:
        return f"outbox {self.pk} {self.correlation_id} (attempts {self.attempts})"


class DeadLetter(models.Model):
    """Work that failed and waits for replay (Beat) or an operator."""

    stage = models.CharField(max_length=10, choices=DeadLetterStage.choices)
    status = models.CharField(max_length=10, choices=DeadLetterStatus.choices, default=DeadLetterStatus.PENDING)
    correlation_id = models.UUIDField(null=True, blank=True, db_index=True)
    batch_id = models.BigIntegerField(null=True, blank=True)
    audit_id = models.BigIntegerField(null=True, blank=True)
    audit_received_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    last_error = models.TextField(blank=True, default="")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dead_letters"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="dead_letters_due",
                condition=Q(status=DeadLetterStatus.PENDING),
            ),
            models.Index(fields=["stage", "status"], name="dead_letters_stage_status"),
        ]

    def __str__(self) -> str:
        return f"dead letter {self.pk} ({self.stage}, {self.status})"

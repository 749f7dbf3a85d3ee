"""Email_only delivery: team addresses (operator configuration) and the digests sent to them.

A digest is built from the audit rows of ``Email_only`` events still pending
(``digest_id`` ties each row to its digest), rendered once and stored, then
sent and retried from this table by ``forwarding.email_digest``, like the
Moogsoft outbox (docs/architecture.md, "Alert lifecycle").
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from alerts.models.rules import ConfigQuerySet


class TeamContact(models.Model):
    """Where a team's Email_only digests go (comma-separated addresses)."""

    team = models.CharField(max_length=64, unique=True)
    emails = models.TextField(help_text="Comma-separated e-mail addresses")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "team_contacts"
        ordering = ["team"]

    def __str__(self) -> str:
        return f"{self.team} → {self.emails}"

    def addresses(self) -> list[str]:
        return [a.strip() for a in self.emails.split(",") if a.strip()]

    def clean(self) -> None:
        if not self.addresses():
            raise ValidationError({"emails": "At least one e-mail address."})
        for address in self.addresses():
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError({"emails": f"Not an e-mail address: {address}"}) from None


class EmailDigest(models.Model):
    """One message to one team: its events' count and the first of them, sent at least once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead (retry from the admin)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.CharField(max_length=64)
    recipients = models.TextField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    event_count = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "email_digests"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["next_attempt_at"], name="email_digests_due", condition=models.Q(status="pending"))]  # fmt: skip

    def __str__(self) -> str:
        return f"digest {self.id} to {self.team} ({self.event_count} events, {self.status})"

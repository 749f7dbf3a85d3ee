"""Ingest keys: named, stored as a SHA-256 hash, revocable one by one (senders' credentials)."""

import hashlib

from django.db import models
from django.utils import timezone


def ingest_key_hash(key: str) -> str:
    """The stored form of a key (pure). Keys are long random strings, so one SHA-256 is enough."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


class IngestKeyQuerySet(models.QuerySet):
    def valid(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class IngestKey(models.Model):
    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The key's first characters (to tell keys apart)."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    imported = models.BooleanField(default=False, editable=False, help_text="Imported from INGEST_API_KEYS.")

    objects = IngestKeyQuerySet.as_manager()

    class Meta:
        db_table = "ingest_keys"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

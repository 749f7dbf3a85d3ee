"""Alert lifecycle tables: trap names and clear pairs, and the open condition per signature."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from alerts.models.rules import ConfigQuerySet

_OID_PATTERN_HELP = "Dotted OID; an arc may be * (any one arc), e.g. 1.3.6.1.4.1.9.*.1"


def _oid_pattern_error(value: str | None) -> str | None:
    if not value:
        return None
    arcs = value.split(".")
    if not all(arc == "*" or arc.isdigit() for arc in arcs):
        return "OID pattern must be dotted numeric arcs or * (e.g. 1.3.6.1.6.3.1.1.5.3)"
    return None


class OidMapping(models.Model):
    """A trap OID pattern → its name, category and default severity, and what clears it.

    ``match_kind`` exact: the OID itself; prefix: the OID or anything below it.
    ``clear_oid_pattern`` names the trap that clears this one (linkUp for
    linkDown); ``instance_varbind`` the varbind OID whose value tells
    instances apart (ifIndex), so a clear closes the same instance only.
    """

    class MatchKind(models.TextChoices):
        EXACT = "exact", "Exact OID"
        PREFIX = "prefix", "OID prefix (at an arc boundary)"

    oid_pattern = models.CharField(max_length=255, help_text=_OID_PATTERN_HELP)
    match_kind = models.CharField(max_length=10, choices=MatchKind.choices, default=MatchKind.EXACT)
    trap_name = models.CharField(max_length=128)
    vendor = models.CharField(max_length=64, default="standard")
    category = models.CharField(max_length=64, blank=True, default="")
    default_severity = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(7)], help_text="Syslog severity 0-7 when the trap has none"
    )
    clear_oid_pattern = models.CharField(max_length=255, null=True, blank=True, help_text=_OID_PATTERN_HELP)
    instance_varbind = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        help_text="Varbind OID naming the instance, e.g. 1.3.6.1.2.1.2.2.1.1 (ifIndex)",
    )
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "oid_mappings"
        ordering = ["oid_pattern"]
        constraints = [
            models.UniqueConstraint(fields=["oid_pattern", "match_kind"], name="oid_mappings_pattern_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.trap_name} ({self.oid_pattern})"

    def clean(self) -> None:
        for field in ("clear_oid_pattern", "instance_varbind"):
            if getattr(self, field) == "":
                setattr(self, field, None)
        errors = {}
        for field in ("oid_pattern", "clear_oid_pattern"):
            problem = _oid_pattern_error(getattr(self, field))
            if problem:
                errors[field] = problem
        if self.instance_varbind and not all(a.isdigit() for a in self.instance_varbind.split(".")):
            errors["instance_varbind"] = "Varbind OID must be dotted numeric."
        if errors:
            raise ValidationError(errors)


class AlertSignature(models.Model):
    """One condition (Moogsoft signature) MUTT has forwarded: open until a clear closes it.

    Read and written once per classify batch (``alerts.services.lifecycle``),
    locked with the batch's transaction; the first forwarded event is
    ``correlation_id``, its repeats folded within the fold window are counted
    in ``repeat_count`` (the first included) and not sent again.
    """

    signature = models.TextField(primary_key=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    is_open = models.BooleanField(default=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    repeat_count = models.PositiveIntegerField(default=0)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.UUIDField(null=True, blank=True)

    class Meta:
        db_table = "alert_signatures"
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.signature} ({'open' if self.is_open else 'closed'}, {self.repeat_count}×)"

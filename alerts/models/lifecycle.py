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


class MaintenanceWindow(models.Model):
    """A planned-work window: matching events are audited with ``suppressed_by`` and not forwarded.

    Clears pass through (a condition that ends during the work still closes).
    One-off (``starts_at`` … ``ends_at``) or weekly (``weekdays`` + local
    ``start_time`` … ``end_time`` in ``timezone``). Matches by host pattern
    (exact, wildcard, CIDR), team and/or rule; at least one is required.
    """

    class Kind(models.TextChoices):
        ONE_OFF = "one_off", "One-off"
        WEEKLY = "weekly", "Weekly"

    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ONE_OFF)
    timezone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    weekdays = models.CharField(max_length=20, blank=True, default="", help_text="Weekly: days 0-6 (0 = Monday), e.g. 5,6")  # fmt: skip
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True, help_text="At or before the start: runs past midnight")
    host_pattern = models.CharField(max_length=255, null=True, blank=True, help_text="Exact name, wildcard (lab-*) or CIDR")  # fmt: skip
    team = models.CharField(max_length=64, null=True, blank=True)
    rule = models.ForeignKey("alerts.AlertRule", null=True, blank=True, on_delete=models.CASCADE)
    is_active = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")
    created_by = models.CharField(max_length=150, default="system")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "maintenance_windows"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def weekday_list(self) -> tuple[int, ...]:
        return tuple(sorted({int(d) for d in self.weekdays.replace(" ", "").split(",") if d != ""}))

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from alerts.host_patterns import entry_error

        for name in ("host_pattern", "team"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        errors: dict[str, str] = {}
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = "Unknown time zone (use an IANA name such as Europe/Paris)."
        if self.kind == self.Kind.ONE_OFF:
            if not self.starts_at or not self.ends_at or self.ends_at <= self.starts_at:
                errors["ends_at"] = "A one-off window needs a start and a later end."
        else:
            try:
                days = self.weekday_list()
            except ValueError:
                days = ()
            if not days or any(d < 0 or d > 6 for d in days):
                errors["weekdays"] = "Weekly windows need days 0-6 (0 = Monday), comma-separated."
            if self.start_time is None or self.end_time is None:
                errors["start_time"] = "A weekly window needs a start and an end time."
        if self.host_pattern:
            self.host_pattern = self.host_pattern.strip().lower()
            problem = entry_error(self.host_pattern)
            if problem:
                errors["host_pattern"] = problem
        if not (self.host_pattern or self.team or self.rule_id):
            errors["host_pattern"] = "Match by host pattern, team or rule (at least one)."
        if errors:
            raise ValidationError(errors)

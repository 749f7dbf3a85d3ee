"""Operator-edited configuration: rules, development hosts, device teams."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from alerts.choices import HANDLING_ALIASES, HandlingChoices, MatchTypeChoices
from alerts.regex import regex_compile_error

OID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


class ConfigQuerySet(models.QuerySet):
    """Bulk writes send no save signals, so they bump the rule version themselves (on commit).

    Deletes need nothing here: with receivers connected, Django deletes row by
    row and sends ``post_delete`` (see ``alerts.signals``).
    """

    def _bumped(self, result):
        from alerts.rule_cache import rules_version_bump_on_commit  # the cache imports the models' app

        rules_version_bump_on_commit()
        return result

    def update(self, **kwargs) -> int:
        return self._bumped(super().update(**kwargs))

    def bulk_create(self, objs, *args, **kwargs):
        return self._bumped(super().bulk_create(objs, *args, **kwargs))

    def bulk_update(self, objs, fields, *args, **kwargs):
        return self._bumped(super().bulk_update(objs, fields, *args, **kwargs))


RULE_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
# A lookup rule's match string: ``field=value`` (the field an enrichment table adds, e.g. criticality=high).
LOOKUP_MATCH_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}=.+$")


class AlertRule(models.Model):
    """One routing rule: what to match, and what to do in prod and dev.

    Higher ``priority`` wins (1-1000), ties go to the lowest id. ``key`` is the
    rule's natural key in the configuration file (``rule-<id>`` until named).
    """

    key = models.CharField(
        max_length=100, unique=True, null=True, blank=True, help_text="Name in the configuration file"
    )

    match_string = models.TextField(null=True, blank=True, help_text="Substring or RE2 pattern")
    trap_oid = models.CharField(max_length=255, null=True, blank=True, help_text="Dotted numeric OID prefix")
    syslog_severity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(7)],
        help_text="Match only events at least this severe (0 emergency … 7 debug)",
    )
    match_type = models.CharField(max_length=20, choices=MatchTypeChoices.choices, default=MatchTypeChoices.CONTAINS)
    priority = models.PositiveIntegerField(default=100, validators=[MinValueValidator(1), MaxValueValidator(1000)])
    prod_handling = models.CharField(max_length=30, choices=HandlingChoices.choices)
    dev_handling = models.CharField(max_length=30, choices=HandlingChoices.choices)
    team_assignment = models.CharField(max_length=64, default="NETO")
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.CharField(max_length=150, default="system")
    clears_rule = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cleared_by_rules",
        help_text="This rule's events clear the alerts of that rule (e.g. 'changed state to up' clears '… down')",
    )

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "alert_rules"
        ordering = ["-priority", "id"]
        indexes = [models.Index(fields=["is_active", "-priority"], name="alert_rules_active_prio")]
        constraints = [
            models.CheckConstraint(
                condition=Q(match_string__isnull=False) | Q(trap_oid__isnull=False) | Q(syslog_severity__isnull=False),
                name="alert_rules_at_least_one_criterion",
            ),
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=1000), name="alert_rules_priority_range"),
            models.CheckConstraint(
                condition=Q(match_type__in=MatchTypeChoices.values), name="alert_rules_valid_match_type"
            ),
            models.CheckConstraint(
                condition=Q(prod_handling__in=HandlingChoices.values) & Q(dev_handling__in=HandlingChoices.values),
                name="alert_rules_valid_handlings",
            ),
            models.CheckConstraint(
                condition=Q(syslog_severity__isnull=True) | Q(syslog_severity__lte=7),
                name="alert_rules_severity_range",
            ),
        ]

    def __str__(self) -> str:
        what = self.match_string or self.trap_oid or f"severity<={self.syslog_severity}"
        return f"#{self.pk} [{self.priority}] {self.match_type}: {what}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.key:  # named after its id once it has one (the configuration file addresses it so)
            self.key = f"rule-{self.pk}"
            type(self).objects.filter(pk=self.pk, key__isnull=True).update(key=self.key)

    @property
    def natural_key(self) -> str:
        return self.key or f"rule-{self.pk}"

    def clean_fields(self, exclude=None) -> None:
        # Aliases ("Ignore") are mapped before the choices are checked, so they are accepted everywhere.
        for field in ("prod_handling", "dev_handling"):
            value = getattr(self, field)
            setattr(self, field, HANDLING_ALIASES.get(value, value))
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        for field in ("match_string", "trap_oid"):
            if getattr(self, field) == "":
                setattr(self, field, None)
        for field in ("prod_handling", "dev_handling"):
            value = getattr(self, field)
            setattr(self, field, HANDLING_ALIASES.get(value, value))
        errors: dict[str, str] = {}
        if self.match_type in (MatchTypeChoices.CONTAINS, MatchTypeChoices.REGEX) and not self.match_string:
            errors["match_string"] = f"A {self.match_type} rule needs a match string."
        if self.match_type == MatchTypeChoices.OID_PREFIX and not self.trap_oid:
            errors["trap_oid"] = "An oid_prefix rule needs a trap OID."
        if self.match_type == MatchTypeChoices.TRAP_NAME and not self.match_string:
            errors["match_string"] = "A trap_name rule needs the trap name in its match string (e.g. linkDown)."
        if self.clears_rule_id is not None and self.clears_rule_id == self.pk:
            errors["clears_rule"] = "A rule cannot clear itself."
        if self.match_type == MatchTypeChoices.LOOKUP and not LOOKUP_MATCH_RE.match(self.match_string or ""):
            errors["match_string"] = "A lookup rule matches field=value, e.g. criticality=high."
        if self.key == "":
            self.key = None
        if self.key is not None and not RULE_KEY_RE.match(self.key):
            errors["key"] = "Key: letters, digits and _ . : - (100 at most)."
        if self.match_type == MatchTypeChoices.SEVERITY and self.syslog_severity is None:
            errors["syslog_severity"] = "A severity rule needs a syslog severity."
        if self.trap_oid and not OID_RE.match(self.trap_oid):
            errors["trap_oid"] = "Trap OID must be dotted numeric, e.g. 1.3.6.1.4.1.9"
        if self.match_type == MatchTypeChoices.REGEX and self.match_string:
            problem = regex_compile_error(self.match_string)
            if problem:
                errors["match_string"] = f"Pattern refused (RE2, linear-time regex): {problem}"
        if errors:
            raise ValidationError(errors)


class DevelopmentHost(models.Model):
    """A host whose events get the rule's ``dev_handling``: an exact name, a wildcard (``lab-*``) or a CIDR block."""

    hostname = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=150, default="system")

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "development_hosts"
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname

    def save(self, *args, **kwargs):
        self.hostname = self.hostname.strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Normalised before the unique check, so "Lab-1" next to "lab-1" is a form error, not a crash.
        self.hostname = self.hostname.strip().lower()
        from alerts.host_patterns import entry_error  # exact, wildcard or CIDR (issue 14)

        problem = entry_error(self.hostname)
        if problem:
            raise ValidationError({"hostname": problem})


class DeviceTeam(models.Model):
    """Team override for one host: wins over the matched rule's team."""

    hostname = models.CharField(max_length=255, unique=True)
    team_assignment = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)
    assigned_by = models.CharField(max_length=150, default="system")

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "device_teams"
        ordering = ["hostname"]

    def __str__(self) -> str:
        return f"{self.hostname} → {self.team_assignment}"

    def save(self, *args, **kwargs):
        self.hostname = self.hostname.strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Normalised before the unique check, so "Lab-1" next to "lab-1" is a form error, not a crash.
        self.hostname = self.hostname.strip().lower()

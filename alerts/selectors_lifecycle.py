"""Reads for the alert lifecycle: what a maintenance window suppressed, and what it would have matched."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts.host_patterns import HostPatterns, entry_kind
from alerts.models import EventAuditLog, MaintenanceWindow


def window_suppressed(window_id: int) -> QuerySet:
    """The audit rows a window kept from Moogsoft, newest first."""
    return EventAuditLog.objects.filter(suppressed_by=window_id).order_by("-received_at")


def window_spans(window: MaintenanceWindow, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """The window's concrete [start, end) spans that overlap ``since`` … ``until``."""
    if window.kind == MaintenanceWindow.Kind.ONE_OFF:
        if window.starts_at and window.ends_at and window.starts_at < until and window.ends_at > since:
            return [(window.starts_at, window.ends_at)]
        return []
    zone = ZoneInfo(window.timezone)
    days = window.weekday_list()
    spans = []
    day = since.astimezone(zone).date() - timedelta(days=1)
    while day <= until.astimezone(zone).date():
        if day.weekday() in days and window.start_time is not None and window.end_time is not None:
            start = datetime.combine(day, window.start_time, zone)
            end = datetime.combine(day, window.end_time, zone)
            if end <= start:
                end += timedelta(days=1)
            if start < until and end > since:
                spans.append((start, end))
        day += timedelta(days=1)
    return spans


def window_preview_count(window: MaintenanceWindow, days: int = 7) -> int:
    """How many forwarded events of the last ``days`` days the window would have kept from Moogsoft."""
    until = timezone.now()
    since = until - timedelta(days=days)
    spans = window_spans(window, since, until)
    if not spans:
        return 0
    when = Q()
    for start, end in spans:
        when |= Q(received_at__gte=max(start, since), received_at__lt=end)
    rows = EventAuditLog.objects.filter(when, handling__in=settings.FORWARD_HANDLINGS, clears__isnull=True)
    if window.team:
        rows = rows.filter(team_assignment=window.team)
    if window.rule_id:
        rows = rows.filter(rule_id=window.rule_id)
    if window.host_pattern:
        pattern = window.host_pattern.lower()
        if entry_kind(pattern) == "exact":
            rows = rows.filter(hostname=pattern)
        else:  # wildcard or CIDR: decide per distinct host, the way classification does
            hosts = HostPatterns([pattern])
            names = [h for h in rows.values_list("hostname", flat=True).distinct() if hosts.matches(h.lower())]
            rows = rows.filter(hostname__in=names)
    return rows.count()

"""Maintenance windows (pure: no Django, Redis or I/O): when is a window active, and what does it match.

A window is one-off (``starts_at`` … ``ends_at``) or weekly (``weekdays``,
0 = Monday, and a local ``start_time`` … ``end_time`` in its ``timezone``;
an end at or before the start runs past midnight into the next day). It
matches events by host (exact name, wildcard or CIDR: ``alerts.host_patterns``),
by team, by rule, or by several of them (all must hold).

Compiled with the rules (``alerts.rule_cache``); classification asks
``windows_active(windows, now)`` once per claim, so a claim with no active
window pays nothing per event (docs/architecture.md, "Alert lifecycle").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from alerts.host_patterns import HostPatterns

ONE_OFF = "one_off"
WEEKLY = "weekly"


@dataclass(frozen=True)
class Window:
    id: int
    kind: str
    timezone: str = "UTC"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: tuple[int, ...] = ()
    start_time: time | None = None
    end_time: time | None = None
    host_pattern: str | None = None
    team: str | None = None
    rule_id: int | None = None
    _hosts: HostPatterns | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.host_pattern:
            object.__setattr__(self, "_hosts", HostPatterns([self.host_pattern]))

    def active_at(self, now: datetime) -> bool:
        if self.kind == ONE_OFF:
            return self.starts_at is not None and self.ends_at is not None and self.starts_at <= now < self.ends_at
        if self.start_time is None or self.end_time is None or not self.weekdays:
            return False
        local = now.astimezone(ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        if self.start_time < self.end_time:
            return local.weekday() in self.weekdays and self.start_time <= clock < self.end_time
        # Past midnight (or the whole day when end == start): today's span, or yesterday's running on.
        if local.weekday() in self.weekdays and clock >= self.start_time:
            return True
        return (local - timedelta(days=1)).weekday() in self.weekdays and clock < self.end_time

    def matches(self, hostname: str, team: str, rule_id: int | None) -> bool:
        if self._hosts is not None and not self._hosts.matches(hostname):
            return False
        if self.team and self.team != team:
            return False
        return not (self.rule_id is not None and self.rule_id != rule_id)


def windows_active(windows: list[Window], now: datetime) -> list[Window]:
    return [w for w in windows if w.active_at(now)]


def window_for(active: list[Window], hostname: str, team: str, rule_id: int | None) -> int | None:
    """The id of the first active window that matches the event, or None."""
    for window in active:
        if window.matches(hostname, team, rule_id):
            return window.id
    return None

"""Small formatting filters for the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """``3725`` → ``1h 2m``; ``None`` → ``–``."""
    if seconds is None or seconds == "":
        return "–"
    seconds = int(float(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


@register.filter
def epoch_time(value) -> str:
    """Epoch seconds → ``HH:MM:SS`` UTC."""
    if not value:
        return "–"
    return datetime.fromtimestamp(float(value), UTC).strftime("%H:%M:%S")


@register.filter
def rate(value) -> str:
    if value is None or value == "":
        return "–"
    value = float(value)
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"

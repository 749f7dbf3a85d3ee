"""Forwarding priority classes: which handlings the forwarders drain first.

A class is a group of handlings drained together, oldest first; classes are
drained in order (``Page_and_ticket`` and ``Page_only`` before
``Ticket_only`` by default), and every handling not named forms one last
class, so nothing in the outbox is ever left unclaimed.

``priority_classes()`` is the ONE accessor the forwarders, the outbox
statistics and the admin read the order through: the runtime setting
``forward_priority_classes`` (default ``FORWARD_PRIORITY_CLASSES`` from the
environment), so a changed order applies at the next claim (the rows store only
their handling, never a priority, so nothing is rewritten).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from alerts.choices import HandlingChoices
from alerts.dynamic_config import runtime

# Every value the outbox ``handling`` column can hold ('' = payload without one).
KNOWN_HANDLINGS: tuple[str, ...] = (*HandlingChoices.values, "")


def classes_parse(text: str) -> tuple[tuple[str, ...], ...]:
    """``"A,B;C"`` → ``(("A", "B"), ("C",), (rest...))``; unknown or repeated names are refused."""
    classes: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for part in text.split(";"):
        names = tuple(n.strip() for n in part.split(",") if n.strip())
        if not names:
            continue
        for name in names:
            if name not in HandlingChoices.values:
                raise ImproperlyConfigured(f"FORWARD_PRIORITY_CLASSES: unknown handling {name!r}")
            if name in seen:
                raise ImproperlyConfigured(f"FORWARD_PRIORITY_CLASSES: {name!r} named twice")
            seen.add(name)
        classes.append(names)
    rest = tuple(h for h in KNOWN_HANDLINGS if h not in seen)
    if rest:
        classes.append(rest)
    return tuple(classes)


def class_label(handlings: tuple[str, ...]) -> str:
    """A metric label / display name: ``Page_and_ticket+Page_only``; the catch-all reads ``other``.

    Only the catch-all holds ``''`` (it cannot be named in the setting).
    """
    return "other" if "" in handlings else "+".join(handlings)


_cache: tuple[str, tuple[tuple[str, ...], ...]] | None = None


def priority_classes() -> tuple[tuple[str, ...], ...]:
    """The handling classes in drain order (parsed once per distinct setting value)."""
    global _cache
    text = runtime("forward_priority_classes")
    if _cache is None or _cache[0] != text:
        _cache = (text, classes_parse(text))
    return _cache[1]

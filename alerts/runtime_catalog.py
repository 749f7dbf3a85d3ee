"""The runtime settings an operator may change without a restart: names, types, ranges.

Pure: no Django, no Redis. Each setting's default is the start-up value of a
Django setting (itself read from the environment), named by ``setting``; the
accessor in ``alerts.dynamic_config`` resolves it. ``setting_parse`` is the one
validation the admin, the API and the service share, so all three refuse the
same bad value with the same message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class RuntimeSettingError(ValueError):
    """A value (or name) an operator may not set; the message says why."""


@dataclass(frozen=True)
class SettingSpec:
    name: str
    kind: type  # int, float or str (a str setting has choices, or a text_check)
    setting: str  # the Django setting holding the environment default
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    text_check: Callable[[str], str | None] | None = None  # free text: the error message, or None when valid

    def describe(self) -> dict:
        return {
            "type": {int: "integer", float: "number", str: "choice" if self.choices else "text"}[self.kind],
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices) or None,
            "description": self.description,
        }


_MAX = 1_000_000_000


def priority_classes_check(text: str) -> str | None:
    """``"Page_and_ticket,Page_only;Ticket_only"``: classes of handlings, drained in order.

    Every named handling must exist and be named once; handlings not named form
    one last class (forwarding.priority), so nothing is ever left undrained.
    """
    from alerts.choices import HandlingChoices  # TextChoices: importable without settings or I/O

    seen: set[str] = set()
    for name in (n.strip() for part in text.split(";") for n in part.split(",")):
        if not name:
            continue
        if name not in HandlingChoices.values:
            return f"unknown handling {name!r} (one of {', '.join(HandlingChoices.values)})"
        if name in seen:
            return f"{name!r} named twice"
        seen.add(name)
    return None if seen else "name at least one handling"


CATALOG: dict[str, SettingSpec] = {
    spec.name: spec
    for spec in (
        SettingSpec("moog_rate_limit", int, "MOOG_RATE_LIMIT", "Moogsoft requests allowed per rate period, all forwarders together.", 1, 100_000),
        SettingSpec("moog_rate_period", int, "MOOG_RATE_PERIOD", "Length of the Moogsoft rate-limit window, seconds.", 1, 3600),
        SettingSpec("moog_circuit_breaker_threshold", int, "MOOG_CIRCUIT_BREAKER_THRESHOLD", "Consecutive Moogsoft failures that open the circuit breaker.", 1, 10_000),
        SettingSpec("moog_circuit_breaker_timeout", int, "MOOG_CIRCUIT_BREAKER_TIMEOUT", "Seconds the breaker stays open before one probe is sent.", 1, 86_400),
        SettingSpec("max_ingest_queue_size", int, "MAX_INGEST_QUEUE_SIZE", "Unclassified events above which ingest answers 503 (backpressure).", 1, _MAX),
        SettingSpec("alerter_queue_warn_threshold", int, "ALERTER_QUEUE_WARN_THRESHOLD", "Unclassified events at which the dashboard and logs warn.", 1, _MAX),
        SettingSpec("alerter_queue_shed_threshold", int, "ALERTER_QUEUE_SHED_THRESHOLD", "Unclassified events at which classifiers shed load (see alerter_shed_mode).", 1, _MAX),
        SettingSpec("alerter_shed_mode", str, "ALERTER_SHED_MODE", "What shedding does: dlq (park the oldest batches as dead letters) or defer (slow down).", choices=("dlq", "defer")),
        SettingSpec("unhandled_event_threshold", int, "UNHANDLED_EVENT_THRESHOLD", "Unmatched events from one host within the window that raise a meta-alert.", 1, _MAX),
        SettingSpec("unhandled_event_window", int, "UNHANDLED_EVENT_WINDOW", "Window of the unhandled-flood detector, seconds.", 1, 7 * 86_400),
        SettingSpec("rule_cache_ttl", int, "RULE_CACHE_TTL", "Seconds after which a classifier recompiles its rules even without a version bump.", 1, 86_400),
        SettingSpec("fold_window_seconds", int, "FOLD_WINDOW_SECONDS", "Repeats of one alert signature within this many seconds of the first are folded into it (0: never fold).", 0, 86_400),
        SettingSpec("max_dlq_retries", int, "MAX_DLQ_RETRIES", "Replays of a dead letter before it is poisoned.", 1, 1000),
        SettingSpec("forward_priority_classes", str, "FORWARD_PRIORITY_CLASSES", "Outbox drain order: classes of handlings separated by ';', handlings of one class by ','; unnamed handlings go last.", text_check=priority_classes_check),
    )
}  # fmt: skip


def setting_spec(name: str) -> SettingSpec:
    try:
        return CATALOG[name]
    except KeyError:
        raise RuntimeSettingError(f"unknown setting {name!r}") from None


def setting_parse(name: str, raw: object, *, from_text: bool = False) -> int | float | str:
    """The validated value of ``raw`` for setting ``name``, or ``RuntimeSettingError``.

    JSON values must have the setting's type (``"5"`` is not an integer, nor is
    ``true`` or ``5.0``); ``from_text`` accepts the text of a form field.
    """
    spec = setting_spec(name)
    value: int | float | str
    if spec.kind is str and spec.text_check is not None:
        if not isinstance(raw, str) or len(raw) > 500:
            raise RuntimeSettingError(f"{name} must be a text of at most 500 characters")
        problem = spec.text_check(raw.strip())
        if problem:
            raise RuntimeSettingError(f"{name}: {problem}")
        return raw.strip()
    if spec.kind is str:
        if not isinstance(raw, str) or raw not in spec.choices:
            raise RuntimeSettingError(f"{name} must be one of {', '.join(spec.choices)}")
        return raw
    if from_text and isinstance(raw, str):
        try:
            raw = spec.kind(raw.strip())
        except ValueError:
            raise RuntimeSettingError(f"{name} must be {'an integer' if spec.kind is int else 'a number'}") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or (spec.kind is int and not isinstance(raw, int)):
        raise RuntimeSettingError(f"{name} must be {'an integer' if spec.kind is int else 'a number'}")
    value = spec.kind(raw)
    if spec.minimum is not None and value < spec.minimum:
        raise RuntimeSettingError(f"{name} must be at least {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise RuntimeSettingError(f"{name} must be at most {spec.maximum:g}")
    return value

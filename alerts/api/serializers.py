"""Shapes of the API's requests and responses. No business logic: validation is the model's
(``full_clean`` in the services); these only convert types and document the schema."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from alerts.choices import AuditOperation, ForwardStatus, HandlingChoices, SourceChoices
from alerts.models import AlertRule, ApiKey, ConfigAuditLog, DevelopmentHost, DeviceTeam

_HANDLING_HELP = "One of " + ", ".join(HandlingChoices.values) + " (Ignore is accepted as Suppress)."


class ErrorSerializer(serializers.Serializer):
    """Every error: a short title and an object of details (per-field messages for a 400)."""

    error = serializers.CharField()
    detail = serializers.DictField()


class ReasonField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("help_text", "Why: recorded in the configuration audit log.")
        super().__init__(**kwargs)


class AlertRuleSerializer(serializers.ModelSerializer):
    # Plain strings: the model maps the Ignore alias and refuses unknown names (one message everywhere).
    prod_handling = serializers.CharField(max_length=30, help_text=_HANDLING_HELP)
    dev_handling = serializers.CharField(max_length=30, help_text=_HANDLING_HELP)
    reason = ReasonField()

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "match_string",
            "trap_oid",
            "syslog_severity",
            "match_type",
            "priority",
            "prod_handling",
            "dev_handling",
            "team_assignment",
            "description",
            "is_active",
            "created_at",
            "updated_at",
            "created_by",
            "reason",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "created_by"]


class DevelopmentHostSerializer(serializers.ModelSerializer):
    reason = ReasonField()

    class Meta:
        model = DevelopmentHost
        fields = ["id", "hostname", "description", "added_at", "added_by", "reason"]
        read_only_fields = ["id", "added_at", "added_by"]
        # Uniqueness is checked by the model after it lower-cases the name (same message as the admin).
        extra_kwargs = {"hostname": {"validators": []}}


class DeviceTeamSerializer(serializers.ModelSerializer):
    reason = ReasonField()

    class Meta:
        model = DeviceTeam
        fields = ["id", "hostname", "team_assignment", "updated_at", "assigned_by", "reason"]
        read_only_fields = ["id", "updated_at", "assigned_by"]
        extra_kwargs = {"hostname": {"validators": []}}


class ReasonSerializer(serializers.Serializer):
    reason = ReasonField()


class ConfigAuditLogSerializer(serializers.ModelSerializer):
    operation = serializers.ChoiceField(choices=AuditOperation.choices)

    class Meta:
        model = ConfigAuditLog
        fields = [
            "id",
            "changed_at",
            "changed_by",
            "operation",
            "table_name",
            "record_id",
            "old_values",
            "new_values",
            "reason",
            "correlation_id",
        ]


def write_response(noun: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The documented shape of a write's answer: ``{"id", "message", "<noun>": {...}}``."""
    return type(
        f"{item.__name__.removesuffix('Serializer')}WriteResponse",
        (serializers.Serializer,),
        {"id": serializers.IntegerField(), "message": serializers.CharField(), noun: item(read_only=True)},
    )


# --------------------------------------------------------------------------- events


class EventQuerySerializer(serializers.Serializer):
    """Event search parameters. The window (``since``..``until``, default the last hour) bounds
    the partitions read; ``q`` is a case-insensitive substring of the message within it."""

    hostname = serializers.CharField(required=False, max_length=255, help_text="Exact, or with * wildcards.")
    rule_id = serializers.RegexField(
        r"^(none|[0-9]{1,10})$", required=False, help_text="A rule id, or none: the events no rule matched."
    )
    handling = serializers.ChoiceField(required=False, choices=HandlingChoices.choices)
    team = serializers.CharField(required=False, max_length=64)
    forward_status = serializers.ChoiceField(required=False, choices=ForwardStatus.choices)
    source = serializers.ChoiceField(required=False, choices=SourceChoices.choices)
    # In UTC: PostgreSQL refuses offsets beyond ±15:59; DRF answers 400 when the conversion overflows.
    since = serializers.DateTimeField(
        required=False, default_timezone=UTC, help_text="ISO 8601; default: until minus one hour."
    )
    until = serializers.DateTimeField(
        required=False, default_timezone=UTC, help_text="ISO 8601, exclusive; default: now."
    )
    q = serializers.CharField(required=False, max_length=200, help_text="Substring of the message.")
    cursor = serializers.CharField(required=False, max_length=200, help_text="next_cursor of the previous page.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)

    def validate_rule_id(self, value: str) -> int | str:
        if value == "none":
            return value
        if int(value) > 2**31 - 1:
            raise serializers.ValidationError("Not a rule id.")
        return int(value)

    def validate(self, attrs):
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - timezone.timedelta(seconds=settings.API_EVENTS_DEFAULT_WINDOW_SECONDS)
        if since >= until:
            raise serializers.ValidationError({"since": ["since must be before until."]})
        attrs["since"], attrs["until"] = since, until
        return attrs


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    correlation_id = serializers.UUIDField()
    received_at = serializers.DateTimeField()
    event_timestamp = serializers.DateTimeField()
    processed_at = serializers.DateTimeField()
    hostname = serializers.CharField()
    message = serializers.CharField()
    source = serializers.CharField()
    syslog_severity = serializers.IntegerField(allow_null=True)
    trap_oid = serializers.CharField(allow_null=True)
    rule_id = serializers.IntegerField(allow_null=True)
    team_assignment = serializers.CharField(allow_null=True)
    handling = serializers.CharField()
    is_dev = serializers.BooleanField()
    forward_status = serializers.CharField()
    forwarded_at = serializers.DateTimeField(allow_null=True)


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next (older) page.")
    limit = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    total = serializers.IntegerField(help_text="The query planner's estimate, never an exact count.")
    total_is_estimate = serializers.BooleanField()


class EventDetailSerializer(EventSerializer):
    batch_id = serializers.IntegerField(allow_null=True)
    raw_payload = serializers.JSONField()


class OutboxStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ForwardingSerializer(serializers.Serializer):
    status = serializers.CharField(allow_null=True, help_text="none, pending, sent or dead")
    forwarded_at = serializers.DateTimeField(allow_null=True)
    outbox = OutboxStateSerializer(allow_null=True, help_text="Present while the alert waits for Moogsoft.")


class TraceDeadLetterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stage = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class EventTraceSerializer(serializers.Serializer):
    correlation_id = serializers.UUIDField()
    event = EventDetailSerializer(allow_null=True)
    rule = AlertRuleSerializer(allow_null=True, read_only=True)
    forwarding = ForwardingSerializer()
    dead_letters = TraceDeadLetterSerializer(many=True)


# --------------------------------------------------------------------------- API keys (admin scope)


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never the key or its hash; ``prefix`` (the key's first 8 characters) names it."""

    reason = ReasonField()

    class Meta:
        model = ApiKey
        fields = ["prefix", "name", "scope", "created", "expiry_date", "revoked", "reason"]
        read_only_fields = ["prefix", "created", "expiry_date", "revoked"]
        extra_kwargs = {"name": {"required": True, "allow_blank": False}}


class ApiKeyCreatedSerializer(serializers.Serializer):
    prefix = serializers.CharField()
    message = serializers.CharField()
    key = serializers.CharField(help_text="The key itself: shown this once, only its hash is stored.")
    api_key = ApiKeySerializer()


class ApiKeyRevokedSerializer(serializers.Serializer):
    prefix = serializers.CharField()
    message = serializers.CharField()
    api_key = ApiKeySerializer()


class UnmatchedQuerySerializer(serializers.Serializer):
    """The window of the unmatched-events summary (default the last hour) and how many hosts."""

    since = serializers.DateTimeField(
        required=False, default_timezone=UTC, help_text="ISO 8601; default: until minus one hour."
    )
    until = serializers.DateTimeField(
        required=False, default_timezone=UTC, help_text="ISO 8601, exclusive; default: now."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)

    def validate(self, attrs):
        return EventQuerySerializer.validate(self, attrs)


class UnmatchedHostSerializer(serializers.Serializer):
    hostname = serializers.CharField()
    count = serializers.IntegerField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    sample = serializers.CharField(help_text="One of the host's unmatched messages.")


class UnmatchedSummarySerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    hosts = UnmatchedHostSerializer(many=True)

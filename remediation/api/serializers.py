from rest_framework import serializers

from alerts.models import DeadLetter


class DeadLetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadLetter
        fields = [
            "id",
            "stage",
            "status",
            "correlation_id",
            "batch_id",
            "audit_id",
            "audit_received_at",
            "payload",
            "last_error",
            "response_status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeadLetterActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()
    result = serializers.CharField(help_text="replayed, retry, poisoned, skipped or discarded")
    dead_letter = DeadLetterSerializer()


class BreakerResetSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class _BreakerStateSerializer(serializers.Serializer):
    state = serializers.CharField()
    failures = serializers.IntegerField()
    opened_at = serializers.FloatField(allow_null=True)


class BreakerResetAnswerSerializer(serializers.Serializer):
    before = _BreakerStateSerializer()
    after = _BreakerStateSerializer()

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

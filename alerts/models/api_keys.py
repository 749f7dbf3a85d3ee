"""Operator API keys: stored hashed (djangorestframework-api-key), each with a name and one scope."""

from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from alerts.choices import ApiKeyScope
from alerts.key_rate import parse_rate


def validate_rate(value: str) -> None:
    if value and parse_rate(value) is None:
        raise ValidationError("a rate looks like 10/s, 600/min, 1000/hour or 10000/day")


class ApiKeyManager(BaseAPIKeyManager):
    pass


class ApiKey(AbstractAPIKey):
    """A key for the REST API. Only a hash is kept; the key itself is shown once, when it is made.

    ``name`` is what the configuration audit trail records as ``changed_by``.
    """

    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    # Requests per period for this key across every web process (counted in Redis), e.g. "10/s",
    # "600/min"; blank: API_THROTTLE_RATE.
    rate_limit = models.CharField(max_length=20, blank=True, default="", validators=[validate_rate])
    # Updated at most once a minute per process (never a write per request).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        db_table = "api_keys"
        verbose_name = "API key"
        verbose_name_plural = "API keys"

"""Operator API keys: stored hashed (djangorestframework-api-key), each with a name and one scope."""

from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from alerts.choices import ApiKeyScope


class ApiKeyManager(BaseAPIKeyManager):
    pass


class ApiKey(AbstractAPIKey):
    """A key for the REST API. Only a hash is kept; the key itself is shown once, when it is made.

    ``name`` is what the configuration audit trail records as ``changed_by``.
    """

    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        db_table = "api_keys"
        verbose_name = "API key"
        verbose_name_plural = "API keys"

"""API keys in the admin: made here (shown once), revoked here; only their hashes are stored."""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from alerts.models import ApiKey

admin.site.unregister(APIKey)  # the library's unscoped model is not used


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "scope", "rate_limit", "last_used_at")
    list_filter = ("scope", "revoked", "created")

"""Ingest keys in the admin: made here (the key is shown once), revoked here, never deleted (audited)."""

from django.contrib import admin, messages

from alerts.models import IngestKey
from alerts.services.ingest_keys import ingest_key_create, ingest_key_revoke


@admin.register(IngestKey)
class IngestKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_at", "created_by", "expires_at", "revoked_at", "imported")
    list_filter = ("imported",)
    search_fields = ("name", "prefix")
    fields = ("name", "expires_at")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row keeps an imported key from coming back

    def save_model(self, request, obj, form, change) -> None:
        row, key = ingest_key_create(
            name=obj.name, expires_at=obj.expires_at, changed_by=request.user.get_username(), reason="admin"
        )
        obj.pk = row.pk
        self.message_user(request, f"Ingest key {row.name!r}: {key}  (shown once: give it to the sender now)")

    @admin.action(description="Revoke: refuse these keys on every ingest process within seconds (audited)")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            ingest_key_revoke(key=key, changed_by=request.user.get_username(), reason="admin")
        self.message_user(request, "Revoked.", messages.SUCCESS)

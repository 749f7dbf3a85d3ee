"""Failed-login records in the admin (django-axes) with an audited "Unlock" action."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages

from alerts.services.login_protection import login_unlock

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    actions = ["unlock"]

    @admin.action(description="Unlock: forget these failed logins (audited)", permissions=["delete"])
    def unlock(self, request, queryset):
        count = login_unlock(attempts=list(queryset), changed_by=request.user.get_username())
        self.message_user(request, f"{count} unlocked.", messages.SUCCESS)

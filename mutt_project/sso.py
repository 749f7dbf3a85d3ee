"""Single sign-on (OIDC, mozilla-django-oidc) and the local-login switch.

An OIDC user's role comes from the provider's groups claim (``OIDC_GROUPS_CLAIM``):
a group in ``OIDC_ADMIN_GROUPS`` → admin, ``OIDC_WRITE_GROUPS`` → write,
``OIDC_READ_GROUPS`` → read (the same scopes as API keys); no matching group,
no login. The role is applied at every login, so a change at the provider
reaches MUTT at the user's next login. Roles are Django groups
(``mutt-read``/``mutt-write``) carrying the admin permissions; admin is a superuser.

``MUTT_LOCAL_LOGIN=0`` switches local passwords off for everyone except the
break-glass account ``MUTT_BREAK_GLASS_USER``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.http import Http404
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from alerts.choices import ApiKeyScope

ROLE_GROUP = {ApiKeyScope.READ: "mutt-read", ApiKeyScope.WRITE: "mutt-write"}
_RANK = {ApiKeyScope.READ: 1, ApiKeyScope.WRITE: 2, ApiKeyScope.ADMIN: 3}


def role_from_groups(groups: list[str], admin: list[str], write: list[str], read: list[str]) -> str | None:
    """The highest role any of the user's provider groups maps to, or None (pure)."""
    found = set(groups)
    if found & set(admin):
        return ApiKeyScope.ADMIN
    if found & set(write):
        return ApiKeyScope.WRITE
    if found & set(read):
        return ApiKeyScope.READ
    return None


def role_group(role: str) -> Group:
    """The Django group of a role, with its admin permissions (view everything; write: change MUTT's data)."""
    group, _ = Group.objects.get_or_create(name=ROLE_GROUP[role])
    perms = Permission.objects.filter(content_type__app_label__in=["alerts", "forwarding", "remediation"])
    if role == ApiKeyScope.READ:
        perms = perms.filter(codename__startswith="view_")
    group.permissions.set(perms)
    return group


def user_role(user) -> str | None:
    """The role of a user whose role came from single sign-on (its group), else None."""
    names = set(user.groups.filter(name__in=ROLE_GROUP.values()).values_list("name", flat=True))
    for role in (ApiKeyScope.WRITE, ApiKeyScope.READ):
        if ROLE_GROUP[role] in names:
            return role
    return None


class MuttOIDCBackend(OIDCAuthenticationBackend):
    def _role(self, claims: dict) -> str | None:
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        return role_from_groups(
            list(groups), settings.OIDC_ADMIN_GROUPS, settings.OIDC_WRITE_GROUPS, settings.OIDC_READ_GROUPS
        )

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("preferred_username")) and self._role(claims) is not None

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=claims["preferred_username"])

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(claims["preferred_username"], email=claims.get("email", ""))
        user.set_unusable_password()  # never a local login
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        role = self._role(claims)
        user.is_staff = True
        user.is_superuser = role == ApiKeyScope.ADMIN
        user.save()
        user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUP.values()))
        if role != ApiKeyScope.ADMIN:
            user.groups.add(role_group(role))
        return user


class LocalLoginBackend(ModelBackend):
    """Local passwords, unless switched off (``MUTT_LOCAL_LOGIN=0``): then only the break-glass account."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.MUTT_LOCAL_LOGIN and username != settings.MUTT_BREAK_GLASS_USER:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def oidc_only_when_enabled(view):
    def wrapped(request, *args, **kwargs):
        if not settings.MUTT_OIDC_ENABLED:
            raise Http404("single sign-on is not configured")
        return view(request, *args, **kwargs)

    return wrapped

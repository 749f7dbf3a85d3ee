"""Scopes for the REST API: ``read`` (GET only), ``write`` (configuration, dead-letter actions), ``admin`` (all).

An API key carries one scope. A logged-in user gets one from the account:
superuser → admin, staff → write, anyone else → read.

Use ``HasScopeForMethod`` on an endpoint whose writes need ``write`` (the
default for every API view), ``HasAdminScope`` on keys and runtime settings.
"""

from __future__ import annotations

from rest_framework import permissions

from alerts.choices import ApiKeyScope

_RANK = {ApiKeyScope.READ: 1, ApiKeyScope.WRITE: 2, ApiKeyScope.ADMIN: 3}


def request_scope(request) -> str | None:
    """The scope of whoever made the request, or None when nobody is authenticated."""
    user = request.user
    if not user or not user.is_authenticated:
        return None
    scope = getattr(user, "scope", None)
    if scope:
        return scope
    if user.is_superuser:
        return ApiKeyScope.ADMIN
    from mutt_project.sso import user_role  # a single sign-on user's role is its group

    role = user_role(user)
    if role:
        return role
    return ApiKeyScope.WRITE if user.is_staff else ApiKeyScope.READ


def request_actor(request) -> str:
    """Who the audit trail names for this request: the API key's name or the user's username."""
    return request.user.get_username()


class _HasScope(permissions.BasePermission):
    required = ApiKeyScope.ADMIN
    message = "This action needs an API key or user with the admin scope."

    def required_scope(self, request) -> str:
        return self.required

    def has_permission(self, request, view) -> bool:
        scope = request_scope(request)
        if scope is None:
            return False  # DRF answers 401 (not authenticated)
        return _RANK[scope] >= _RANK[self.required_scope(request)]


class HasReadScope(_HasScope):
    required = ApiKeyScope.READ
    message = "This action needs the read scope."


class HasWriteScope(_HasScope):
    required = ApiKeyScope.WRITE
    message = "This action needs the write scope (a read key may only GET)."


class HasAdminScope(_HasScope):
    required = ApiKeyScope.ADMIN
    message = "This action needs the admin scope."


class HasScopeForMethod(_HasScope):
    """Safe methods (GET, HEAD, OPTIONS) need ``read``; every other method needs ``write``."""

    message = "This action needs the write scope (a read key may only GET)."

    def required_scope(self, request) -> str:
        return ApiKeyScope.READ if request.method in permissions.SAFE_METHODS else ApiKeyScope.WRITE


class HasAdminScopeForWrites(_HasScope):
    """Safe methods need ``read``; changes need ``admin`` (runtime settings, API keys)."""

    message = "This action needs the admin scope."

    def required_scope(self, request) -> str:
        return ApiKeyScope.READ if request.method in permissions.SAFE_METHODS else ApiKeyScope.ADMIN

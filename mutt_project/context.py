"""Template context shared by MUTT's pages: whether single sign-on is offered on the login page."""

from django.conf import settings


def sso(request) -> dict:
    return {"sso_enabled": settings.MUTT_OIDC_ENABLED}

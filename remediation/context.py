"""Template context for the console's links (admin header and dashboard)."""

from django.conf import settings


def console_links(request) -> dict:
    return {"flower_url": settings.FLOWER_URL}

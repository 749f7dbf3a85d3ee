"""JSON request bodies, refused with 413 above ``API_MAX_BODY_BYTES``.

DRF reads the WSGI stream directly, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
never sees API bodies: the limit is enforced here, on the declared length and
again on the bytes actually read.
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.parsers import JSONParser

from alerts.api.errors import PayloadTooLarge


def body_read_limited(stream, parser_context) -> bytes:
    """The body, refused (413) when its declared length or the bytes read pass the view's limit.

    A view may allow more than ``API_MAX_BODY_BYTES`` (the rule lab takes up to 1,000 sample events).
    """
    view = (parser_context or {}).get("view")
    limit = getattr(view, "max_body_bytes", None) or settings.API_MAX_BODY_BYTES
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes.")
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes.")
    return body


class SizeLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = body_read_limited(stream, parser_context)
        return super().parse(io.BytesIO(body), media_type, parser_context)


class SizeLimitedTextParser(SizeLimitedJSONParser):
    """A YAML configuration file or a CSV table as text (the same size limit as JSON bodies)."""

    media_type = "text/*"

    def parse(self, stream, media_type=None, parser_context=None):
        body = body_read_limited(stream, parser_context)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            from rest_framework.exceptions import ParseError

            raise ParseError("the body must be UTF-8 text") from None


class SizeLimitedYamlParser(SizeLimitedTextParser):
    media_type = "application/yaml"

"""OpenAPI generation: every operation documents the JSON errors it can answer with."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from alerts.api.serializers import ErrorSerializer


class MuttAutoSchema(AutoSchema):
    def _errors(self) -> dict:
        codes = {
            400: "Invalid query parameter or body",
            404: "Not found",
            405: "Method not allowed",
            406: "Not acceptable",
            429: "Too many requests",
        }
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes |= {401: "No or invalid credentials", 403: "The key's scope does not allow this"}
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes |= {409: "Conflict with the resource's state", 413: "Body too large", 415: "Body is not JSON"}
        return codes

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code, description in self._errors().items():
            if str(code) not in bodies:
                bodies[str(code)] = self._get_response_for_code(ErrorSerializer, str(code))
                bodies[str(code)]["description"] = description
        return bodies


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents both ways to present a key: ``X-API-Key`` and ``Authorization: Bearer``."""

    target_class = "alerts.api.authentication.ApiKeyAuthentication"
    name = ["ApiKeyAuth", "BearerAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "http", "scheme": "bearer"},
        ]

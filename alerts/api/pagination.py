"""Limit/offset pagination in the reference guide's envelope: ``{"rules": [...], "total", "limit", "offset"}``.

A bad ``limit`` or ``offset`` is a 400, not silently replaced. Lists of the
audit trail skip the total (no COUNT(*) over an audit table) and say
``has_more`` instead.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


def _bounded_int(request, name: str, default: int, minimum: int, maximum: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise serializers.ValidationError({name: ["A whole number is required."]}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise serializers.ValidationError({name: [f"Must be {bound}."]})
    return value


class EnvelopePagination(LimitOffsetPagination):
    results_key = "results"
    default_limit = 100
    max_limit = 1000
    with_total = True

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = _bounded_int(request, self.limit_query_param, self.default_limit, 1, self.max_limit)
        self.offset = _bounded_int(request, self.offset_query_param, 0, 0, 10_000_000)
        if self.with_total:
            self.count = self.get_count(queryset)
            return list(queryset[self.offset : self.offset + self.limit])
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_more = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, data):
        body = {self.results_key: data}
        if self.with_total:
            body["total"] = self.count
        else:
            body["has_more"] = self.has_more
        body |= {"limit": self.limit, "offset": self.offset}
        return Response(body)

    def get_paginated_response_schema(self, schema):
        properties = {self.results_key: schema}
        required = [self.results_key, "limit", "offset"]
        if self.with_total:
            properties["total"] = {"type": "integer"}
            required.append("total")
        else:
            properties["has_more"] = {"type": "boolean"}
            required.append("has_more")
        properties |= {"limit": {"type": "integer"}, "offset": {"type": "integer"}}
        return {"type": "object", "required": required, "properties": properties}

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.default_limit}, at most {self.max_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Rows to skip.",
                "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
            },
        ]


class RulePagination(EnvelopePagination):
    results_key = "rules"


class DevHostPagination(EnvelopePagination):
    results_key = "dev_hosts"


class TeamPagination(EnvelopePagination):
    results_key = "teams"


class AuditLogPagination(EnvelopePagination):
    results_key = "logs"
    default_limit = 50
    max_limit = 500
    with_total = False


class ApiKeyPagination(EnvelopePagination):
    results_key = "api_keys"

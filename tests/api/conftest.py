"""Fixtures for the operator API tests: keys of each scope and an HTTP client that presents them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alerts.services.api_keys import api_key_create


class KeyClient(APIClient):
    """An API client presenting one key in ``X-API-Key``; ``.key`` and ``.name`` say which."""

    def __init__(self, key: str, name: str, **kwargs):
        super().__init__(**kwargs)
        self.key, self.name = key, name
        self.credentials(HTTP_X_API_KEY=key)


@pytest.fixture
def make_client(db):
    def _make(scope: str = "write", name: str | None = None) -> KeyClient:
        name = name or f"{scope}-key"
        _, key = api_key_create(name=name, scope=scope)
        return KeyClient(key, name)

    return _make


@pytest.fixture
def writer(make_client) -> KeyClient:
    return make_client("write", "ci-pipeline")


@pytest.fixture
def reader(make_client) -> KeyClient:
    return make_client("read", "dashboard-reader")


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


RULE = {
    "match_string": "Interface.*changed state to down",
    "match_type": "regex",
    "priority": 200,
    "prod_handling": "Page_and_ticket",
    "dev_handling": "Suppress",
    "team_assignment": "network-ops",
}

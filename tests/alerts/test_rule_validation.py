"""Patterns RE2 cannot run in linear time are refused when a rule is saved, with the reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from alerts.models import AlertRule, ConfigAuditLog
from alerts.services import ConfigChange, rule_create

pytestmark = pytest.mark.django_db

REFUSED = [r"(a)\1", r"foo(?=bar)", r"(?<!x)y"]


def _data(pattern: str) -> dict:
    return {
        "match_type": "regex",
        "match_string": pattern,
        "priority": 100,
        "prod_handling": "Page_only",
        "dev_handling": "Log_only",
        "team_assignment": "NETO",
    }


@pytest.mark.parametrize("pattern", REFUSED)
def test_model_validation_refuses_a_pattern_re2_cannot_compile(pattern):
    with pytest.raises(ValidationError) as excinfo:
        AlertRule(**_data(pattern)).full_clean()
    assert "Pattern refused (RE2" in str(excinfo.value.message_dict["match_string"])


@pytest.mark.parametrize("pattern", REFUSED)
def test_the_service_refuses_it_and_writes_nothing(pattern):
    with pytest.raises(ValidationError):
        rule_create(data=_data(pattern), change=ConfigChange(user="api-user"))
    assert AlertRule.objects.count() == 0
    assert ConfigAuditLog.objects.count() == 0


def test_the_admin_form_shows_the_reason(admin_client):
    response = admin_client.post("/admin/alerts/alertrule/add/", _data(r"(a)\1") | {"reason": "try"})
    assert response.status_code == 200  # the form again, not a redirect
    assert "Pattern refused (RE2" in response.content.decode()
    assert "invalid escape sequence" in response.content.decode()
    assert AlertRule.objects.count() == 0

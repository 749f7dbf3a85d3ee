"""Production settings behind a TLS-terminating proxy pass Django's deployment checklist."""

from __future__ import annotations

import secrets
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "MUTT_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "mutt.example.com",
    "INGEST_API_KEYS": "k1",
    "MUTT_BEHIND_PROXY": "1",
    "METRICS_TOKEN": secrets.token_urlsafe(32),
}


def _check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings_behind_a_proxy():
    result = _check(PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_development_settings():
    result = _check({"PATH": PRODUCTION["PATH"], "DJANGO_SECRET_KEY": PRODUCTION["DJANGO_SECRET_KEY"]})
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS outside production


def test_check_deploy_flags_open_metrics():
    result = _check({k: v for k, v in PRODUCTION.items() if k != "METRICS_TOKEN"})
    assert result.returncode != 0 and "mutt.W001" in result.stderr

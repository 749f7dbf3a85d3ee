"""The live web process (gunicorn, as the Procfile runs it) fuzzed from its own published schema.

schemathesis generates requests for every operation in /api/schema/ (a
bounded number of examples each) and checks every answer: no 5xx, a
documented status, the documented content type, a body that matches the
documented schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from alerts.services.api_keys import api_key_create
from tests.conftest import ROOT, _test_database_url, free_port, wait_for

pytestmark = [pytest.mark.integration]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def web_server(django_db_setup, tmp_path_factory):
    """The web process on the test database."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("web") / "web.log"
    env = os.environ | {
        "DATABASE_URL": _test_database_url(),
        "MUTT_SERVICE_NAME": "web",
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_RATE": "1000000/min",
        "DB_CONN_MAX_AGE": "0",
        "DJANGO_DEBUG": "0",  # as in production: Django's own 404s under /api/ are JSON too
    }
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "mutt_project.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url + "/health", timeout=30).status_code in (200, 503)
        except requests.RequestException:  # not listening yet, or slow to answer on a busy machine
            return proc.poll() is not None

    wait_for(up, timeout=60, message="web server")
    assert proc.poll() is None, log_path.read_text()
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()
    errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line or " 500 " in line]
    assert not errors, log_path.read_text()[-5000:]


@pytest.fixture
def fuzz_key(transactional_db) -> str:
    """An admin key (every endpoint reachable), committed so the server process sees it (tables flushed after)."""
    return api_key_create(name="schemathesis", scope="admin")[1]


def test_api_answers_match_the_published_schema(web_server, fuzz_key):
    schema = schemathesis.openapi.from_url(web_server + "/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30  # every endpoint is in the published schema
    examples = int(os.environ.get("MUTT_FUZZ_EXAMPLES", "12"))
    calls: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            response = case.call_and_validate(
                base_url=web_server, headers={"X-API-Key": fuzz_key}, checks=CHECKS, timeout=30
            )
            calls.append(response.status_code)

        fuzz()

    assert len(calls) >= len(operations) and all(code < 500 for code in calls)

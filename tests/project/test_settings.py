"""Settings fail loudly on nonsense and refuse an unsafe production start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mutt_project.env import env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]


def _import_settings(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MUTT_ENV", "DJANGO_", "INGEST_API_KEY"))}
    return subprocess.run(
        [sys.executable, "-c", "import mutt_project.settings"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_env_helpers_reject_nonsense(monkeypatch):
    monkeypatch.setenv("MUTT_TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="MUTT_TEST_FLAG"):
        env_bool("MUTT_TEST_FLAG")
    monkeypatch.setenv("MUTT_TEST_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="MUTT_TEST_NUM"):
        env_int("MUTT_TEST_NUM", 1)
    monkeypatch.setenv("MUTT_TEST_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("MUTT_TEST_NUM", 1, minimum=1)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"DJANGO_DEBUG": "true"}, "DEBUG"),
        ({}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "s" * 50}, "INGEST_API_KEYS"),
    ],
)
def test_production_refuses_unsafe_start(env, complaint):
    result = _import_settings({"MUTT_ENV": "production"} | env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_starts_with_safe_settings():
    result = _import_settings({"MUTT_ENV": "production", "DJANGO_SECRET_KEY": "s" * 50, "INGEST_API_KEYS": "k1"})
    assert result.returncode == 0, result.stderr


def test_secret_from_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import mutt_project.settings as s; print(s.INGEST_API_KEYS)",
        ],
        cwd=ROOT,
        env=os.environ | {"INGEST_API_KEYS_FILE": str(secret)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "from-a-file" in result.stdout

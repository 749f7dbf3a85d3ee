"""Secrets come from Vault (AppRole, KV v2) when VAULT_ADDR is set, and are never logged."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mutt_project.secrets import VaultSecrets
from tests.vault_standin import VaultStandIn

ROOT = Path(__file__).resolve().parents[2]
KV = {"INGEST_API_KEYS": "vault-key-current,vault-key-next", "MOOG_API_KEY": "moog-from-vault"}


@pytest.fixture
def vault():
    stand_in = VaultStandIn("role-1", "secret-1", KV)
    yield stand_in
    stand_in.close()


def _settings_in_subprocess(env: dict) -> subprocess.CompletedProcess:
    code = "from django.conf import settings as s; print(s.INGEST_API_KEYS, s.MOOG_API_KEY == 'moog-from-vault')"
    base = {k: v for k, v in os.environ.items() if k not in ("INGEST_API_KEYS", "MOOG_API_KEY")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=base | {"DJANGO_SETTINGS_MODULE": "mutt_project.settings"} | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_read_secrets_from_vault(vault):
    result = _settings_in_subprocess(
        {"VAULT_ADDR": vault.url, "VAULT_ROLE_ID": "role-1", "VAULT_SECRET_ID": "secret-1"}
    )
    assert result.returncode == 0, result.stderr
    assert "['vault-key-current', 'vault-key-next'] True" in result.stdout
    assert "vault-key" not in result.stderr and "moog-from-vault" not in result.stderr
    assert "POST /v1/auth/approle/login" in vault.calls


def test_wrong_approle_credentials_stop_the_start_without_echoing_them(vault):
    result = _settings_in_subprocess(
        {"VAULT_ADDR": vault.url, "VAULT_ROLE_ID": "role-1", "VAULT_SECRET_ID": "wrong-secret-id"}
    )
    assert result.returncode != 0
    assert "Vault at" in result.stderr
    assert "wrong-secret-id" not in result.stderr


def test_token_renewal_logs_in_again_when_renewal_is_refused(vault):
    secrets = VaultSecrets(vault.url, "role-1", "secret-1", "mutt", "secret", verify=False)
    assert secrets.renew_once() == 3600
    assert "POST /v1/auth/token/renew-self" in vault.calls
    logins = vault.calls.count("POST /v1/auth/approle/login")
    vault.refuse_renewal = True
    secrets.renew_once()
    assert vault.calls.count("POST /v1/auth/approle/login") == logins + 1
    vault.kv["MOOG_API_KEY"] = "rotated"
    secrets.refresh()
    assert secrets.get("MOOG_API_KEY") == "rotated"

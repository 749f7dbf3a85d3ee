"""Secrets from Vault (AppRole, KV v2) when ``VAULT_ADDR`` is set, else from the environment.

Settings call ``secret("NAME")``: the Vault value of key ``NAME`` at
``VAULT_SECRET_PATH`` when Vault is configured, else ``NAME`` / ``NAME_FILE``
from the environment. A background thread renews the Vault token at half its
TTL (re-logging in when renewal is refused) so long-running processes keep a
valid token for re-reads (``vault_secrets().refresh()``). Rotation without
downtime uses current/next pairs: e.g. ``INGEST_API_KEYS`` holds both keys
while senders move over. No secret value is ever logged.
"""

from __future__ import annotations

import logging
import os
import threading

from django.core.exceptions import ImproperlyConfigured

from mutt_project.env import env_secret

log = logging.getLogger(__name__)


class VaultSecrets:
    """KV v2 secrets of one path, read with an AppRole token."""

    def __init__(self, addr: str, role_id: str, secret_id: str, path: str, mount: str, verify: bool | str):
        import hvac  # imported only where Vault is used

        self._client = hvac.Client(url=addr, verify=verify, timeout=5)
        self._role_id = role_id
        self._secret_id = secret_id
        self._path = path
        self._mount = mount
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        self._ttl = self._login()
        self.refresh()

    def _login(self) -> int:
        auth = self._client.auth.approle.login(role_id=self._role_id, secret_id=self._secret_id)["auth"]
        return int(auth.get("lease_duration") or 0)

    def refresh(self) -> None:
        response = self._client.secrets.kv.v2.read_secret_version(
            path=self._path, mount_point=self._mount, raise_on_deleted_version=True
        )
        with self._lock:
            self._values = {k: str(v) for k, v in response["data"]["data"].items()}

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._values.get(name)

    def renew_once(self) -> int:
        """Renew the token; log in again when renewal is refused. Returns the new TTL."""
        import hvac

        try:
            auth = self._client.auth.token.renew_self()["auth"]
            self._ttl = int(auth.get("lease_duration") or self._ttl)
        except hvac.exceptions.VaultError as exc:
            log.warning("vault: token renewal refused (%s); logging in again", type(exc).__name__)
            self._ttl = self._login()
        return self._ttl

    def start_renewal(self) -> None:
        if self._renewer is not None or self._ttl <= 0:
            return

        def _loop():
            while not self._stop.wait(max(self._ttl / 2, 5)):
                try:
                    self.renew_once()
                except Exception as exc:  # keep renewing; a dead renewer would expire the token
                    log.warning("vault: token renewal failed (%s); retrying", type(exc).__name__)

        self._renewer = threading.Thread(target=_loop, name="vault-token-renewal", daemon=True)
        self._renewer.start()

    def stop_renewal(self) -> None:
        self._stop.set()


_vault: VaultSecrets | None = None


def vault_secrets() -> VaultSecrets | None:
    """The process's Vault reader, or None when ``VAULT_ADDR`` is not set."""
    global _vault
    addr = os.environ.get("VAULT_ADDR")
    if not addr:
        return None
    if _vault is None:
        role_id = env_secret("VAULT_ROLE_ID")
        secret_id = env_secret("VAULT_SECRET_ID")
        if not role_id or not secret_id:
            raise ImproperlyConfigured("VAULT_ADDR is set: VAULT_ROLE_ID and VAULT_SECRET_ID are required")
        verify: bool | str = os.environ.get("VAULT_CACERT") or os.environ.get("VAULT_SKIP_VERIFY", "") != "true"
        try:
            _vault = VaultSecrets(
                addr,
                role_id,
                secret_id,
                os.environ.get("VAULT_SECRET_PATH", "mutt"),
                os.environ.get("VAULT_MOUNT", "secret"),
                verify,
            )
        except ImproperlyConfigured:
            raise
        except Exception as exc:
            raise ImproperlyConfigured(f"Vault at {addr} unusable: {type(exc).__name__}") from None
        _vault.start_renewal()
    return _vault


def secret(name: str, default: str = "") -> str:
    vault = vault_secrets()
    if vault is not None:
        value = vault.get(name)
        if value is not None:
            return value
    return env_secret(name, default)


def secret_list(name: str) -> list[str]:
    return [item.strip() for item in secret(name).split(",") if item.strip()]

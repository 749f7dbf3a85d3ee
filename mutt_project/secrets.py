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
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from redis.credentials import CredentialProvider

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


# --- password rotation: current/next pairs (issue 12; docs/deployment.md) ---
# Vault (or the environment) holds DB_PASS_CURRENT / DB_PASS_NEXT and
# REDIS_PASS_CURRENT / REDIS_PASS_NEXT. A new connection tries the current
# password, then the next; when both fail it re-reads Vault once and tries
# again, so a rotation (next becomes current, a new next appears) reaches
# running processes without a restart. Existing connections are unaffected:
# PostgreSQL and Redis keep authenticated sessions open across a password change.

ROTATION_REFRESH_SECONDS = 30
T = TypeVar("T")


class PasswordPair:
    """The ``<PREFIX>_PASS_CURRENT`` / ``<PREFIX>_PASS_NEXT`` passwords, Vault re-read at most every 30 s."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._read_at = time.monotonic()

    def configured(self) -> bool:
        return bool(secret(f"{self.prefix}_PASS_CURRENT"))

    def refresh(self, force: bool = False) -> None:
        vault = vault_secrets()
        if vault is None or (not force and time.monotonic() - self._read_at < ROTATION_REFRESH_SECONDS):
            return
        try:
            vault.refresh()
            self._read_at = time.monotonic()
        except Exception as exc:  # Vault away: keep the values we have
            log.warning("vault: re-reading %s passwords failed (%s)", self.prefix, type(exc).__name__)

    def candidates(self) -> list[str]:
        self.refresh()
        values = [secret(f"{self.prefix}_PASS_CURRENT"), secret(f"{self.prefix}_PASS_NEXT")]
        return [v for i, v in enumerate(values) if v and v not in values[:i]]


def authenticate_with_rotation(
    pair: PasswordPair, attempt: Callable[[str], T], is_auth_error: Callable[[Exception], bool]
) -> T:
    """``attempt(password)`` with current, then next; on auth failure of both, re-read Vault and retry new ones."""
    tried: list[str] = []
    last: Exception | None = None
    for round_ in range(2):
        if round_:
            pair.refresh(force=True)
        for position, password in enumerate(pair.candidates()):
            if password in tried:
                continue
            tried.append(password)
            try:
                result = attempt(password)
            except Exception as exc:
                if not is_auth_error(exc):
                    raise
                last = exc
                continue
            if position or round_:
                log.warning("%s: authenticated with the %s password", pair.prefix, "next" if position else "rotated")
            return result
    assert last is not None
    raise last


class RedisPasswordProvider(CredentialProvider):
    """redis-py credential provider (also kombu's ``credential_provider``): a password that works, current or next.

    The password is checked on a short-lived connection and kept for a few
    seconds, so a burst of new connections costs one check.
    """

    CHECK_TTL_SECONDS = 5.0

    def __init__(self, url: str | None = None):
        if url is None:
            from django.conf import settings

            url = settings.REDIS_URL
        parts = urlparse(url)
        self._username = unquote(parts.username) if parts.username else None
        self._target = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 6379,
            "ssl": parts.scheme == "rediss",
        }
        if parts.scheme == "rediss":
            from django.conf import settings

            self._target.update(getattr(settings, "REDIS_SSL_OPTIONS", {}))
        self._pair = PasswordPair("REDIS")
        self._checked: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _check(self, password: str) -> str:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        from mutt_project.redis_client import sentinel_enabled, sentinel_master_address

        target = dict(self._target)
        if sentinel_enabled():  # REDIS_URL's host may be a demoted master: check against the current one
            target["host"], target["port"] = sentinel_master_address()
        # One try: redis-py counts an authentication error as a connection error and retries it with
        # backoff, and the caller's own connection retries around this check again; a wrong password
        # would take minutes to surface instead of a second.
        client = redis.Redis(
            username=self._username, password=password, socket_timeout=2, retry=Retry(NoBackoff(), 0), **target
        )
        try:
            client.ping()
        finally:
            client.close()
        return password

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        import redis

        with self._lock:
            if self._checked is None or time.monotonic() - self._checked[1] > self.CHECK_TTL_SECONDS:
                password = authenticate_with_rotation(
                    self._pair, self._check, lambda exc: isinstance(exc, redis.exceptions.AuthenticationError)
                )
                self._checked = (password, time.monotonic())
            password = self._checked[0]
        return (self._username, password) if self._username else (password,)


# --- end password rotation ---

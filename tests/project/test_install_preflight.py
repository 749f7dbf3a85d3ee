"""deploy/install.sh's pre-flight: it stops, naming the service, when PostgreSQL (or Redis, Vault) cannot be reached."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _install(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "deploy/install.sh"), "--root", str(root), "--no-pip"],
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


@pytest.fixture
def listening():
    """Two ports something listens on (what pre-flight needs of a reachable server)."""
    sockets = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        sockets.append(s)
    yield [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("preflight")
    first = _install(root)  # no DATABASE_URL yet: staged, no pre-flight
    assert first.returncode == 0, first.stderr
    assert "pre-flight" not in first.stdout
    return root


def _settings(root: Path, **values: str) -> None:
    env = root / "etc/mutt/mutt.env"
    lines = [line for line in env.read_text().splitlines() if line.split("=", 1)[0] not in values]
    env.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n")


def test_preflight_fails_clearly_when_postgresql_is_unreachable(staged, listening):
    pg = _closed_port()
    _settings(
        staged,
        DATABASE_URL=f"postgres://mutt:s3cretpw@127.0.0.1:{pg}/mutt",
        REDIS_URL=f"redis://127.0.0.1:{listening[0]}/0",
    )

    result = _install(staged)

    assert result.returncode == 3
    assert f"pre-flight FAILED: PostgreSQL is unreachable at 127.0.0.1:{pg} (DATABASE_URL" in result.stderr
    assert "s3cretpw" not in result.stderr + result.stdout  # the password is never echoed
    assert "Redis reachable" in result.stdout


def test_preflight_passes_when_every_service_answers_and_reads_the_reference_names(staged, listening):
    _settings(staged, DATABASE_URL="", POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=str(listening[0]),
              REDIS_URL=f"redis://127.0.0.1:{listening[1]}/0", VAULT_ADDR=f"http://127.0.0.1:{listening[0]}")  # fmt: skip

    result = _install(staged)

    assert result.returncode == 0, result.stderr
    for name in ("PostgreSQL", "Redis", "Vault"):
        assert f"pre-flight: {name} reachable" in result.stdout


def test_preflight_names_an_unreachable_vault(staged, listening):
    vault = _closed_port()
    _settings(staged, DATABASE_URL=f"postgres://mutt@127.0.0.1:{listening[0]}/mutt", POSTGRES_HOST="",
              REDIS_URL=f"redis://127.0.0.1:{listening[1]}/0", VAULT_ADDR=f"https://127.0.0.1:{vault}")  # fmt: skip

    result = _install(staged)

    assert result.returncode == 3 and f"Vault is unreachable at 127.0.0.1:{vault} (VAULT_ADDR" in result.stderr

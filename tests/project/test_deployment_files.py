"""docker-compose.yml is valid and runs the same processes as the Procfile."""

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

COMPOSE_ENV = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "POSTGRES_PASSWORD": "pw",
    "REDIS_PASSWORD": "pw",
    "INGEST_API_KEYS": "k",
    "FLOWER_BASIC_AUTH": "admin:pw",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def _compose_config(env: dict) -> subprocess.CompletedProcess:
    assert shutil.which("docker-compose"), "make test installs docker-compose; it is missing"
    return subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd="/tmp",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_file_is_valid_and_runs_every_procfile_process():
    result = _compose_config(COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    services = set(yaml.safe_load(result.stdout)["services"])
    procfile = {line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line}
    assert procfile <= services, f"in the Procfile but not in docker-compose.yml: {procfile - services}"
    assert {"postgres", "redis"} <= services


def test_compose_refuses_to_start_without_secrets():
    result = _compose_config({"PATH": COMPOSE_ENV["PATH"]})
    assert result.returncode != 0
    assert "set DJANGO_SECRET_KEY" in result.stderr or "set POSTGRES_PASSWORD" in result.stderr


def test_monitoring_profile_adds_prometheus_and_grafana_only_on_request():
    result = _compose_config(COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    procfile = {line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line}
    for name in procfile | {"postgres", "redis"}:
        assert not services[name].get("profiles"), f"{name} must run without a profile"
    # docker-compose 1.x prints short "source:target:mode" strings, 2.x mappings.
    volumes = [
        v if isinstance(v, dict) else dict(zip(("source", "target"), v.split(":"), strict=False))
        for v in services["prometheus"]["volumes"]
    ]
    mounts = {v["target"]: v["source"] for v in volumes}
    assert mounts["/etc/prometheus"].endswith("deploy/prometheus")


def test_ha_profile_adds_a_streaming_standby_only_on_request():
    result = _compose_config(COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    standby = services["postgres-standby"]
    assert standby["profiles"] == ["ha"]
    assert "pg_basebackup -h postgres" in str(standby["command"])
    assert "DATABASE_REPLICA_URL" in services["web"]["environment"]

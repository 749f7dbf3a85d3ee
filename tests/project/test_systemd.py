"""deploy/install.sh stages the systemd units, and systemd itself accepts them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = [
    "mutt.target",
    "mutt-ingest.service",
    "mutt-receivers.service",
    "mutt-web.service",
    "mutt-worker@.service",
    "mutt-beat.service",
]
UNITS += ["mutt-flower.service"]
SERVICES = [u for u in UNITS if u.endswith(".service")]


def _install(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "deploy/install.sh"), "--root", str(root), "--no-pip", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_into(root: Path, path: str) -> None:
    """Give the staged root a file the host has (what a real system provides)."""
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copy2(path, target)


def _directives(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("sysroot")
    first = _install(root)
    assert first.returncode == 0, first.stderr
    env_after_first = (root / "etc/mutt/mutt.env").read_text()
    second = _install(root)
    assert second.returncode == 0, second.stderr
    return root, env_after_first


def test_install_runs_twice_and_keeps_the_settings_it_created(staged):
    staged, env_after_first = staged
    env = (staged / "etc/mutt/mutt.env").read_text()
    assert env == env_after_first, "a second install must not overwrite /etc/mutt/mutt.env"
    secret = _directives(env)["DJANGO_SECRET_KEY"][0]
    assert len(secret) >= 50
    assert oct((staged / "etc/mutt/mutt.env").stat().st_mode & 0o777) == "0o640"
    for unit in UNITS:
        assert (staged / "etc/systemd/system" / unit).read_text() == (ROOT / "deploy/systemd" / unit).read_text()
    assert (staged / "opt/mutt/app/manage.py").is_file()
    assert not (staged / "opt/mutt/app/.venv").exists()
    assert (staged / "opt/mutt/venv/bin/python").exists()


def test_systemd_analyze_verify_accepts_every_unit(staged):
    staged, _ = staged
    analyze = shutil.which("systemd-analyze")
    assert analyze, "make test installs systemd (systemd-analyze); it is missing"
    # What the host system provides: systemd's own units, kill, the interpreter the venv links to.
    system_units = Path("/usr/lib/systemd/system")
    dest = staged / "usr/lib/systemd/system"
    if not dest.exists():
        shutil.copytree(system_units, dest, symlinks=True)
    _copy_into(staged, "/bin/kill")
    _copy_into(staged, os.path.realpath(staged / "opt/mutt/venv/bin/python"))
    names = [u.replace("@.", "@classify.") for u in UNITS] + ["mutt-worker@forward.service"]
    result = subprocess.run(
        [analyze, "verify", f"--root={staged}", *names], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "mutt" not in result.stderr, result.stderr


def test_every_service_restarts_always_and_is_hardened():
    for unit in SERVICES:
        d = _directives((ROOT / "deploy/systemd" / unit).read_text())
        assert d["Restart"] == ["always"], unit
        assert d["StartLimitIntervalSec"] == ["0"], unit  # never gives up
        assert d["User"] == ["mutt"], unit
        assert "/etc/mutt/mutt.env" in d["EnvironmentFile"], unit
        for key, value in {
            "NoNewPrivileges": "true",
            "ProtectSystem": "strict",
            "PrivateTmp": "true",
            "ProtectHome": "true",
        }.items():
            assert d[key] == [value], (unit, key)
        # No capabilities, except that ingest may bind 443 and the receivers 514 and 162.
        assert d["CapabilityBoundingSet"][0] == "", unit
        binds = unit in ("mutt-ingest.service", "mutt-receivers.service")
        assert d["CapabilityBoundingSet"][1:] == (["CAP_NET_BIND_SERVICE"] if binds else [])
        assert d["ReadWritePaths"] == ["/var/lib/mutt"], unit
        assert int(d["LimitNOFILE"][0]) >= 65536, unit
        assert d["PartOf"] == ["mutt.target"], unit
    wants = _directives((ROOT / "deploy/systemd/mutt.target").read_text())["Wants"][0].split()
    for queue in ("classify", "forward", "maintenance"):
        assert f"mutt-worker@{queue}.service" in wants


def test_uninstall_removes_units_and_code_and_runs_twice(tmp_path):
    assert _install(tmp_path).returncode == 0
    for _ in range(2):
        result = _install(tmp_path, "--uninstall")
        assert result.returncode == 0, result.stderr
    assert not any((tmp_path / "etc/systemd/system").iterdir())
    assert not (tmp_path / "opt/mutt").exists()
    assert (tmp_path / "etc/mutt/mutt.env").exists()  # settings kept unless --purge
    assert _install(tmp_path, "--uninstall", "--purge").returncode == 0
    assert not (tmp_path / "etc/mutt").exists()

"""The processes of docker-compose.yml and deploy/k8s, read from the rendered files and run here.

``docker-compose config`` and ``kubectl kustomize`` render the files; each
MUTT-image service or workload becomes a ``Process`` with the command and
environment a container would get, run in the checkout instead of the image.
What differs from a container, and nothing else:

- ``DATABASE_URL`` and ``REDIS_URL``: the test PostgreSQL and Redis;
- every listening port (``MUTT_*_PORT`` values, ``--port`` arguments, the
  ports in probe commands): a free port of this machine;
- paths inside the image: ``/app/.run/...`` and ``/tmp/...`` (a container's
  writable places) move to the process's own temporary directory, other
  ``/app/...`` paths to the checkout, ``/app/.venv/bin`` on PATH to ``.venv/bin``;
- Kubernetes: the Secret is the template (deploy/k8s/base/secret.example.yaml)
  with test values in place of its placeholders, ``MOOG_WEBHOOK_URL`` the
  Moogsoft stand-in; a ``fieldRef`` to the pod name gives a made-up pod name.

Images MUTT does not build (postgres, redis, vault, prometheus, grafana) are
not run here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
MUTT_IMAGE = "mutt"


def dockerfile_env() -> dict[str, str]:
    """The ``ENV`` of the Dockerfile (every container starts with it)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for token in shlex.split(line[4:]):
                name, _, value = token.partition("=")
                env[name] = value
    return env


def compose_render(env: dict[str, str]) -> dict:
    assert shutil.which("docker-compose"), "make test installs docker-compose; it is missing"
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd="/tmp",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def kustomize_render(overlay: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "make test installs kubectl (Debian kubernetes-client); it is missing"
    result = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy/k8s" / overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@dataclass
class Probe:
    """``http``: GET url (Kubernetes httpGet, Host header as a kubelet sends it); ``exec``: a command."""

    kind: str
    url: str = ""
    host: str = ""
    command: list[str] = field(default_factory=list)
    timeout: float = 5.0


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    probes: list[Probe]
    ports: dict[int, int]  # declared -> here
    tmp: Path
    proc: subprocess.Popen | None = None
    log: Path | None = None

    def start(self) -> None:
        self.log = self.tmp / "process.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGCONT)  # a test may have stopped it
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log and self.log.exists() else ""


class Localizer:
    """Rewrites one process's ports and image paths (the module docstring's list)."""

    def __init__(self, tmp: Path, ports: dict[int, int]):
        self.tmp, self.ports = tmp, ports

    def path(self, value: str) -> str:
        if value.startswith(str(ROOT) + "/") or value.startswith(str(VENV_BIN)):
            return value  # already a path here (a checkout may itself live under /tmp)
        for inside, here in (("/app/.run/", self.tmp), ("/tmp/", self.tmp), ("/app/", ROOT)):
            if value.startswith(inside):
                return str(Path(here) / value[len(inside) :])
        if value in ("/app/.run", "/tmp"):
            return str(self.tmp)
        return value

    def port(self, value: str) -> str:
        for declared, here in self.ports.items():
            value = re.sub(rf"(?<![0-9]){declared}(?![0-9])", str(here), value)
        return value

    def arg(self, value: str) -> str:
        if "=" in value and value.startswith("--"):
            flag, _, rest = value.partition("=")
            return f"{flag}={self.port(self.path(rest))}"
        return self.port(self.path(value))


# The settings that name a listening port: MUTT's own, and the native receivers'.
PORT_SETTING = r"MUTT_\w+_PORT|SYSLOG_(UDP|TCP|TLS)_PORT|SNMP_TRAP_PORT|RECEIVER_HEALTH_PORT"


def _declared_ports(env: dict[str, str], command: list[str]) -> set[int]:
    ports = {int(v) for k, v in env.items() if re.fullmatch(PORT_SETTING, k) and v.isdigit() and int(v)}
    for i, token in enumerate(command):
        if token == "--port" and i + 1 < len(command):
            ports.add(int(command[i + 1]))
        elif token.startswith("--port="):
            ports.add(int(token.split("=", 1)[1]))
    return ports


def _base_env(container_env: dict[str, str], services: dict[str, str]) -> dict[str, str]:
    env = {"HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"} | container_env
    env["PATH"] = (
        env.get("PATH", "/usr/bin:/bin")
        .replace("/app/.venv/bin", str(VENV_BIN))
        .replace("$PATH", "/usr/local/bin:/usr/bin:/bin")
    )
    env |= services  # DATABASE_URL, REDIS_URL
    return env


def _localize(name: str, command: list[str], env: dict[str, str], tmp: Path, free_port) -> tuple[list, dict, Localizer]:
    ports = {p: free_port() for p in _declared_ports(env, command)}
    loc = Localizer(tmp, ports)
    command = [loc.arg(token) for token in command]
    env = {
        k: (loc.port(v) if re.fullmatch(PORT_SETTING, k) else v if k == "PATH" else loc.path(v)) for k, v in env.items()
    }
    return command, env, loc


def compose_processes(rendered: dict, services: dict[str, str], tmp_root: Path, free_port) -> dict[str, Process]:
    out = {}
    for name, spec in rendered["services"].items():
        if not str(spec.get("image", "")).startswith(MUTT_IMAGE + ":") or spec.get("profiles"):
            continue
        tmp = tmp_root / name
        tmp.mkdir(parents=True)
        command = spec["command"] if isinstance(spec["command"], list) else shlex.split(spec["command"])
        env = _base_env(dockerfile_env() | {k: str(v) for k, v in (spec.get("environment") or {}).items()}, services)
        command, env, loc = _localize(name, command, env, tmp, free_port)
        probes = []
        health = spec.get("healthcheck")
        if health:
            test = health["test"]
            assert test[0] == "CMD", f"{name}: healthcheck {test}"
            probes.append(Probe("exec", command=[loc.arg(t) for t in test[1:]], timeout=10))
        out[name] = Process(name, command, env, probes, loc.ports, tmp)
    return out


def _k8s_env(container: dict, configmaps: dict, secrets: dict, pod_name: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= configmaps[source["configMapRef"]["name"]]
        if "secretRef" in source:
            env |= secrets[source["secretRef"]["name"]]
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[item["name"]] = pod_name
        else:
            raise AssertionError(f"unsupported env source {item}")
    return env


def _k8s_expand(token: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), token)


def k8s_processes(
    docs: list[dict], secret_values: dict[str, str], services: dict[str, str], tmp_root: Path, free_port
) -> dict[str, Process]:
    configmaps = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
    template = yaml.safe_load((ROOT / "deploy/k8s/base/secret.example.yaml").read_text())
    assert set(secret_values) == set(template["stringData"]), "fill every key of the Secret template"
    secrets = {template["metadata"]["name"]: secret_values}
    out = {}
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        name = doc["metadata"]["name"]
        container = doc["spec"]["template"]["spec"]["containers"][0]
        tmp = tmp_root / name
        tmp.mkdir(parents=True)
        env = _k8s_env(container, configmaps, secrets, pod_name=f"{name}-7d9f-test")
        command = [_k8s_expand(t, env) for t in container["command"] + container.get("args", [])]
        env = _base_env(dockerfile_env() | env, services)
        declared_ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        command, env, loc = _localize(name, command, env, tmp, free_port)
        for declared in declared_ports.values():
            loc.ports.setdefault(declared, free_port())
        probes = []
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = container.get(kind)
            if not probe:
                continue
            get = probe["httpGet"]
            port = get["port"]
            port = loc.ports[declared_ports[port] if isinstance(port, str) else port]
            # A kubelet sends Host: <pod IP>:<port>, never one of DJANGO_ALLOWED_HOSTS.
            probes.append(
                Probe(
                    "http",
                    url=f"http://127.0.0.1:{port}{get['path']}",
                    host=f"10.244.1.17:{port}",
                    timeout=float(probe.get("timeoutSeconds", 1)),
                )
            )
        out[name] = Process(name, command, env, probes, loc.ports, tmp)
    return out

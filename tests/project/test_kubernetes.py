"""deploy/k8s builds with kustomize and every object is valid Kubernetes, offline.

No cluster here: `kubectl kustomize` renders the base and the production
overlay, and kubernetes-validate checks each object against the published
OpenAPI schema of a Kubernetes release (strict: unknown fields fail too).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
KUBERNETES_VERSION = "1.30.0"


def _build(path: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "make test installs kubectl (Debian kubernetes-client); it is missing"
    result = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def rendered(request) -> list[dict]:
    return _build(K8S / request.param)


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return _build(K8S / "overlays/production")


def test_every_object_matches_the_kubernetes_schema(rendered):
    assert len(rendered) > 10
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_rejects_a_wrong_field(production):
    deployment = copy.deepcopy(_by_kind(production, "Deployment")["mutt-ingest"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/health"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_secret_template_is_valid_and_is_what_the_pods_read(production):
    secret = yaml.safe_load((K8S / "base/secret.example.yaml").read_text())
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    external = yaml.safe_load((K8S / "base/external-secret.example.yaml").read_text())
    assert external["kind"] == "ExternalSecret"
    assert external["spec"]["target"]["name"] == secret["metadata"]["name"]
    for deployment in _by_kind(production, "Deployment").values():
        sources = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {"secretRef": {"name": secret["metadata"]["name"]}} in sources


def test_a_deployment_per_process_hardened_and_sized(production):
    deployments = _by_kind(production, "Deployment")
    metrics_dir = _by_kind(production, "ConfigMap")["mutt-config"]["data"]["PROMETHEUS_MULTIPROC_DIR"]
    procfile = {line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line}
    assert {f"mutt-{name}" for name in procfile - {"moog-sink"}} == set(deployments)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        container = pod["containers"][0]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
        assert set(container["resources"]) == {"requests", "limits"}, name
        assert deployment["metadata"]["namespace"] == "mutt"
        # Writable where metrics go; nothing hides the image's collected static files.
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert metrics_dir in mounts and not any(m.startswith("/app") for m in mounts), name
        assert container["image"].startswith("registry.example.com/mutt:"), name
    for name in ("mutt-ingest", "mutt-web"):
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    beat = deployments["mutt-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    assert deployments["mutt-ingest"]["spec"]["replicas"] == 3  # the production overlay's
    assert deployments["mutt-worker-classify"]["spec"]["replicas"] == 4


def test_autoscaling_disruption_budgets_ingress_and_migrations(production):
    hpas = _by_kind(production, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"mutt-ingest", "mutt-worker-classify"}
    pdbs = _by_kind(production, "PodDisruptionBudget")
    assert {"mutt-ingest", "mutt-web", "mutt-worker-classify"} <= set(pdbs)
    ingress = _by_kind(production, "Ingress")["mutt"]
    assert ingress["spec"]["tls"][0]["secretName"]
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"mutt-ingest", "mutt-web"} <= set(_by_kind(production, "Service"))
    job = _by_kind(production, "Job")["mutt-migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-2:] == ["migrate", "--noinput"]


def test_ha_overlay_adds_a_synchronous_postgresql_cluster_and_keeps_every_object_valid():
    docs = _build(K8S / "overlays/ha")
    cluster = _by_kind(docs, "Cluster")["mutt-pg"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] >= 2 and cluster["spec"]["minSyncReplicas"] >= 1
    assert cluster["metadata"]["namespace"] == "mutt"
    for doc in docs:
        if doc["kind"] != "Cluster":  # a CloudNativePG resource: not in the core schema
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    deployments = _by_kind(docs, "Deployment")
    assert deployments["mutt-ingest"]["spec"]["replicas"] >= 2 and deployments["mutt-web"]["spec"]["replicas"] >= 2
    assert _by_kind(docs, "ConfigMap")["mutt-config"]["data"]["REPLICA_MAX_LAG_SECONDS"] == "30"

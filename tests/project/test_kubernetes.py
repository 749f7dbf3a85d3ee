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
    # Beat on every node: a standby beside the leader, spread over machines (the leader lock picks one).
    assert beat["replicas"] == 2 and beat["strategy"]["type"] == "RollingUpdate"
    assert beat["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert deployments["mutt-ingest"]["spec"]["replicas"] == 3  # the production overlay's
    assert deployments["mutt-worker-classify"]["spec"]["replicas"] == 4


def test_autoscaling_disruption_budgets_ingress_and_migrations(production):
    hpas = _by_kind(production, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {"mutt-ingest", "mutt-worker-classify"}
    pdbs = _by_kind(production, "PodDisruptionBudget")
    assert {"mutt-ingest", "mutt-web", "mutt-worker-classify", "mutt-beat"} <= set(pdbs)
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


def test_network_policies_deny_by_default_and_open_only_what_mutt_uses(production):
    policies = _by_kind(production, "NetworkPolicy")
    deny = policies["mutt-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    # Every MUTT pod (Deployments and the migration Job) is selected by the default deny.
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in production if d["kind"] in ("Deployment", "Job")]
    assert pods and all(deny["podSelector"]["matchLabels"].items() <= labels.items() for labels in pods)
    services = _by_kind(production, "Service")
    for name in ("mutt-ingest", "mutt-web"):
        rule = policies[f"{name}-in"]["spec"]
        assert rule["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == name
        opened = {p["port"] for r in rule["ingress"] for p in r["ports"]}
        assert opened == {p["targetPort"] if isinstance(p.get("targetPort"), int) else p["port"]
                          for p in services[name]["spec"]["ports"]}  # fmt: skip
    egress = {p["port"] for r in policies["mutt-egress"]["spec"]["egress"] for p in r["ports"]}
    assert {53, 5432, 6379, 8200, 443} <= egress


def test_keda_overlay_scales_classify_on_its_backlog_with_cpu_as_fallback():
    docs = _build(K8S / "overlays/keda")
    for doc in docs:
        if doc["kind"] != "ScaledObject":  # a KEDA custom resource: no published schema here
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in _by_kind(docs, "HorizontalPodAutoscaler").values()}
    assert hpas == {"mutt-ingest"}, "KEDA's ScaledObject replaces the classify CPU HPA"
    scaled = _by_kind(docs, "ScaledObject")["mutt-worker-classify"]
    assert scaled["metadata"]["namespace"] == "mutt"
    assert scaled["spec"]["scaleTargetRef"]["name"] in _by_kind(docs, "Deployment")
    triggers = {t["type"]: t for t in scaled["spec"]["triggers"]}
    assert "mutt_ingest_queue_depth" in triggers["prometheus"]["metadata"]["query"]
    assert int(triggers["prometheus"]["metadata"]["threshold"]) > 0
    assert triggers["cpu"]["metricType"] == "Utilization"
    assert scaled["spec"]["fallback"]["replicas"] >= scaled["spec"]["minReplicaCount"]


def test_workers_are_probed_on_their_heartbeat_and_scraped(production):
    for queue in ("classify", "forward", "maintenance"):
        deployment = _by_kind(production, "Deployment")[f"mutt-worker-{queue}"]
        pod = deployment["spec"]["template"]
        container = pod["spec"]["containers"][0]
        port = {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["MUTT_WORKER_METRICS_PORT"] == str(port)
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)

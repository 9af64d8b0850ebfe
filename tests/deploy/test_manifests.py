"""deploy/: the Dockerfile, the compose file and the Kubernetes manifests agree with the app.

No cluster or Docker daemon here: every manifest is loaded as YAML and the fields that matter are
checked against the real app (routes, port, drain timings, settings names).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import ServerSettings, load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.runtime import DRAIN_END_GRACE_S
from gateway.shell.serve import GRACEFUL_SHUTDOWN_S

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
MARGIN_S = 5.0
"""What the grace periods must leave beyond the drain, for the process to exit."""


def _documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


DOCS = _documents()


def _one(kind: str) -> dict[str, Any]:
    found = [doc for doc in DOCS if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _app_paths() -> set[str]:
    settings = load_settings({"GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live"}, env_file=None)
    app = build_app(settings, LiveConnector.from_settings(settings))
    return {route.path for route in app.routes}  # type: ignore[attr-defined]


APP_PATHS = _app_paths()
DEPLOYMENT = _one("Deployment")
POD = DEPLOYMENT["spec"]["template"]["spec"]
CONTAINER = POD["containers"][0]
ENV = {item["name"]: item.get("value") for item in CONTAINER.get("env", [])}


def _container_port(ref: int | str) -> int:
    """A probe's or Service's port (name or number) as the container's port number."""
    for port in CONTAINER["ports"]:
        if ref in (port["name"], port["containerPort"]):
            number: int = port["containerPort"]
            return number
    raise AssertionError(f"port {ref!r} is not a port of the container")


def _probes() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert name in CONTAINER, name
        yield name, CONTAINER[name]


def test_every_manifest_is_a_known_kind_with_the_basics() -> None:
    kinds = sorted(doc["kind"] for doc in DOCS if doc["kind"] != "Kustomization")
    assert kinds == [
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "PodDisruptionBudget",
        "Service",
    ]
    for doc in DOCS:
        assert doc["apiVersion"]
        assert doc["kind"] == "Kustomization" or doc["metadata"]["name"] == "gateway"
    listed = set(_one("Kustomization")["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_probes_point_at_real_routes_on_the_gateway_port() -> None:
    port = int(ENV.get("GATEWAY_PORT") or ServerSettings().port)
    paths = {name: probe["httpGet"]["path"] for name, probe in _probes()}
    assert paths == {"startupProbe": "/healthz", "livenessProbe": "/healthz",
                     "readinessProbe": "/readyz"}  # fmt: skip
    for name, probe in _probes():
        assert probe["httpGet"]["path"] in APP_PATHS, name
        assert _container_port(probe["httpGet"]["port"]) == port, name
    # Readiness must drop at once when draining or full; liveness must tolerate a slow moment.
    assert CONTAINER["readinessProbe"]["failureThreshold"] == 1
    assert CONTAINER["livenessProbe"]["failureThreshold"] >= 3


def test_grace_period_covers_prestop_drain_and_shutdown() -> None:
    drain_s = float(ENV["GATEWAY_DRAIN_TIMEOUT_S"])
    command = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop_s = float(command[1])
    needed = pre_stop_s + drain_s + DRAIN_END_GRACE_S + GRACEFUL_SHUTDOWN_S + MARGIN_S
    assert POD["terminationGracePeriodSeconds"] >= needed
    rollout = DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]
    assert rollout["maxUnavailable"] == 0


def test_the_pod_runs_as_the_images_non_root_user_without_privileges() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users, "the image sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()  # numeric, so runAsNonRoot can verify it
    assert int(uid) != 0
    pod_security = POD["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == int(uid)
    security = CONTAINER["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]


def test_dockerfile_is_slim_with_a_health_check_on_the_served_port() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert bases
    assert all("slim" in base for base in bases)
    health = re.search(r"^HEALTHCHECK .*?CMD (.+?)$", dockerfile, re.M | re.S)
    assert health is not None
    assert "/healthz" in health.group(1)
    assert "/healthz" in APP_PATHS
    expose = re.findall(r"^EXPOSE\s+(\d+)", dockerfile, re.M)
    assert expose == [str(_container_port("http"))]
    assert re.search(r"^ENV[\s\S]*?GATEWAY_PORT=8080", dockerfile, re.M)
    assert re.search(r'^ENTRYPOINT \["gateway"\]', dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env"} <= set(ignored)


def test_the_image_installs_the_vertex_extra() -> None:
    """Without google-auth a Vertex configuration stops start-up (issue 22, item 13)."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    installs = re.findall(r"pip install [^\n]*", dockerfile)
    assert installs == ['pip install --no-compile ".[vertex]"']


def test_service_ingress_hpa_and_pdb_select_the_deployment() -> None:
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = _one("Service")
    assert service["spec"]["selector"].items() <= labels.items()
    service_ports = {port["name"]: port for port in service["spec"]["ports"]}
    assert _container_port(service_ports["http"]["targetPort"]) == _container_port("http")
    pdb = _one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"].get("maxUnavailable", 0) >= 1 or "minAvailable" in pdb["spec"]
    hpa = _one("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", DEPLOYMENT["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] >= 2  # a drain or a disruption never leaves no pod
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["maxUnavailable"]
    assert CONTAINER["resources"]["requests"]["cpu"]  # utilization needs a request


def test_ingress_exposes_carrier_routes_only() -> None:
    ingress = _one("Ingress")
    service = _one("Service")
    port_names = {port["name"] for port in service["spec"]["ports"]}
    paths = []
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"]["name"] in port_names
            paths.append(path["path"])
    for prefix in paths:
        assert any(p.startswith(prefix + "/") for p in APP_PATHS), prefix
    exposed = {p for p in APP_PATHS if any(p.startswith(prefix + "/") for prefix in paths)}
    assert "/twilio/voice" in exposed
    assert not exposed & {"/metrics", "/readyz", "/healthz"}
    assert ingress["spec"]["tls"]


def test_compose_runs_gateway_emulator_and_backend_together() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"gateway", "emulator", "backend"}
    gateway = services["gateway"]
    assert gateway["ports"] == ["8080:8080"]
    env = gateway["environment"]
    emulator_port = services["emulator"]["command"][
        services["emulator"]["command"].index("--port") + 1
    ]
    assert f"ws://emulator:{emulator_port}/live" in env["GATEWAY_LIVE_URL"]
    backend_port = services["backend"]["command"][
        services["backend"]["command"].index("--port") + 1
    ]
    assert env["EXAMPLE_BACKEND_URL"] == f"http://backend:{backend_port}"
    assert set(gateway["depends_on"]) == {"emulator", "backend"}
    for volume in gateway["volumes"]:
        source, target = volume.split(":")[:2]
        assert (DEPLOY / source).resolve().is_file(), source
        assert env["GATEWAY_TOOLS_FILE"] == target
    grace_s = float(gateway["stop_grace_period"].rstrip("s"))
    drain_s = float(re.sub(r"\$\{\w+:-(\d+)\}", r"\1", env["GATEWAY_DRAIN_TIMEOUT_S"]))
    assert grace_s >= drain_s + DRAIN_END_GRACE_S + GRACEFUL_SHUTDOWN_S + MARGIN_S
    for name in ("emulator", "backend"):
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD"
        assert str(services[name]["command"][-1]) in shlex.join(test)  # checks its own port


@pytest.mark.parametrize("source", ["k8s", "compose"])
def test_every_gateway_variable_is_a_documented_setting(source: str) -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(),
                                re.M))  # fmt: skip
    if source == "k8s":
        names = set(ENV)
    else:
        compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
        names = set(compose["services"]["gateway"]["environment"])
    ours = {n for n in names if n.startswith(("GATEWAY_", "TWILIO_", "GEMINI_", "LOG_"))}
    assert ours
    assert ours <= documented, ours - documented

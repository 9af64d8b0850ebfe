"""deploy/: the Dockerfile, the compose file and the Kubernetes manifests agree with the app.

No cluster or Docker daemon here: every manifest is loaded as YAML and the fields that matter are
checked against the real app (routes, port, drain timings, settings names).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cluster.node import HAND_OVER_MARGIN_S
from gateway.settings import ServerSettings, load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.runtime import DRAIN_END_GRACE_S, HANDOVER_SETTLE_S
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


def _build_arg(dockerfile: str, text: str) -> str:
    """`text` with `${NAME}` replaced by the Dockerfile's `ARG NAME=default`."""
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile, re.M))
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], text)


def _interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` / `${NAME-default}` / `${NAME:?error}` interpolation."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        value = values.get(name)
        if operator == ":?":
            assert value, f"compose refuses to start without {name}: {rest}"
            return value
        if value is None or (operator == ":-" and value == ""):
            return rest
        return value

    return re.sub(r"\$\{(\w+)(?:(:-|-|:\?)([^}]*))?\}", one, text)


def _compose_duration_s(text: str) -> float:
    """Compose's durations (`90s`, `1m30s`, `1h`): a sum of number-unit pairs, larger units
    first; a bare number is refused (it would not be a duration)."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    pairs = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert "".join(number + unit for number, unit in pairs) == text, text
    order = [list(units).index(unit) for _number, unit in pairs]
    assert order == sorted(set(order)), f"units out of order or repeated: {text}"
    return sum(float(number) * units[unit] for number, unit in pairs)


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


def test_the_pods_form_a_cluster_whose_grace_period_fits_the_handover() -> None:
    """Cluster mode: Redis' URL from a Secret, two replicas at least, a disruption budget, and a
    grace period sized for handing calls over (preStop, settle, drain timeout, shutdown), not
    for the longest call."""
    env = {item["name"]: item for item in CONTAINER["env"]}
    secret = env["GATEWAY_REDIS_URL"]["valueFrom"]["secretKeyRef"]
    assert (secret["name"], secret["key"]) == ("gateway-redis", "url")
    assert int(ENV["GATEWAY_CLUSTER_MAX_CALLS"]) >= 1
    assert DEPLOYMENT["spec"]["replicas"] >= 2
    assert _one("PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    pre_stop_s = float(CONTAINER["lifecycle"]["preStop"]["exec"]["command"][1])
    drain_s = float(ENV["GATEWAY_DRAIN_TIMEOUT_S"])
    assert drain_s > HAND_OVER_MARGIN_S + HANDOVER_SETTLE_S  # room for a turn boundary
    needed = pre_stop_s + HANDOVER_SETTLE_S + drain_s + DRAIN_END_GRACE_S + GRACEFUL_SHUTDOWN_S
    assert needed + MARGIN_S <= POD["terminationGracePeriodSeconds"] <= 120


def test_compose_runs_redis_for_cluster_mode() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    redis = services["redis"]
    assert redis["healthcheck"]["test"][:2] == ["CMD", "redis-cli"]
    url = _interpolate(services["gateway"]["environment"]["GATEWAY_REDIS_URL"], {})
    assert url == "redis://redis:6379/0"
    assert _interpolate(services["gateway"]["environment"]["GATEWAY_REDIS_URL"],
                        {"GATEWAY_REDIS_URL": ""}) == ""  # fmt: skip


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
    bases = [
        _build_arg(dockerfile, base) for base in re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    ]
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
    # The lock (dependencies, google-auth among them), then the gateway with its vertex extra.
    assert installs == [
        "pip install --no-compile --require-hashes --no-deps -r requirements.lock",
        "pip install --no-compile --no-deps --no-build-isolation '.[vertex]' \\",
    ]
    lock = (DEPLOY / "requirements.lock").read_text()
    assert re.search(r"^google-auth==", lock, re.M)


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
    assert set(services) == {"gateway", "emulator", "backend", "redis"}
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
    assert set(gateway["depends_on"]) == {"emulator", "backend", "redis"}
    for volume in gateway["volumes"]:
        source, target = volume.split(":")[:2]
        assert (DEPLOY / source).resolve().is_file(), source
        assert env["GATEWAY_TOOLS_FILE"] == target
    # The grace period follows the drain timeout: the same variable, whatever its value.
    for drain in (None, "0", "30", "300", "1800", "7.5"):
        values = {} if drain is None else {"GATEWAY_DRAIN_TIMEOUT_S": drain}
        drain_s = float(_interpolate(env["GATEWAY_DRAIN_TIMEOUT_S"], values))
        grace_s = _compose_duration_s(_interpolate(gateway["stop_grace_period"], values))
        assert grace_s >= drain_s + DRAIN_END_GRACE_S + GRACEFUL_SHUTDOWN_S + MARGIN_S, drain
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


def test_compose_never_runs_the_gateway_unsigned() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    env = compose["services"]["gateway"]["environment"]
    assert env["TWILIO_AUTH_TOKEN"].startswith("${TWILIO_AUTH_TOKEN:?")
    with pytest.raises(AssertionError, match="compose refuses to start without TWILIO_AUTH_TOKEN"):
        _interpolate(env["TWILIO_AUTH_TOKEN"], {})
    assert _interpolate(env["TWILIO_AUTH_TOKEN"], {"TWILIO_AUTH_TOKEN": "t"}) == "t"
    assert "GATEWAY_UNSIGNED_CARRIERS" not in env
    settings = load_settings(
        {name: _interpolate(str(value), {"TWILIO_AUTH_TOKEN": "token-0123456789"})
         for name, value in env.items() if name.startswith(("GATEWAY_", "TWILIO_"))
         and name not in {"GATEWAY_TOOLS_FILE"}},
        env_file=None,
    )  # fmt: skip
    assert settings.twilio.auth_token == "token-0123456789"
    carriers = (settings.telnyx, settings.plivo, settings.signalwire, settings.vonage)
    assert [carrier for carrier in carriers if carrier.allow_unsigned] == []
    assert not settings.exotel.allow_unsigned


def test_the_image_pins_its_base_by_digest_and_installs_the_hashed_lock() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile, re.M))
    assert re.fullmatch(r"python:3\.12-slim@sha256:[0-9a-f]{64}", args["PYTHON_IMAGE"])
    assert re.findall(r"^FROM\s+(\S+)", dockerfile, re.M) == ["${PYTHON_IMAGE}"] * 2
    install = re.findall(r"pip install ([^\n]*)", dockerfile)
    assert install[0] == "--no-compile --require-hashes --no-deps -r requirements.lock"
    assert "--no-deps --no-build-isolation" in install[1]  # nothing unpinned is fetched
    assert "COPY deploy/requirements.lock ./" in dockerfile
    assert "deploy" not in (ROOT / ".dockerignore").read_text().split()


def _lock() -> dict[str, tuple[str, list[str]]]:
    entries: dict[str, tuple[str, list[str]]] = {}
    text = (DEPLOY / "requirements.lock").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement, *options = line.split()
        name, version = requirement.split("==")
        hashes = [option.removeprefix("--hash=sha256:") for option in options]
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in hashes), name
        entries[name] = (version, hashes)
    return entries


def test_the_lock_pins_every_dependency_of_the_image_with_hashes() -> None:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    lock = _lock()
    assert all(hashes for _version, hashes in lock.values())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    image = {**default_environment(), "python_version": "3.12", "python_full_version": "3.12.0",
             "sys_platform": "linux", "platform_system": "Linux",
             "platform_python_implementation": "CPython", "extra": ""}  # fmt: skip
    wanted = [*project["dependencies"], *project["optional-dependencies"]["vertex"]]
    wanted += pyproject["build-system"]["requires"]
    for text in wanted:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate(image):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name == "wheel":  # setuptools builds wheels itself
            continue
        assert name in lock, f"{name} is not in deploy/requirements.lock"
        assert requirement.specifier.contains(lock[name][0]), (name, lock[name][0])

"""Structural checks of the rendered overlays (deploy/k8s) against the code they deploy: ports,
settings names, migrations, topics and consumer groups, the calls of docs/platform.md "Who calls
whom". The schema validation of every object is `deploy/tools/validate.mjs` (make deploy-check)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.availability.entrypoints import events as availability_events
from services.availability.settings import AvailabilitySettings
from services.bookings.settings import BookingsSettings
from services.common.config import DatabaseSettings, ServiceSettings
from services.devstack.stack import MIGRATED, SERVICE_PORTS, TOPICS
from services.participations.entrypoints import events as participations_events
from services.participations.settings import ParticipationsSettings
from services.timeframes.settings import TimeframesSettings
from tests.unit.deploy.conftest import OVERLAYS, Obj, of_kind

SETTINGS: dict[str, type[ServiceSettings]] = {
    "availability": AvailabilitySettings,
    "bookings": BookingsSettings,
    "participations": ParticipationsSettings,
    "timeframes": TimeframesSettings,
}
# docs/platform.md "Who calls whom": who calls whom over gRPC.
CALLS: dict[str, set[str]] = {
    "availability": {"bookings", "timeframes"},
    "bookings": {"availability", "timeframes"},
    "participations": {"timeframes"},
    "timeframes": set(),
}
# Kafka consumer groups of each service (from the code, not from the docs).
CONSUMER_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "availability": {availability_events.GROUP_ID: tuple(availability_events.TOPICS)},
    "participations": {
        participations_events.BOOKINGS_GROUP: tuple(participations_events.BOOKINGS_TOPICS),
        participations_events.UPDATER_GROUP: tuple(participations_events.UPDATER_TOPICS),
    },
}
# Settings that hold credentials or keys: only ever from a Secret.
SECRET_SETTINGS = {"DATABASE_URL", "REDIS_URL", "AUTH_JWT_SECRET", "AUTH_SERVICE_SIGNING_KEY", "CURSOR_SIGNING_KEY", "KAFKA_SASL_PASSWORD"}
# Variables read by the OpenTelemetry SDK itself (services/common/telemetry.py).
STANDARD_PREFIXES = ("OTEL_",)

overlays = pytest.mark.parametrize("overlay", OVERLAYS)


def deployments(objects: list[Obj]) -> dict[str, Obj]:
    return {name: d for name, d in of_kind(objects, "Deployment").items() if name in SERVICE_PORTS}


def main_container(deployment: Obj) -> Obj:
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == deployment["metadata"]["name"]]
    return container


def pod_templates(objects: list[Obj]) -> list[tuple[str, Obj]]:
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet")
    ]


def environment(objects: list[Obj], container: Obj) -> dict[str, Obj]:
    """Variable name -> where its value comes from ({"value": ...} or {"valueFrom": ...})."""
    configmaps = of_kind(objects, "ConfigMap")
    env: dict[str, Obj] = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name in configmaps, f"envFrom names a ConfigMap that is not deployed: {name}"
        env |= {k: {"value": v} for k, v in configmaps[name]["data"].items()}
    for var in container.get("env", []):
        env[var["name"]] = var
    return env


@overlays
def test_every_service_is_deployed_with_its_port(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    assert set(deployments(objects)) == set(SERVICE_PORTS)
    for name, deployment in deployments(objects).items():
        container = main_container(deployment)
        assert container["args"] == [f"services.{name}", "serve"]
        assert [p["containerPort"] for p in container["ports"]] == [SERVICE_PORTS[name]]
        assert environment(objects, container)["GRPC_PORT"] == {"value": str(SERVICE_PORTS[name])}


@overlays
def test_probes_are_native_grpc_health_checks_on_the_service_port(rendered: dict[str, list[Obj]], overlay: str) -> None:
    for name, deployment in deployments(rendered[overlay]).items():
        container = main_container(deployment)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == SERVICE_PORTS[name], f"{name} {probe}"


@overlays
def test_termination_grace_outlasts_the_drain(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    for name, deployment in deployments(objects).items():
        pod = deployment["spec"]["template"]["spec"]
        container = main_container(deployment)
        drain = float(
            environment(objects, container).get("SHUTDOWN_GRACE_SECONDS", {}).get("value", ServiceSettings.model_fields["shutdown_grace_seconds"].default)
        )
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        assert pod["terminationGracePeriodSeconds"] > pre_stop + drain, name


@overlays
def test_pods_run_locked_down(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    for where, pod in pod_templates(objects):
        assert pod["automountServiceAccountToken"] is False, where
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, (where, container["name"])
            assert security["allowPrivilegeEscalation"] is False, (where, container["name"])
            assert security["capabilities"]["drop"] == ["ALL"], (where, container["name"])
            assert "requests" in container["resources"] and "memory" in container["resources"]["limits"], (where, container["name"])
    for name, account in of_kind(objects, "ServiceAccount").items():
        assert account["automountServiceAccountToken"] is False, name


@overlays
def test_images_are_pinned(rendered: dict[str, list[Obj]], overlay: str) -> None:
    images = [c["image"] for _, pod in pod_templates(rendered[overlay]) for c in pod.get("initContainers", []) + pod["containers"]]
    images += [c["spec"]["imageName"] for c in of_kind(rendered[overlay], "Cluster").values()]
    for image in images:
        assert re.fullmatch(r"[a-z0-9./-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?", image), image
        tag = image.split("@")[0].rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest", f"{image}: pin a tag"
    for kafka in of_kind(rendered[overlay], "Kafka").values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", kafka["spec"]["kafka"]["version"])


@overlays
def test_migrations_run_in_the_new_image_before_it_serves(rendered: dict[str, list[Obj]], overlay: str) -> None:
    for name, deployment in deployments(rendered[overlay]).items():
        init = deployment["spec"]["template"]["spec"].get("initContainers", [])
        if name in MIGRATED:
            (migrate,) = init
            assert migrate["args"] == [f"services.{name}", "migrate"]
            assert migrate["image"] == main_container(deployment)["image"]
            # `migrate` loads the same settings as `serve`, so it needs the same environment.
            assert migrate["env"] == main_container(deployment)["env"] and migrate["envFrom"] == main_container(deployment)["envFrom"]
        else:
            assert init == [], name


@overlays
def test_every_variable_is_a_real_setting_and_the_required_ones_are_set(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    for name, deployment in deployments(objects).items():
        settings = SETTINGS[name]
        known = {field.upper() for field in settings.model_fields}
        env = environment(objects, main_container(deployment))
        unknown = {var for var in env if var not in known and not var.startswith(STANDARD_PREFIXES)}
        assert not unknown, f"{name}: not settings of {settings.__name__}: {sorted(unknown)}"
        required = {field.upper() for field, info in settings.model_fields.items() if info.is_required()}
        assert required <= env.keys(), f"{name}: required settings missing: {sorted(required - env.keys())}"
        assert {"AUTH_JWKS_URL", "AUTH_JWT_SECRET"} <= env.keys(), name  # exactly one is present in the Secret
        if issubclass(settings, DatabaseSettings):
            assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "bookings-db-app", "key": "uri"}


@overlays
def test_secrets_are_only_referenced(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    assert not of_kind(objects, "Secret"), "no Secret objects in the repository: create them in the cluster (deploy/README.md)"
    for name, deployment in deployments(objects).items():
        for var, source in environment(objects, main_container(deployment)).items():
            if var in SECRET_SETTINGS and "value" in source:
                # Only dev's in-namespace Redis, which has no password.
                assert overlay == "dev" and var == "REDIS_URL" and "@" not in source["value"], f"{name}: {var} must come from a Secret"


@overlays
def test_clients_dial_headless_services_by_dns(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    services = of_kind(objects, "Service")
    for name in SERVICE_PORTS:
        assert services[name]["spec"]["clusterIP"] == "None", f"{name}: headless, so gRPC clients see every pod"
        assert [p["port"] for p in services[name]["spec"]["ports"]] == [SERVICE_PORTS[name]]
    for name, deployment in deployments(objects).items():
        addresses = {var: source["value"] for var, source in environment(objects, main_container(deployment)).items() if var.endswith("_ADDRESS")}
        targets = set()
        for var, address in addresses.items():
            match = re.fullmatch(r"dns:///([a-z-]+):(\d+)", address)
            assert match, f"{name} {var}={address}: dns:///<service>:<port>"
            assert int(match[2]) == SERVICE_PORTS[match[1]], f"{name} {var}={address}"
            targets.add(match[1])
        assert targets == CALLS[name], f"{name} is configured to call {targets}, docs/platform.md 'Who calls whom' says {CALLS[name]}"


def _peers(rules: list[Obj], key: str) -> set[str]:
    return {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in rules
        for peer in rule.get(key, [])
        if "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {}) and "namespaceSelector" not in peer
    }


@overlays
def test_network_policies_allow_exactly_the_calls_of_the_design(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    policies = of_kind(objects, "NetworkPolicy")
    deny = policies["platform-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    part_of = deny["podSelector"]["matchLabels"]
    for name, deployment in deployments(objects).items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert part_of.items() <= labels.items(), f"{name}: the default deny must select its pods"
        own = [p["spec"] for p in policies.values() if p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": name}]
        ingress = [rule for spec in own for rule in spec.get("ingress", [])]
        egress = [rule for spec in own for rule in spec.get("egress", [])]
        callers = {caller for caller, callees in CALLS.items() if name in callees}
        assert _peers(ingress, "from") == callers, name
        assert _peers(egress, "to") == CALLS[name], name
        for rule in ingress:
            assert [p["port"] for p in rule["ports"]] == [SERVICE_PORTS[name]], name


def test_every_topic_has_a_durable_kafka_topic_in_prod(rendered: dict[str, list[Obj]]) -> None:
    topics = {t["spec"].get("topicName", name): t["spec"] for name, t in of_kind(rendered["prod"], "KafkaTopic").items()}
    assert set(topics) == set(TOPICS)
    for name, spec in topics.items():
        assert spec["replicas"] == 3, name
        assert int(spec["config"]["min.insync.replicas"]) == 2, name
        assert spec["partitions"] >= TOPICS[name], name
        assert int(spec["config"]["retention.ms"]) > 0, name
    (kafka,) = of_kind(rendered["prod"], "Kafka").values()
    assert int(kafka["spec"]["kafka"]["config"]["min.insync.replicas"]) == 2
    assert sum(pool["spec"]["replicas"] for pool in of_kind(rendered["prod"], "KafkaNodePool").values()) >= 3


def test_dev_topics_exist_on_its_single_broker(rendered: dict[str, list[Obj]]) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(rendered["dev"], "KafkaTopic").values()}
    assert set(topics) == set(TOPICS)
    assert {spec["replicas"] for spec in topics.values()} == {1}
    assert sum(pool["spec"]["replicas"] for pool in of_kind(rendered["dev"], "KafkaNodePool").values()) == 1


def test_prod_scales_within_partitions_and_survives_disruptions(rendered: dict[str, list[Obj]]) -> None:
    objects = rendered["prod"]
    partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(objects, "KafkaTopic").values()}
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    budgets = of_kind(objects, "PodDisruptionBudget")
    assert set(autoscalers) == set(SERVICE_PORTS) == set(budgets)
    for name in SERVICE_PORTS:
        hpa = autoscalers[name]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 3 <= hpa["minReplicas"] <= hpa["maxReplicas"], name
        for group, topics in CONSUMER_GROUPS.get(name, {}).items():
            usable = sum(partitions[t] for t in topics)
            assert hpa["maxReplicas"] <= usable, f"{name}: group {group} gives work to at most {usable} pods"
        assert 2 <= budgets[name]["spec"]["minAvailable"] < hpa["minReplicas"], name
    (cluster,) = of_kind(objects, "Cluster").values()
    assert cluster["spec"]["instances"] == 3


def test_dev_runs_one_pod_per_service(rendered: dict[str, list[Obj]]) -> None:
    assert not of_kind(rendered["dev"], "HorizontalPodAutoscaler")
    assert {name: d["spec"]["replicas"] for name, d in deployments(rendered["dev"]).items()} == dict.fromkeys(SERVICE_PORTS, 1)


# What the production Secrets hold (deploy/README.md), with made-up values: which optional keys
# exist decides which settings a pod gets (JWKS in production, never the dev HS256 secret).
PRODUCTION_SECRETS: dict[tuple[str, str], str] = {
    ("bookings-db-app", "uri"): "postgresql://app:pw@bookings-db-rw:5432/app",
    ("bookings-redis", "url"): "rediss://:pw@redis.example.com:6380/0",
    ("bookings-auth", "jwks-url"): "https://auth.example.com/.well-known/jwks.json",
    ("bookings-auth", "issuer"): "https://auth.example.com/",
    ("bookings-auth", "audience"): "bookings-platform",
    ("bookings-auth", "cursor-signing-key"): "c" * 64,
    **{(f"{service}-service-key", key): "x" for service in SETTINGS for key in ("private-key.pem", "key-id")},
    **{(f"{service}-kafka", "password"): "scram-password" for service in SETTINGS},
}


def _resolved(objects: list[Obj], container: Obj) -> dict[str, str]:
    env = {}
    for var, source in environment(objects, container).items():
        if "value" in source:
            env[var] = source["value"]
            continue
        ref = source["valueFrom"]["secretKeyRef"]
        value = PRODUCTION_SECRETS.get((ref["name"], ref["key"]))
        assert value is not None or ref.get("optional"), f"{var}: a required key {ref['key']} of Secret {ref['name']} that the production Secrets lack"
        if value is not None:
            env[var] = value
    return env


def test_every_container_of_prod_starts_with_the_production_secrets(rendered: dict[str, list[Obj]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The services refuse contradictory settings at start-up (services/common/config.py): the
    rendered environment of every container, migrate init containers included, must pass."""
    objects = rendered["prod"]
    for name, deployment in deployments(objects).items():
        spec = deployment["spec"]["template"]["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            with monkeypatch.context() as patch:
                for var in list(os.environ):
                    patch.delenv(var)
                for var, value in _resolved(objects, container).items():
                    patch.setenv(var, value)
                try:
                    SETTINGS[name]()
                except ValidationError as exc:
                    pytest.fail(f"{name}/{container['name']} would not start: {exc}")


def _publishers() -> dict[str, set[str]]:
    """service -> the topics it publishes, from each topic's contract (protos/topics/<topic>.md)."""
    out: dict[str, set[str]] = {}
    for topic in TOPICS:
        if topic.endswith(".dlq"):
            continue
        contract = (Path(__file__).resolve().parents[3] / "protos/topics" / f"{topic}.md").read_text()
        match = re.search(r"^\| Producer \| (\w+) service", contract, re.MULTILINE)
        assert match, f"{topic}: its contract names no producer"
        out.setdefault(match.group(1), set()).add(topic)
    return out


@overlays
def test_kafka_is_reached_over_tls_as_one_scram_user_per_service(rendered: dict[str, list[Obj]], overlay: str) -> None:
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka").values()
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert listener["tls"] and listener["authentication"]["type"] == "scram-sha-512", f"listener {listener['name']} must be TLS with SCRAM"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    users = of_kind(objects, "KafkaUser")
    for name, deployment in deployments(objects).items():
        container = main_container(deployment)
        env = environment(objects, container)
        assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL", name
        user = env["KAFKA_SASL_USERNAME"]["value"]
        assert user in users and users[user]["spec"]["authentication"]["type"] == "scram-sha-512", f"{name}: no SCRAM KafkaUser {user}"
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}, name
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        ca_mounts = [m for m in container["volumeMounts"] if env["KAFKA_SSL_CAFILE"]["value"].startswith(m["mountPath"] + "/")]
        assert len(ca_mounts) == 1, f"{name}: KAFKA_SSL_CAFILE is not on a mounted volume"
        assert volumes[ca_mounts[0]["name"]]["secret"]["secretName"] == f"{kafka['metadata']['name']}-cluster-ca-cert", name


@overlays
def test_each_service_user_may_do_exactly_what_the_service_does(rendered: dict[str, list[Obj]], overlay: str) -> None:
    """ACLs from the code: a publisher writes its topics; a consumer reads its topics and group
    and writes its dead letters. Describe comes with each; nothing else, no prefixes."""
    objects = rendered[overlay]
    users = of_kind(objects, "KafkaUser")
    publishers = _publishers()
    for name, deployment in deployments(objects).items():
        user = environment(objects, main_container(deployment))["KAFKA_SASL_USERNAME"]["value"]
        expected = {("topic", topic, "Write") for topic in publishers.get(name, ())}
        for group, topics in CONSUMER_GROUPS.get(name, {}).items():
            expected |= {("group", group, "Read")}
            expected |= {("topic", topic, "Read") for topic in topics} | {("topic", f"{topic}.dlq", "Write") for topic in topics}
        granted = set()
        for acl in users[user]["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            assert resource.get("patternType", "literal") == "literal", f"{user}: prefix ACL {resource}"
            granted |= {(resource["type"], resource["name"], op) for op in acl["operations"] if op != "Describe"}
            if resource["type"] == "topic":
                assert "Describe" in acl["operations"], f"{user}: {resource['name']} without Describe (clients fetch metadata)"
        assert granted == expected, f"{name}: granted {sorted(granted - expected)} beyond, missing {sorted(expected - granted)}"

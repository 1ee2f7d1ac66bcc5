"""The offline checks of `make deploy-check` reject what they exist to reject: a schema error in
any kind (core or CRD), a misspelled field, an unknown kind, a malformed document, and a
Dockerfile lint error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.deploy.conftest import ROOT, require_tooling, run_validator

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "x"},
    "spec": {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}},
    },
}
TOPIC = {"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic", "metadata": {"name": "t"}, "spec": {"partitions": 3, "replicas": 3}}
CLUSTER = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "db"}, "spec": {"instances": 3, "storage": {"size": "1Gi"}}}
RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "r"},
    "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}]}]},
}
MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "m"},
    "spec": {"selector": {}, "endpoints": [{"port": "metrics"}]},
}


def with_(obj: dict, path: str, value: object) -> dict:
    copy = json.loads(json.dumps(obj))
    *parents, last = path.split(".")
    node = copy
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return copy


def write(path: Path, *objects: dict | str) -> Path:
    # JSON is YAML: each object one document.
    path.write_text("\n---\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects) + "\n")
    return path


BROKEN: dict[str, tuple[dict | str, str]] = {
    "core-kind-wrong-type": (
        with_(DEPLOYMENT, "spec.template.spec.containers", [{"name": "c", "image": "i:1", "ports": [{"containerPort": "grpc"}]}]),
        "containerPort must be integer",
    ),
    "core-kind-missing-required": (with_(DEPLOYMENT, "spec.selector", None), "selector"),
    "strimzi-wrong-type": (with_(TOPIC, "spec.partitions", "12"), "partitions must be integer"),
    "cnpg-wrong-type": (with_(CLUSTER, "spec.instances", "three"), "instances must be integer"),
    "prometheus-rule-wrong-type": (with_(RULE, "spec.groups", "not-a-list"), "groups must be array"),
    "service-monitor-wrong-type": (with_(MONITOR, "spec.endpoints", {"port": "metrics"}), "endpoints must be array"),
    "misspelled-kind": (with_(DEPLOYMENT, "kind", "Deploymnet"), "unknown kind apps/v1/Deploymnet"),
    "unknown-crd-version": (with_(TOPIC, "apiVersion", "kafka.strimzi.io/v9"), "unknown kind"),
    "unknown-group-is-not-skipped": (with_(DEPLOYMENT, "apiVersion", "example.com/v1"), "unknown kind"),
    "misspelled-core-field": (
        with_(DEPLOYMENT, "spec.template.spec.containers", [{"name": "c", "image": "i:1", "readinesProbe": {"grpc": {"port": 1}}}]),
        "'\"readinesProbe\"' does not exist in type 'IContainer'",
    ),
    "misspelled-strimzi-field": (with_(TOPIC, "spec.partitionz", 3), "'\"partitionz\"' does not exist"),
    "misspelled-prometheus-rule-field": (
        with_(RULE, "spec.groups", [{"name": "g", "rules": [{"alrt": "A", "expr": "up == 0"}]}]),
        "'\"alrt\"' does not exist in type 'IRule'",
    ),
    "nameless": (with_(DEPLOYMENT, "metadata", {}), "metadata.name is required"),
    "malformed-yaml": ("kind: [unclosed", "YAML"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, list[str]]]:
    """One validator run (node and the compiler start once) over a valid file, an empty one and one
    file per broken case: its exit code, its stdout, and the problems it reported per file."""
    require_tooling()
    directory = tmp_path_factory.mktemp("check")
    files = [write(directory / "valid.yaml", DEPLOYMENT, TOPIC, CLUSTER, RULE, MONITOR), write(directory / "empty.yaml", "")]
    files += [write(directory / f"{case}.yaml", DEPLOYMENT, obj) for case, (obj, _) in BROKEN.items()]
    result = run_validator(*files)
    lines: dict[str, list[str]] = {path.stem: [] for path in files}
    for line in result.stderr.splitlines():
        for stem in lines:
            if f"/{stem}.yaml" in line:
                lines[stem].append(line)
    return result.returncode, result.stdout, lines


def test_valid_objects_of_every_schema_family_pass(report: tuple[int, str, dict[str, list[str]]]) -> None:
    _, stdout, lines = report
    assert lines["valid"] == []
    assert "valid.yaml: 5 objects valid" in stdout


def test_an_empty_render_fails_the_check(report: tuple[int, str, dict[str, list[str]]]) -> None:
    returncode, _, lines = report
    assert returncode == 1
    assert len(lines["empty"]) == 1 and "no Kubernetes objects" in lines["empty"][0]


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_object_fails_the_check(report: tuple[int, str, dict[str, list[str]]], case: str) -> None:
    returncode, _, lines = report
    assert returncode == 1
    assert len(lines[case]) == 1, lines[case]
    assert "document 2" in lines[case][0], "the report names the broken document (the first one is valid)"
    assert BROKEN[case][1] in lines[case][0]


def test_hadolint_passes_the_dockerfile_and_fails_a_bad_one(tmp_path: Path) -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint is missing: the dev extra (make install) installs it"
    assert subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False).returncode == 0
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install grpcio\n")
    result = subprocess.run([str(hadolint), str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest` tag

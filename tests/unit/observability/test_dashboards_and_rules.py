"""The observability configuration in deploy/k8s/observability is well-formed: dashboards Grafana
can load (valid JSON, panels with unique ids on a templated Prometheus datasource, every query
parseable), alert rules with what on-call needs (severity, summary, description, runbook), and
a Kustomization that ships every dashboard. Whether the metrics they name exist is checked
against the running services in tests/integration/test_observability_metrics.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.integration.observability_support import (
    DASHBOARDS,
    OBSERVABILITY,
    dashboard_queries,
    dashboards,
    metric_names,
    panels,
    prometheus_rule,
    rules,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# What the issue asks the dashboards to show, as the metric each needs.
REQUIRED = {
    "RED per RPC and service": {"rpc_server_requests_total", "rpc_server_duration_milliseconds_bucket"},
    "availability latency histogram": {"availability_latency_ms_milliseconds_bucket"},
    "policy violations by type": {
        f"availability_policy_violations_{t}_total" for t in ("too_early_to_book", "too_late_to_book", "book_online_disabled", "no_remaining_capacity")
    },
    "dependency errors": {"availability_dependency_errors_total"},
    "Kafka consumer lag per group": {"kafka_consumer_lag"},
    "outbox backlog and age": {"outbox_backlog", "outbox_oldest_age_seconds"},
    "propagation lag": {"participations_propagation_lag_seconds_bucket"},
    "DLQ counts": {"kafka_consumer_dlq_total"},
}


def test_there_are_dashboards() -> None:
    assert set(dashboards()) == {"rpc.json", "availability.json", "pipeline.json"}


@pytest.mark.parametrize("name", sorted(p.name for p in DASHBOARDS.glob("*.json")))
def test_a_dashboard_is_grafana_json_with_unique_panel_ids_on_the_prometheus_datasource(name: str) -> None:
    dashboard = dashboards()[name]
    assert dashboard["uid"] and len(dashboard["uid"]) <= 40 and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    found = list(panels(dashboard))
    assert found, "a dashboard without panels"
    ids = [p["id"] for p in found]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(ids)}"
    for panel in found:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} queries nothing"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE and target["expr"].count("(") == target["expr"].count(")"), panel["title"]


def test_dashboard_uids_are_unique() -> None:
    uids = [d["uid"] for d in dashboards().values()]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("what", sorted(REQUIRED))
def test_the_dashboards_show_what_operations_asked_for(what: str) -> None:
    shown = {name for _, expr in dashboard_queries() for name in metric_names(expr)}
    assert REQUIRED[what] <= shown, f"{what}: no panel uses {sorted(REQUIRED[what] - shown)}"


def test_every_dashboard_file_ships_in_the_grafana_configmap() -> None:
    kustomization = yaml.safe_load((OBSERVABILITY / "kustomization.yaml").read_text())
    generators = {g["name"]: g for g in kustomization["configMapGenerator"]}
    shipped = generators["bookings-platform-dashboards"]
    assert shipped["options"]["labels"]["grafana_dashboard"] == "1"
    files = {entry.split("=", 1)[1] for entry in shipped["files"]}
    assert files == {f"dashboards/{p.name}" for p in DASHBOARDS.glob("*.json")}


def test_the_alert_rules_are_a_prometheus_rule() -> None:
    document = prometheus_rule()
    assert document["apiVersion"] == "monitoring.coreos.com/v1" and document["kind"] == "PrometheusRule"
    names = [r["alert"] for r in rules()]
    assert len(names) == len(set(names))


def _rule(name: str) -> dict[str, Any]:
    return next(r for r in rules() if r["alert"] == name)


@pytest.mark.parametrize("alert", [r["alert"] for r in rules()])
def test_an_alert_says_how_bad_it_is_what_happened_and_what_to_do(alert: str) -> None:
    rule = _rule(alert)
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"] and len(annotations["runbook"]) > 80
    assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), rule.get("for")
    assert metric_names(rule["expr"]), "an alert on no metric"


# The rollout's alerts (docs/rollout.md "Monitoring and alerts").
def test_high_error_rate_is_over_1_percent_for_5_minutes_and_pages() -> None:
    rule = _rule("BookingsPlatformHighErrorRate")
    assert "> 0.01" in rule["expr"] and rule["for"] == "5m" and rule["labels"]["severity"] == "critical"


def test_dependency_failure_warns_on_availabilitys_dependency_errors() -> None:
    rule = _rule("BookingsAvailabilityDependencyDown")
    assert metric_names(rule["expr"]) == {"availability_dependency_errors_total"} and "dependency" in rule["expr"]
    assert rule["labels"]["severity"] == "warning"


def test_the_collector_exports_with_the_naming_the_dashboards_are_written_for() -> None:
    """prometheus_name (services/common/telemetry.py) assumes these settings: suffixes on, resource
    attributes as labels (service_name), OTLP in, traces on to Tempo."""
    config = yaml.safe_load((OBSERVABILITY / "otel-collector-config.yaml").read_text())
    prometheus = config["exporters"]["prometheus"]
    assert prometheus["add_metric_suffixes"] is True and prometheus["resource_to_telemetry_conversion"]["enabled"] is True
    pipelines = config["service"]["pipelines"]
    assert pipelines["metrics"]["receivers"] == ["otlp"] and pipelines["metrics"]["exporters"] == ["prometheus"]
    assert pipelines["traces"]["receivers"] == ["otlp"] and pipelines["traces"]["exporters"] == ["otlp/tempo"]
    for pipeline in pipelines.values():
        assert pipeline["processors"][0] == "memory_limiter", "memory_limiter must come first to protect the collector"
    collector = yaml.safe_load_all((OBSERVABILITY / "otel-collector.yaml").read_text())
    (deployment,) = [d for d in collector if d["kind"] == "Deployment"]
    (image,) = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert re.fullmatch(r"otel/opentelemetry-collector-contrib:\d+\.\d+\.\d+", image), f"pin the collector image: {image}"

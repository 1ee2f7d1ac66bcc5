"""How the services' OTel metric names appear in Prometheus (services/common/telemetry.py
`prometheus_name`, the collector's translation), and how metric and label names are read out of
the PromQL of dashboards and alerts (tests/integration/observability_support.py)."""

from __future__ import annotations

import pytest

from services.common.telemetry import prometheus_label, prometheus_name, prometheus_series
from tests.integration.observability_support import label_names, metric_names


@pytest.mark.parametrize(
    "name, unit, kind, monotonic, expected",
    [
        ("rpc.server.requests", "{request}", "sum", True, "rpc_server_requests_total"),
        ("rpc.server.duration", "ms", "histogram", False, "rpc_server_duration_milliseconds"),
        ("availability.latency_ms", "ms", "histogram", False, "availability_latency_ms_milliseconds"),
        ("availability.course_requests.total", "", "sum", True, "availability_course_requests_total"),
        ("availability.policy_violations.too_late_to_book", "", "sum", True, "availability_policy_violations_too_late_to_book_total"),
        ("outbox.oldest_age_seconds", "s", "gauge", False, "outbox_oldest_age_seconds"),
        ("outbox.backlog", "{message}", "gauge", False, "outbox_backlog"),
        ("kafka.consumer.lag", "{message}", "gauge", False, "kafka_consumer_lag"),
        ("participations.propagation_lag", "s", "histogram", False, "participations_propagation_lag_seconds"),
        ("db.pool.connections", "{connection}", "sum", False, "db_pool_connections"),
        ("system.memory.utilization", "1", "gauge", False, "system_memory_utilization_ratio"),
        ("http.requests", "1", "sum", True, "http_requests_total"),
        ("network.io", "By/s", "gauge", False, "network_io_bytes_per_second"),
        ("disk.ops", "{ops}/s", "sum", True, "disk_ops_per_second_total"),
        ("queue.size", "items", "gauge", False, "queue_size_items"),
        ("9lives.count", "", "gauge", False, "_9lives_count"),
    ],
    ids=[
        "a counter ends in _total and an annotation unit is dropped",
        "a histogram gets its unit spelled out",
        "the unit is appended even when the name abbreviates it",
        "a counter named ...total keeps one _total",
        "a metric per policy violation type is its own counter",
        "a unit already a word of the name is not repeated",
        "a gauge gets no _total",
        "the consumer lag gauge",
        "the propagation lag histogram in seconds",
        "an up-down counter is no counter: no _total",
        "a gauge with unit 1 is a ratio",
        "a counter with unit 1 is not a ratio",
        "a per unit becomes _per_<unit>",
        "an annotated main unit is dropped but its per unit kept",
        "an unknown unit is appended as written",
        "a name cannot start with a digit",
    ],
)
def test_otel_names_become_the_collectors_prometheus_names(name: str, unit: str, kind: str, monotonic: bool, expected: str) -> None:
    assert prometheus_name(name, unit, kind, monotonic) == expected


def test_a_histogram_is_three_series_and_a_counter_one() -> None:
    assert prometheus_series("rpc.server.duration", "ms", "histogram") == {
        "rpc_server_duration_milliseconds_bucket",
        "rpc_server_duration_milliseconds_sum",
        "rpc_server_duration_milliseconds_count",
    }
    assert prometheus_series("kafka.consumer.dlq", "{message}", "sum", True) == {"kafka_consumer_dlq_total"}


@pytest.mark.parametrize(
    "attribute, label",
    [
        ("rpc.grpc.status_code", "rpc_grpc_status_code"),
        ("messaging.consumer.group.name", "messaging_consumer_group_name"),
        ("dependency", "dependency"),
        ("1st", "key_1st"),
    ],
)
def test_attributes_become_labels_with_underscores(attribute: str, label: str) -> None:
    assert prometheus_label(attribute) == label


@pytest.mark.parametrize(
    "expr, metrics, labels",
    [
        ("up", {"up"}, set()),
        (
            'sum by (service_name) (rate(rpc_server_requests_total{rpc_grpc_status_code=~"INTERNAL|UNKNOWN"}[$__rate_interval]))',
            {"rpc_server_requests_total"},
            {"service_name", "rpc_grpc_status_code"},
        ),
        (
            "histogram_quantile(0.95, sum by (le, rpc) (rate(availability_latency_ms_milliseconds_bucket[5m]))) > 500",
            {"availability_latency_ms_milliseconds_bucket"},
            {"le", "rpc"},
        ),
        (
            "sum(rate(a_total[5m])) / sum(rate(b_total[5m])) > 0.01 and on (service_name) sum(rate(a_total[5m])) > 0.2",
            {"a_total", "b_total"},
            {"service_name"},
        ),
        ('count by (rpc_method) (rpc_server_requests_total{service_name=~"$service"})', {"rpc_server_requests_total"}, {"rpc_method", "service_name"}),
        ("max without (instance) (outbox_backlog offset 1h)", {"outbox_backlog"}, {"instance"}),
        ('x{a="by (b)", c!~"d{1,2}"}', {"x"}, {"a", "c"}),
        ("increase(kafka_consumer_dlq_total[$__range]) * 1e3", {"kafka_consumer_dlq_total"}, set()),
        ("sum_over_time(m[1h:5m])", {"m"}, set()),
    ],
    ids=[
        "a bare metric",
        "functions, aggregations, matchers and Grafana variables are not metrics",
        "a histogram quantile names the bucket series and groups by le",
        "binary operators and vector matching",
        "a label_values query with a variable in a matcher",
        "offset and without",
        "strings may contain anything",
        "numbers are not metrics",
        "subqueries",
    ],
)
def test_metric_and_label_names_are_read_out_of_promql(expr: str, metrics: set[str], labels: set[str]) -> None:
    assert metric_names(expr) == metrics
    assert label_names(expr) == labels

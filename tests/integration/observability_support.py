"""What the dashboards and alert rules of deploy/k8s/observability ask Prometheus for (this module
holds no tests, and does no I/O beyond reading those files): their PromQL expressions, and the
metric and label names in them, to compare with what the services really export.

The extraction is deliberately small, not a PromQL parser: it drops string literals, range and
subquery brackets, Grafana variables and the label lists of by/without/on/ignoring/group_*, then
every identifier that is not a function call or a keyword is a metric name. Label names are the
left-hand sides of `{...}` matchers plus the grouping lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from services.common.telemetry import prometheus_label, prometheus_series
from services.devstack.otlp import ExportedMetric

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "observability"
DASHBOARDS = OBSERVABILITY / "dashboards"
RULES = OBSERVABILITY / "prometheus-rules.yaml"

# Labels every series has besides its own attributes: the resource attributes the collector turns
# into labels (resource_to_telemetry_conversion), what the prometheus exporter adds (job,
# instance) and a histogram's bucket bound.
RESOURCE_LABELS = frozenset({"service_name", "service_namespace", "service_instance_id", "job", "instance", "le"})

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_VARIABLES = re.compile(r"\$\{[^}]*\}|\$\w+")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_MATCHERS = re.compile(r"\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_IDENTIFIER = re.compile(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"})


def _without_literals(expr: str) -> str:
    # Variables first: "$__rate_interval" inside [...] goes with the brackets anyway, but "$service"
    # inside a matcher's string goes with the string.
    return _VARIABLES.sub(" ", _STRINGS.sub('""', expr))


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = _RANGES.sub(" ", _without_literals(expr))
    text = _MATCHERS.sub(" ", _GROUPING.sub(" ", text))
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call is None and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def label_names(expr: str) -> set[str]:
    """The label names a PromQL expression matches on or groups by."""
    text = _RANGES.sub(" ", _without_literals(expr))
    labels = set()
    for grouping in _GROUPING.finditer(text):
        labels |= {label.strip() for label in grouping.group(1).split(",") if label.strip()}
    for matchers in _MATCHERS.finditer(text):
        labels |= set(_MATCHER_LABEL.findall(matchers.group(1)))
    return labels


# --- the files ---------------------------------------------------------------------------------------


def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard JSON file, by file name (json.loads fails loudly on invalid JSON)."""
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those nested in (collapsed) rows included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries() -> list[tuple[str, str]]:
    """(where, expr) of every dashboard panel target and templating variable query."""
    found = []
    for name, dashboard in dashboards().items():
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                found.append((f"{name}: panel {panel.get('title')!r} {target.get('refId', '')}".rstrip(), target["expr"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
                found.append((f"{name}: variable {variable['name']}", _label_values_expr(query)))
    return found


def _label_values_expr(query: str) -> str:
    """Grafana's label_values(<selector>, <label>) as the PromQL it queries: the selector, with the
    label grouped on (so that label is checked too)."""
    match = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query, re.DOTALL)
    if not match:
        return query
    return f"count by ({match.group(2)}) ({match.group(1)})"


def prometheus_rule() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())  # type: ignore[no-any-return]


def rules() -> list[dict[str, Any]]:
    return [rule for group in prometheus_rule()["spec"]["groups"] for rule in group["rules"]]


def rule_queries() -> list[tuple[str, str]]:
    return [(f"alert {rule.get('alert') or rule.get('record')}", rule["expr"]) for rule in rules()]


# --- what the services export, as Prometheus sees it ---------------------------------------------------


def exported_series(metrics: Iterable[ExportedMetric]) -> dict[str, set[str]]:
    """Prometheus series name -> the label names it has (its attributes, translated, plus the
    resource labels), for every metric the services exported."""
    series: dict[str, set[str]] = {}
    for metric in metrics:
        for name in prometheus_series(metric.name, metric.unit, metric.kind, metric.monotonic):
            series.setdefault(name, set(RESOURCE_LABELS)).update(prometheus_label(key) for key in metric.attribute_keys)
    return series

"""`make run` streams the services' logs to whoever started it: readable lines on a terminal, JSON
otherwise (piped into a file or a log shipper), and always what LOG_FORMAT says when it is set."""

from __future__ import annotations

import pytest

from services.devstack.run import service_base_env


@pytest.mark.parametrize(
    "environ, terminal, log_format",
    [
        pytest.param({}, True, "console", id="terminal-readable-lines"),
        pytest.param({}, False, None, id="pipe-json-by-default"),
        pytest.param({"LOG_FORMAT": "json"}, True, "json", id="terminal-but-json-asked"),
        pytest.param({"LOG_FORMAT": "console"}, False, "console", id="pipe-but-console-asked"),
    ],
)
def test_the_services_log_format_follows_where_make_run_writes(environ: dict[str, str], terminal: bool, log_format: str | None) -> None:
    env = service_base_env({"PATH": "/usr/bin", **environ}, terminal=terminal)
    assert env.get("LOG_FORMAT") == log_format
    assert env["PATH"] == "/usr/bin"

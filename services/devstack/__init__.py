"""Local development stack: embedded infrastructure (`infra`) and a process supervisor (`supervisor`).

Used by `make run` and by the pytest session fixtures. Importing this package starts nothing and
registers no signal handlers or atexit hooks; callers own the lifecycle.
"""

from ._proc import DevstackError, free_port
from .infra import (
    Infra,
    InfraPorts,
    KafkaBroker,
    Postgres,
    Redis,
    ensure_topics,
    ensure_topics_async,
    kafka_api_versions,
    redis_ping,
)
from .supervisor import Supervisor

__all__ = [
    "DevstackError",
    "Infra",
    "InfraPorts",
    "KafkaBroker",
    "Postgres",
    "Redis",
    "Supervisor",
    "ensure_topics",
    "ensure_topics_async",
    "free_port",
    "kafka_api_versions",
    "redis_ping",
]

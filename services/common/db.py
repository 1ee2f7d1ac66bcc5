"""Postgres: an asyncpg pool pinned to the service's own schema, and versioned plain-SQL
migrations applied with yoyo under its lock (safe when several replicas start at once)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import psycopg
from yoyo import get_backend, read_migrations

from services.common.config import DatabaseSettings
from services.common.errors import DependencyUnavailable

S = TypeVar("S", bound="TenantSession")

# Failures of the database itself (down, restarting, overloaded, timed out, a deadlock): the
# request may succeed when retried, so they are UNAVAILABLE, not INTERNAL. Anything else (a
# violated constraint, bad SQL) is a bug and stays INTERNAL.
TRANSIENT_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # statement timeout, admin/crash shutdown, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full, out of memory
    asyncpg.exceptions.TransactionRollbackError,  # deadlock or serialization failure
)


def lost_connection(exc: BaseException) -> bool:
    """asyncpg errors that only say the server ended the session, so the request may succeed on
    a fresh connection, as with the TRANSIENT_ERRORS (seen when Postgres restarts under load):

    - InterfaceError "cannot call Transaction.__aexit__(): the underlying connection is closed":
      the session ended mid-transaction, and the rollback on the way out raises this in place of
      the ConnectionDoesNotExistError it is handling;
    - InternalClientError "cannot switch to state 12; another operation (2) is in progress": an
      idle pooled connection received the server's FATAL "terminating connection due to
      administrator command", which put its protocol out of step (error-consume state), and was
      handed out before the socket's closing was noticed (MagicStack/asyncpg#1069). `connection`
      terminates such a connection so that the pool never hands it out again."""
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        return True
    if not isinstance(exc, asyncpg.InterfaceError):
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, TRANSIENT_ERRORS):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return "connection is closed" in str(exc)


@contextlib.contextmanager
def unavailable_on_transient_errors() -> Iterator[None]:
    try:
        yield
    except TRANSIENT_ERRORS as exc:
        raise DependencyUnavailable("postgres", f"{type(exc).__name__}: {exc}") from exc
    except (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError) as exc:
        if not lost_connection(exc):
            raise
        raise DependencyUnavailable("postgres", f"{type(exc).__name__}: {exc}") from exc


@contextlib.asynccontextmanager
async def connection(pool: asyncpg.Pool, acquire_timeout: float, *, transaction: bool = False) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection (optionally in a transaction); database outages become UNAVAILABLE."""
    with unavailable_on_transient_errors():
        async with pool.acquire(timeout=acquire_timeout) as conn:
            try:
                if not transaction:
                    yield conn
                    return
                async with conn.transaction():
                    yield conn
            except asyncpg.exceptions.InternalClientError:
                conn.terminate()  # its protocol is out of step: the pool must not hand it out again
                raise


class TenantSession:
    """Base of a store's session: one connection, bound to one tenant when it is opened, so that
    every statement a subclass runs can filter by `self._tenant` and no code path can forget to."""

    def __init__(self, conn: asyncpg.Connection, tenant_id: str):
        self._conn = conn
        self._tenant = tenant_id


class TenantStore(Generic[S]):
    """A service's Postgres store: `read(tenant)` and `write(tenant)` open a session of type S bound
    to that tenant. `write` is one transaction, the only way a use case changes data: whatever the
    block does (rows and outbox messages alike) commits together, or not at all when it raises."""

    def __init__(self, pool: asyncpg.Pool, session: Callable[[asyncpg.Connection, str], S], *, acquire_timeout: float):
        self._pool = pool
        self._session = session
        self._acquire_timeout = acquire_timeout

    @contextlib.asynccontextmanager
    async def read(self, tenant_id: str) -> AsyncIterator[S]:
        """Reads; each method of a session is a single statement, so it sees one consistent snapshot."""
        async with connection(self._pool, self._acquire_timeout) as conn:
            yield self._session(conn, tenant_id)

    @contextlib.asynccontextmanager
    async def write(self, tenant_id: str) -> AsyncIterator[S]:
        async with connection(self._pool, self._acquire_timeout, transaction=True) as conn:
            yield self._session(conn, tenant_id)


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    """No reset query when a connection goes back to the pool. asyncpg's default (UNLISTEN *,
    advisory unlock, RESET ALL, CLOSE ALL) costs a server round trip on every release, measurable
    on the hottest reads; this code base leaves no session state behind (the outbox relay, the
    only LISTEN and session advisory-lock user, releases both itself; strict capacity's advisory
    locks are transaction-scoped). Open transactions are still rolled back and listeners dropped
    by asyncpg itself."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(settings: DatabaseSettings, schema: str, application_name: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        settings.database_url,
        connection_class=_Connection,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        server_settings={
            "search_path": schema,
            "application_name": application_name,
            "statement_timeout": str(settings.db_statement_timeout_ms),
        },
    )


def _yoyo_url(database_url: str, schema: str) -> str:
    """DATABASE_URL as yoyo's psycopg URL: the connection parameters in its query (sslmode,
    sslrootcert, target_session_attrs …) are kept, yoyo passes them on to psycopg."""
    parts = urlsplit(database_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "schema"] + [("schema", schema)]
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, urlencode(query), ""))


def migrate(database_url: str, schema: str, migrations: Sequence[Path]) -> list[str]:
    """Apply the pending migrations of the directories, in their order (the shared ones first,
    services/common/outbox.py `MIGRATIONS`, then the service's own); returns the ids applied."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    backend = get_backend(_yoyo_url(database_url, schema))
    try:
        with backend.lock():
            pending = backend.to_apply(read_migrations(*(str(m) for m in migrations)))
            backend.apply_migrations(pending)
            return [m.id for m in pending]
    finally:
        backend.connection.close()

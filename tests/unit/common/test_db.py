"""How DATABASE_URL becomes the URL yoyo migrates with (pure string handling, no database)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from services.common.db import _yoyo_url


@pytest.mark.parametrize(
    ("database_url", "expected_query"),
    [
        ("postgresql://app:pw@db:5432/app", [("schema", "bookings")]),
        (
            "postgresql://app:pw@db:5432/app?sslmode=verify-full&sslrootcert=/etc/ca.crt",
            [("sslmode", "verify-full"), ("sslrootcert", "/etc/ca.crt"), ("schema", "bookings")],
        ),
        ("postgres://app@db/app?target_session_attrs=read-write", [("target_session_attrs", "read-write"), ("schema", "bookings")]),
        ("postgresql://app@db/app?schema=elsewhere", [("schema", "bookings")]),
    ],
)
def test_migrations_keep_the_connection_parameters_of_database_url_and_use_the_service_schema(database_url: str, expected_query: list[tuple[str, str]]) -> None:
    url = urlsplit(_yoyo_url(database_url, "bookings"))
    assert url.scheme == "postgresql+psycopg"
    assert (url.netloc, url.path) == (urlsplit(database_url).netloc, urlsplit(database_url).path)
    assert parse_qsl(url.query) == expected_query

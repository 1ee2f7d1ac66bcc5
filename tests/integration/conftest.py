"""Fixtures shared by the integration tests of one area (the session stack is in tests/conftest.py)."""

import grpc
import pytest

from tests.integration.timeframes_support import Calendar


@pytest.fixture
def calendar(timeframes_channel: grpc.aio.Channel, tenant: str) -> Calendar:
    """The timeframes stubs bound to this test's tenant."""
    return Calendar.of(timeframes_channel, tenant)


@pytest.fixture
def other_calendar(timeframes_channel: grpc.aio.Channel, other_tenant: str) -> Calendar:
    """The same stubs for another tenant, to prove isolation."""
    return Calendar.of(timeframes_channel, other_tenant)

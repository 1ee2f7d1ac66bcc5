"""Booking policy defaults and representations (booking_policy.proto): an absent sub-policy is
disabled, a max party size of 0 is the default 1, and every stored or returned policy says so
explicitly."""

from __future__ import annotations

from typing import Any

import pytest

from services.api.bookings.policies.v1 import booking_policy_pb2 as pb
from services.bookings.adapters.postgres_catalog import policy_from_document, policy_to_document
from services.bookings.domain.policies import (
    BookAfterStart,
    BookingPolicy,
    CancellationPolicy,
    LimitEarlyBooking,
    LimitLateBooking,
    ParticipantsPolicy,
)
from services.bookings.entrypoints.grpc import policy_from_proto, policy_to_proto

FULL = BookingPolicy(
    limit_early_booking=LimitEarlyBooking(True, 10_080),
    limit_late_booking=LimitLateBooking(True, 60),
    book_after_start_policy=BookAfterStart(True),
    participants_policy=ParticipantsPolicy(4),
    cancellation_policy=CancellationPolicy(True, 1_440),
)


def test_the_default_policy_disables_every_limit_and_allows_one_participant_per_booking() -> None:
    policy = BookingPolicy()
    assert not policy.limit_early_booking.enabled
    assert not policy.limit_late_booking.enabled
    assert not policy.book_after_start_policy.enabled
    assert not policy.cancellation_policy.enabled
    assert policy.max_participants_per_booking == 1


@pytest.mark.parametrize(
    "given, effective",
    [pytest.param(0, 1, id="zero-means-the-default-one"), pytest.param(1, 1, id="one-stays-one"), pytest.param(7, 7, id="an-explicit-size-is-kept")],
)
def test_normalizing_spells_out_the_default_party_size(given: int, effective: int) -> None:
    normalized = BookingPolicy(participants_policy=ParticipantsPolicy(given)).normalized()
    assert normalized.participants_policy.max_participants_per_booking == effective


def test_normalizing_keeps_everything_else() -> None:
    assert FULL.normalized() == FULL


def test_an_empty_proto_policy_means_every_sub_policy_disabled() -> None:
    assert policy_from_proto(pb.BookingPolicy()).normalized() == BookingPolicy()


@pytest.mark.parametrize(
    "present",
    ["limit_early_booking", "limit_late_booking", "book_after_start_policy", "participants_policy", "cancellation_policy"],
    ids=lambda name: f"only-{name}-given",
)
def test_sub_policies_a_caller_omits_are_disabled(present: str) -> None:
    full = policy_to_proto(FULL)
    partial = pb.BookingPolicy()
    getattr(partial, present).CopyFrom(getattr(full, present))
    policy = policy_from_proto(partial).normalized()
    for name in ("limit_early_booking", "limit_late_booking", "book_after_start_policy", "participants_policy", "cancellation_policy"):
        expected = getattr(FULL if name == present else BookingPolicy(), name)
        assert getattr(policy, name) == expected, name


def test_a_policy_survives_the_proto_round_trip() -> None:
    assert policy_from_proto(policy_to_proto(FULL)) == FULL


def test_the_proto_of_a_policy_carries_every_sub_policy_even_disabled_ones() -> None:
    msg = policy_to_proto(BookingPolicy())
    for name in ("limit_early_booking", "limit_late_booking", "book_after_start_policy", "participants_policy", "cancellation_policy"):
        assert msg.HasField(name), name
    assert msg.participants_policy.max_participants_per_booking == 1


def test_a_policy_survives_the_stored_document_round_trip() -> None:
    assert policy_from_document(policy_to_document(FULL)) == FULL


def test_the_stored_document_uses_the_proto_field_names() -> None:
    assert policy_to_document(FULL) == {
        "limit_early_booking": {"enabled": True, "earliest_booking_in_minutes": 10_080},
        "limit_late_booking": {"enabled": True, "latest_booking_in_minutes": 60},
        "book_after_start_policy": {"enabled": True},
        "participants_policy": {"max_participants_per_booking": 4},
        "cancellation_policy": {"enabled": True, "latest_cancellation_in_minutes": 1_440},
    }


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({}, id="an-empty-document"),
        pytest.param({"limit_early_booking": {}}, id="a-sub-policy-without-fields"),
        pytest.param({"some_future_policy": {"enabled": True}}, id="an-unknown-sub-policy"),
        pytest.param({"participants_policy": {"max_participants_per_booking": 0}}, id="a-zero-party-size"),
    ],
)
def test_a_stored_document_missing_sub_policies_reads_as_their_defaults(document: dict[str, Any]) -> None:
    assert policy_from_document(document) == BookingPolicy()

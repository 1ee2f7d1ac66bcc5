"""Booking policies: value objects, their defaults and their validation. Pure.

A policy is always held in its normalized form: every sub-policy present (an absent one is
disabled, as the BookingPolicyProvider contract says) and `max_participants_per_booking` never 0
(0 means the default, 1). So a stored or returned policy says explicitly what applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from services.common.validation import Violations

# One year: the longest lead time any limit may name (booking_policy.proto).
MAX_MINUTES = 525_600
DEFAULT_MAX_PARTICIPANTS_PER_BOOKING = 1
MAX_PARTICIPANTS_PER_BOOKING = 1_000


@dataclass(frozen=True)
class LimitEarlyBooking:
    """Booking opens `earliest_booking_in_minutes` before the reference time."""

    enabled: bool = False
    earliest_booking_in_minutes: int = 0


@dataclass(frozen=True)
class LimitLateBooking:
    """Booking closes `latest_booking_in_minutes` before the reference time."""

    enabled: bool = False
    latest_booking_in_minutes: int = 0


@dataclass(frozen=True)
class BookAfterStart:
    """Courses only: the course may still be booked after its first session started. For a
    class the only session is the reference time itself, so enabling it changes nothing."""

    enabled: bool = False


@dataclass(frozen=True)
class ParticipantsPolicy:
    max_participants_per_booking: int = DEFAULT_MAX_PARTICIPANTS_PER_BOOKING


@dataclass(frozen=True)
class CancellationPolicy:
    """A booking can be cancelled until `latest_cancellation_in_minutes` before the reference time."""

    enabled: bool = False
    latest_cancellation_in_minutes: int = 0


@dataclass(frozen=True)
class BookingPolicy:
    limit_early_booking: LimitEarlyBooking = field(default_factory=LimitEarlyBooking)
    limit_late_booking: LimitLateBooking = field(default_factory=LimitLateBooking)
    book_after_start_policy: BookAfterStart = field(default_factory=BookAfterStart)
    participants_policy: ParticipantsPolicy = field(default_factory=ParticipantsPolicy)
    cancellation_policy: CancellationPolicy = field(default_factory=CancellationPolicy)

    @property
    def max_participants_per_booking(self) -> int:
        """The effective maximum party size (0 means the default)."""
        return self.participants_policy.max_participants_per_booking or DEFAULT_MAX_PARTICIPANTS_PER_BOOKING

    def normalized(self) -> BookingPolicy:
        """The same policy with its defaults spelled out."""
        return replace(self, participants_policy=ParticipantsPolicy(self.max_participants_per_booking))


def validate_booking_policy(policy: BookingPolicy, v: Violations, prefix: str) -> None:
    """Adds a violation (named `<prefix>.<sub_policy>.<field>`) for every bad field of `policy`.

    Minutes are checked whether or not their limit is enabled: a negative or absurd lead time
    is a caller bug either way, and enabling the limit later must not silently activate it.
    The relation to the service's capacity is checked by the service's validation.
    """
    early = policy.limit_early_booking
    late = policy.limit_late_booking
    early_field = f"{prefix}.limit_early_booking.earliest_booking_in_minutes"
    late_field = f"{prefix}.limit_late_booking.latest_booking_in_minutes"
    early_ok = _minutes(v, early_field, early.earliest_booking_in_minutes)
    late_ok = _minutes(v, late_field, late.latest_booking_in_minutes)
    _minutes(v, f"{prefix}.cancellation_policy.latest_cancellation_in_minutes", policy.cancellation_policy.latest_cancellation_in_minutes)

    # Booking is open from F - earliest until F - latest: with earliest <= latest that window is
    # empty and the service could never be booked. The early limit is named, being the one that
    # defines when the window opens.
    if early.enabled and late.enabled and early_ok and late_ok:
        v.check(
            early.earliest_booking_in_minutes > late.latest_booking_in_minutes,
            early_field,
            f"must be greater than limit_late_booking.latest_booking_in_minutes ({late.latest_booking_in_minutes}) "
            "when both limits are enabled; otherwise booking never opens",
        )

    max_participants = policy.participants_policy.max_participants_per_booking
    v.check(
        max_participants == 0 or 1 <= max_participants <= MAX_PARTICIPANTS_PER_BOOKING,
        f"{prefix}.participants_policy.max_participants_per_booking",
        f"must be between 1 and {MAX_PARTICIPANTS_PER_BOOKING} (0 means the default, {DEFAULT_MAX_PARTICIPANTS_PER_BOOKING})",
    )


def _minutes(v: Violations, name: str, value: int) -> bool:
    return v.check(0 <= value <= MAX_MINUTES, name, f"must be between 0 and {MAX_MINUTES} minutes (one year)")

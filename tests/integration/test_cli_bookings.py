"""`bookings book` and `bookings bookings ...` against the real platform, in-process through
`services.cli.main.main`: readable tables and `--json`, the revision defaulting to the current
one, idempotency keys, and one-line errors that name their reason. Courses and classes are set
up through gRPC (tests/integration/availability_support.py); the CLI does the booking."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

import grpc
import pytest

from services.devstack.stack import Platform
from tests.integration.availability_support import DAY, MINUTE, World, forget_proxy, now, policy, set_proxy
from tests.integration.cli_support import Cli, platform_env, runner

pytestmark = pytest.mark.integration

CONTACT = ("--name", "Ada Lovelace", "--email", "ada@example.com")


@pytest.fixture
async def world(channel: Callable[[str], grpc.aio.Channel], tenant: str, platform: Platform) -> AsyncIterator[World]:
    await set_proxy(platform, tenant, False)
    yield World.of(channel, tenant)
    await forget_proxy(platform, tenant)


@pytest.fixture
def cli(platform: Platform, tenant: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return runner(platform_env(platform, tenant), capsys)


def printed_id(output: str) -> str:
    match = re.search(r"^booking id: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


async def test_book_a_course_by_its_service_and_find_it_again(cli: Cli, world: World) -> None:
    course = await world.course([now() + DAY, now() + 8 * DAY], booking_policy=policy(max_per_booking=2))

    booked = cli("book", "course", "--service", course.id, *CONTACT, "--participants", "2").ok()

    assert "Booked course: 2 participants, CONFIRMED" in booked.out
    booking_id = printed_id(booked.out)
    assert f"course schedule {course.schedule_id}" in booked.out
    assert "Ada Lovelace <ada@example.com>" in booked.out

    shown = cli("bookings", "get", booking_id, "--json").json()["booking"]
    assert (shown["id"], shown["status"], shown["revision"], shown["number_of_participants"]) == (booking_id, "CONFIRMED", "1", 2)
    assert shown["booked_entity"] == {"schedule": {"schedule_id": course.schedule_id}}

    listed = cli("bookings", "list").ok()
    assert "Bookings (1)" in listed.out and booking_id in listed.out
    assert [b["id"] for b in cli("bookings", "list", "--schedule", course.schedule_id, "--json").json()["bookings"]] == [booking_id]
    assert cli("bookings", "list", "--status", "canceled", "--json").json()["bookings"] == []


async def test_book_a_class_session_resize_and_cancel_at_the_current_revision(cli: Cli, world: World) -> None:
    klass = await world.klass([now() + DAY], booking_policy=policy(max_per_booking=3))
    event = klass.events[0]

    booking_id = printed_id(cli("book", "class", "--service", klass.id, "--event", event.id, *CONTACT).ok().out)
    resized = cli("bookings", "participants", booking_id, "3").ok()
    assert "Updated: 3 participants, CONFIRMED" in resized.out

    canceled = cli("bookings", "cancel", booking_id, "--json").json()["booking"]  # no --revision: the current one (2)
    assert (canceled["status"], canceled["revision"]) == ("CANCELED", "3")
    assert [b["id"] for b in cli("bookings", "list", "--event", event.id, "--status", "CANCELED", "--json").json()["bookings"]] == [booking_id]


async def test_pending_bookings_are_confirmed_or_declined(cli: Cli, world: World) -> None:
    course = await world.course([now() + DAY], manual_approval=True)
    first = printed_id(cli("book", "course", "--service", course.id, *CONTACT).ok().out)
    second_out = cli("book", "course", "--service", course.id, "--schedule", course.schedule_id, *CONTACT).ok().out
    assert "Awaits approval: bookings bookings confirm" in second_out
    second = printed_id(second_out)

    assert "Confirmed: 1 participant, CONFIRMED" in cli("bookings", "confirm", first, "--revision", "1").ok().out
    assert "Declined: 1 participant, DECLINED" in cli("bookings", "decline", second).ok().out

    again = cli("bookings", "confirm", first)
    assert again.code == 1
    assert again.err.splitlines()[0].startswith(f"error: FAILED_PRECONDITION BOOKING_NOT_PENDING: cannot confirm booking {first}: it is CONFIRMED")


async def test_a_refusal_is_one_line_with_its_reason(cli: Cli, world: World, platform: Platform) -> None:
    closed = await world.klass([now() + 30 * MINUTE], booking_policy=policy(late=60))

    result = cli("book", "class", "--service", closed.id, "--event", closed.events[0].id, *CONTACT)

    assert result.code == 1
    assert result.err.splitlines() == [
        f"error: FAILED_PRECONDITION TOO_LATE_TO_BOOK: booking has closed (CreateBooking on bookings at {platform.address('bookings')})"
    ]


async def test_a_stale_revision_names_the_reason_and_suggests_a_fresh_read(cli: Cli, world: World) -> None:
    course = await world.course([now() + DAY])
    booking_id = printed_id(cli("book", "course", "--service", course.id, *CONTACT).ok().out)

    stale = cli("bookings", "cancel", booking_id, "--revision", "7")

    assert stale.code == 1
    lines = stale.err.splitlines()
    assert lines[0].startswith(f"error: ABORTED REVISION_MISMATCH: booking '{booking_id}' is at revision 1, not 7")
    assert lines[1].startswith("  hint: someone changed it in the meantime")


async def test_an_idempotency_key_books_once(cli: Cli, world: World) -> None:
    course = await world.course([now() + DAY])
    argv = ("book", "course", "--service", course.id, *CONTACT, "--idempotency-key", "order-17", "--json")

    first, second = cli(*argv).json()["booking"], cli(*argv).json()["booking"]

    assert first == second
    assert len(cli("bookings", "list", "--all", "--json").json()["bookings"]) == 1


async def test_invalid_fields_are_listed_one_per_line(cli: Cli, world: World) -> None:
    course = await world.course([now() + DAY])

    result = cli("book", "course", "--service", course.id, "--name", " ", "--email", "nope")

    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("error: INVALID_ARGUMENT: 2 invalid field(s) (CreateBooking on bookings at ")
    assert "  booking.contact.name: is required" in lines
    assert "  booking.contact.email: must be an email address" in lines


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("bookings", "list", "--status", "maybe").code == 2
    assert cli("book", "class", "--service", "x", *CONTACT).code == 2  # --event is required
    assert cli("bookings", "participants", "x", "0").code == 2

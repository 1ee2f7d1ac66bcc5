"""The staff members' use cases, and the relation service <-> staff member written from either side,
against in-memory fakes of the store (tests/unit/bookings/fakes.py) and timeframes: the order of
validation, schedule creation and storage, what a refused request leaves behind, and which
entities of the other side get a new revision and an announcement."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.bookings.application.catalog import Catalog
from services.bookings.application.staff import HAS_FUTURE_APPOINTMENTS, StaffDirectory
from services.bookings.domain.services import AppointmentSettings, Service, ServiceChange, ServiceDraft, ServiceType, UpdateServiceCommand
from services.bookings.domain.staff import StaffMember, StaffMemberChange, StaffMemberDraft, UpdateStaffMemberCommand
from services.common.errors import DependencyUnavailable, FailedPrecondition, InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec
from tests.unit.bookings.fakes import FakeStore
from tests.unit.bookings.test_catalog_use_cases import FakeSchedules

TENANT, OTHER = "tenant-a", "tenant-b"
UNKNOWN = "3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def schedules() -> FakeSchedules:
    return FakeSchedules()


@pytest.fixture
def directory(store: FakeStore, schedules: FakeSchedules) -> StaffDirectory:
    return StaffDirectory(store, schedules, CursorCodec(b"unit-test-cursor-key"))


@pytest.fixture
def catalog(store: FakeStore, schedules: FakeSchedules) -> Catalog:
    return Catalog(store, schedules, CursorCodec(b"unit-test-cursor-key"))


def person(name: str = "Ada", *service_ids: str) -> StaffMemberDraft:
    return StaffMemberDraft(name=name, email="ada@example.com", time_zone="Europe/Vienna", service_ids=service_ids)


async def appointment(catalog: Catalog, tenant: str = TENANT, name: str = "Haircut", *staff_member_ids: str) -> Service:
    draft = ServiceDraft(
        type=ServiceType.APPOINTMENT, name=name, time_zone="Europe/Vienna", appointment=AppointmentSettings(30), staff_member_ids=staff_member_ids
    )
    return await catalog.create(tenant, draft)


async def current_service(catalog: Catalog, service: Service) -> Service:
    return await catalog.get(TENANT, service.id)


async def current_member(directory: StaffDirectory, member: StaffMember) -> StaffMember:
    return await directory.get(TENANT, member.id)


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> set[str]:
    return {v.field for v in error.value.violations}


# --- create ------------------------------------------------------------------------------------------


async def test_a_new_staff_member_gets_its_schedule_keyed_by_its_id(directory: StaffDirectory, schedules: FakeSchedules, store: FakeStore) -> None:
    member = await directory.create(TENANT, person())
    assert schedules.calls == [{"external_id": member.id, "name": "Ada", "time_zone": "Europe/Vienna", "default_capacity": 1}]
    assert (member.schedule_id, member.revision) == (f"schedule-of-{member.id}", 1)
    assert store.announced == [(StaffMemberChange.CREATED, member.id, 0)]


async def test_a_rejected_create_creates_no_schedule_and_names_unknown_services_with_the_other_bad_fields(
    directory: StaffDirectory, schedules: FakeSchedules, store: FakeStore
) -> None:
    with pytest.raises(InvalidArgument) as info:
        await directory.create(TENANT, replace(person("", UNKNOWN, "x"), time_zone="Nowhere"))
    assert fields(info) == {"staff_member.name", "staff_member.time_zone", "staff_member.service_ids[0]", "staff_member.service_ids[1]"}
    assert schedules.calls == [] and store.staff == {} and store.announced == []


async def test_only_appointment_services_of_the_tenant_can_be_offered(
    directory: StaffDirectory, catalog: Catalog, schedules: FakeSchedules, store: FakeStore
) -> None:
    mine, theirs = await appointment(catalog), await appointment(catalog, OTHER)
    course = await catalog.create(TENANT, ServiceDraft(type=ServiceType.COURSE, name="Course", default_capacity=5, time_zone="UTC"))
    calls, announced = len(schedules.calls), list(store.announced)
    with pytest.raises(InvalidArgument) as info:
        await directory.create(TENANT, person("Ada", mine.id, theirs.id, course.id))
    assert fields(info) == {"staff_member.service_ids[1]", "staff_member.service_ids[2]"}
    assert "is not an APPOINTMENT service of this tenant" in info.value.violations[0].description
    assert len(schedules.calls) == calls and store.announced == announced


async def test_when_timeframes_is_unavailable_nothing_is_stored(directory: StaffDirectory, schedules: FakeSchedules, store: FakeStore) -> None:
    schedules.fail = True
    with pytest.raises(DependencyUnavailable):
        await directory.create(TENANT, person())
    assert store.staff == {} and store.announced == []


async def test_services_named_on_create_list_the_staff_member_at_a_new_revision(directory: StaffDirectory, catalog: Catalog, store: FakeStore) -> None:
    cut, colour = await appointment(catalog, name="Cut"), await appointment(catalog, name="Colour")
    store.announced.clear()
    member = await directory.create(TENANT, person("Ada", colour.id, cut.id))
    assert member.service_ids == tuple(sorted([cut.id, colour.id]))
    for service in (cut, colour):
        now = await current_service(catalog, service)
        assert (now.staff_member_ids, now.revision) == ((member.id,), 2)
    # The staff member first, then each service whose staff list changed, in id order.
    assert store.announced == [(StaffMemberChange.CREATED, member.id, 0), *((ServiceChange.UPDATED, i, 0) for i in sorted([cut.id, colour.id]))]
    assert store.relation_locked[-1]


# --- get, query --------------------------------------------------------------------------------------------


async def test_another_tenants_staff_member_is_not_found(directory: StaffDirectory) -> None:
    member = await directory.create(TENANT, person())
    with pytest.raises(NotFound):
        await directory.get(OTHER, member.id)


async def test_paging_returns_every_staff_member_once_and_filters_by_service(directory: StaffDirectory, catalog: Catalog) -> None:
    service = await appointment(catalog)
    created = [await directory.create(TENANT, person(f"m{i}", *([service.id] if i % 2 else []))) for i in range(5)]
    seen, cursor = [], ""
    while True:
        page = await directory.query(TENANT, [], [], 2, cursor)
        seen += page.staff_members
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert [m.id for m in seen] == [m.id for m in created]
    assert [m.id for m in (await directory.query(TENANT, [], [service.id], 0, "")).staff_members] == [created[1].id, created[3].id]


async def test_a_cursor_is_bound_to_its_tenant_and_filters(directory: StaffDirectory) -> None:
    for i in range(2):
        await directory.create(TENANT, person(f"m{i}"))
    cursor = (await directory.query(TENANT, [], [], 1, "")).next_cursor
    for tenant, service_ids in ((TENANT, [UNKNOWN]), (OTHER, [])):
        with pytest.raises(InvalidArgument) as info:
            await directory.query(tenant, [], service_ids, 1, cursor)
        assert fields(info) == {"cursor_paging.cursor"}


# --- update ------------------------------------------------------------------------------------------


async def test_an_update_that_changes_nothing_keeps_the_revision_and_announces_nothing(directory: StaffDirectory, store: FakeStore) -> None:
    member = await directory.create(TENANT, person())
    same = await directory.update(TENANT, UpdateStaffMemberCommand(member.id, 1, ["name", "service_ids"], StaffMemberDraft(name="Ada")))
    assert same == member and len(store.announced) == 1


async def test_a_stale_revision_is_a_mismatch_even_if_the_change_is_invalid(directory: StaffDirectory) -> None:
    member = await directory.create(TENANT, person())
    await directory.update(TENANT, UpdateStaffMemberCommand(member.id, 1, ["name"], StaffMemberDraft(name="Ada King")))
    with pytest.raises(RevisionMismatch) as info:
        await directory.update(TENANT, UpdateStaffMemberCommand(member.id, 1, ["name"], StaffMemberDraft(name="")))
    assert (info.value.expected, info.value.actual) == (1, 2)


async def test_replacing_the_services_bumps_only_the_services_whose_staff_changed(directory: StaffDirectory, catalog: Catalog, store: FakeStore) -> None:
    kept, dropped, added = [await appointment(catalog, name=n) for n in ("kept", "dropped", "added")]
    member = await directory.create(TENANT, person("Ada", kept.id, dropped.id))
    store.announced.clear()
    updated = await directory.update(TENANT, UpdateStaffMemberCommand(member.id, 1, ["service_ids"], StaffMemberDraft(service_ids=(added.id, kept.id))))
    assert (updated.service_ids, updated.revision) == (tuple(sorted([kept.id, added.id])), 2)
    revisions = {s.id: (await current_service(catalog, s)).revision for s in (kept, dropped, added)}
    assert revisions == {kept.id: 2, dropped.id: 3, added.id: 2}
    assert store.announced == [(StaffMemberChange.UPDATED, member.id, 0), *((ServiceChange.UPDATED, i, 0) for i in sorted([dropped.id, added.id]))]


async def test_an_update_naming_an_unknown_service_changes_nothing(directory: StaffDirectory, store: FakeStore) -> None:
    member = await directory.create(TENANT, person())
    with pytest.raises(InvalidArgument) as info:
        await directory.update(TENANT, UpdateStaffMemberCommand(member.id, 1, ["service_ids", "name"], StaffMemberDraft(name="", service_ids=(UNKNOWN,))))
    assert fields(info) == {"staff_member.name", "staff_member.service_ids[0]"}
    assert await current_member(directory, member) == member and len(store.announced) == 1


# --- delete ------------------------------------------------------------------------------------------


async def test_a_staff_member_with_appointments_ahead_is_not_deleted(directory: StaffDirectory, catalog: Catalog, store: FakeStore) -> None:
    service = await appointment(catalog)
    member = await directory.create(TENANT, person("Ada", service.id))
    store.busy_staff.add((TENANT, member.id))
    announced = list(store.announced)
    with pytest.raises(FailedPrecondition) as info:
        await directory.delete(TENANT, member.id, 0)
    assert info.value.reason == HAS_FUTURE_APPOINTMENTS == "STAFF_MEMBER_HAS_FUTURE_APPOINTMENTS"
    assert await current_member(directory, member) == member
    assert (await current_service(catalog, service)).staff_member_ids == (member.id,)
    assert store.announced == announced


async def test_deleting_a_staff_member_removes_its_links_and_bumps_its_services(directory: StaffDirectory, catalog: Catalog, store: FakeStore) -> None:
    service = await appointment(catalog)
    member = await directory.create(TENANT, person("Ada", service.id))
    store.announced.clear()
    await directory.delete(TENANT, member.id, 1)
    with pytest.raises(NotFound):
        await directory.get(TENANT, member.id)
    now = await current_service(catalog, service)
    assert (now.staff_member_ids, now.revision) == ((), 3)
    assert store.announced == [(StaffMemberChange.DELETED, member.id, 0), (ServiceChange.UPDATED, service.id, 0)]


async def test_delete_at_a_stale_revision_is_a_mismatch(directory: StaffDirectory) -> None:
    member = await directory.create(TENANT, person())
    with pytest.raises(RevisionMismatch):
        await directory.delete(TENANT, member.id, 2)


# --- the relation written from the service's side ------------------------------------------------------


async def test_staff_named_by_a_service_list_it_at_a_new_revision(directory: StaffDirectory, catalog: Catalog, store: FakeStore) -> None:
    ada, grace = await directory.create(TENANT, person("Ada")), await directory.create(TENANT, person("Grace"))
    store.announced.clear()
    service = await appointment(catalog, TENANT, "Haircut", grace.id, ada.id)
    assert service.staff_member_ids == tuple(sorted([ada.id, grace.id]))
    for member in (ada, grace):
        now = await current_member(directory, member)
        assert (now.service_ids, now.revision) == ((service.id,), 2)
    assert store.announced == [(ServiceChange.CREATED, service.id, 0), *((StaffMemberChange.UPDATED, i, 0) for i in sorted([ada.id, grace.id]))]

    command = UpdateServiceCommand(service.id, 1, ["staff_member_ids"], ServiceDraft(staff_member_ids=(ada.id,)))
    updated = await catalog.update(TENANT, command)
    assert (updated.staff_member_ids, updated.revision) == ((ada.id,), 2)
    assert (await current_member(directory, grace)).service_ids == ()
    assert (await current_member(directory, ada)).revision == 2  # still listed: unchanged


async def test_a_service_names_only_live_staff_members_of_the_tenant(directory: StaffDirectory, catalog: Catalog) -> None:
    mine, theirs = await directory.create(TENANT, person()), await directory.create(OTHER, person())
    gone = await directory.create(TENANT, person("Gone"))
    await directory.delete(TENANT, gone.id, 0)
    with pytest.raises(InvalidArgument) as info:
        await appointment(catalog, TENANT, "Haircut", mine.id, theirs.id, gone.id)
    assert fields(info) == {"service.staff_member_ids[1]", "service.staff_member_ids[2]"}
    assert (await current_member(directory, mine)).revision == 1


async def test_deleting_a_service_removes_its_links_and_bumps_its_staff(directory: StaffDirectory, catalog: Catalog, store: FakeStore) -> None:
    member = await directory.create(TENANT, person())
    service = await appointment(catalog, TENANT, "Haircut", member.id)
    await catalog.delete(TENANT, service.id, 0)
    now = await current_member(directory, member)
    assert (now.service_ids, now.revision) == ((), 3)
    assert store.announced[-2:] == [(ServiceChange.DELETED, service.id, 0), (StaffMemberChange.UPDATED, member.id, 0)]

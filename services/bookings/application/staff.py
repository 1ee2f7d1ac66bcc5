"""Use cases of staff members (bookings.staff.v1.StaffMembers): validate, create the staff member's
schedule in timeframes, then write in one transaction (`store.write(tenant)`) the staff member, its
links to services and the announcements of every entity that changed, in the order that keeps a
rejected or failed request from leaving anything behind."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from services.bookings.application.ports import BookingsStore, Schedules, SortKey, StaffFilter
from services.bookings.application.service_staff import check_services, set_services_of_staff_member
from services.bookings.domain.staff import (
    RESOURCE,
    StaffMember,
    StaffMemberChange,
    StaffMemberDraft,
    UpdateStaffMemberCommand,
    apply_update,
    check_update_request,
    new_staff_member,
)
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec, instant_key, parse_instant_key, query_fingerprint
from services.common.validation import Violations

SERVICE_IDS = "staff_member.service_ids"
# A staff member's schedule holds working hours, not sessions: its capacity is that of an
# appointment, exclusive.
SCHEDULE_CAPACITY = 1
HAS_FUTURE_APPOINTMENTS = "STAFF_MEMBER_HAS_FUTURE_APPOINTMENTS"


@dataclass(frozen=True)
class StaffMemberPage:
    staff_members: list[StaffMember]
    next_cursor: str  # empty on the last page

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)


class StaffDirectory:
    def __init__(
        self,
        store: BookingsStore,
        schedules: Schedules,
        cursors: CursorCodec,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._store = store
        self._schedules = schedules
        self._cursors = cursors
        self._new_id = new_id
        self._clock = clock

    async def create(self, tenant: str, draft: StaffMemberDraft) -> StaffMember:
        # Validate completely first, the services included: a rejected request must not create a
        # schedule either. They are checked again under the relation lock below, where it counts.
        try:
            staff_member = new_staff_member(draft, self._new_id())
        except InvalidArgument as invalid:
            # Unknown services are named with the other bad fields: one round trip fixes all.
            async with self._store.read(tenant) as session:
                await check_services(session, SERVICE_IDS, draft.service_ids, invalid)
            raise
        if draft.service_ids:
            async with self._store.read(tenant) as session:
                await check_services(session, SERVICE_IDS, draft.service_ids)
        # As for a service's schedule (application/catalog.py Catalog.create): the new id is the
        # schedule's external_id, so a retried CreateSchedule returns the same schedule, and a
        # failure stores nothing here.
        schedule_id = await self._schedules.create_schedule(
            external_id=staff_member.id, name=staff_member.name, time_zone=staff_member.time_zone, default_capacity=SCHEDULE_CAPACITY
        )
        staff_member = replace(staff_member, schedule_id=schedule_id)
        async with self._store.write(tenant) as session:
            if staff_member.service_ids:
                await session.lock_service_staff()
                await check_services(session, SERVICE_IDS, draft.service_ids)
            stored = replace(await session.insert_staff_member(staff_member), service_ids=staff_member.service_ids)
            await session.announce_staff_member(StaffMemberChange.CREATED, stored)
            if stored.service_ids:
                await set_services_of_staff_member(session, stored.id, stored.service_ids)
        return stored

    async def get(self, tenant: str, staff_member_id: str) -> StaffMember:
        v = Violations()
        v.id("staff_member_id", staff_member_id)
        v.raise_if_any()
        async with self._store.read(tenant) as session:
            staff_member = await session.staff_member(staff_member_id)
        if staff_member is None:
            raise NotFound(RESOURCE, staff_member_id)
        return staff_member

    async def query(self, tenant: str, staff_member_ids: Sequence[str], service_ids: Sequence[str], limit: int, cursor: str) -> StaffMemberPage:
        v = Violations()
        v.ids("staff_member_ids", list(staff_member_ids))
        v.ids("service_ids", list(service_ids))
        where = StaffFilter(staff_member_ids=tuple(sorted(set(staff_member_ids))), service_ids=tuple(sorted(set(service_ids))))
        # The cursor is bound to the tenant and the filters; the page size may change between pages.
        fingerprint = query_fingerprint("bookings.staff.v1.QueryStaffMembers", tenant, where.staff_member_ids, where.service_ids)
        page = self._cursors.add_page(v, limit, cursor, None if v else fingerprint)
        v.raise_if_any()
        assert page is not None
        after = SortKey(*parse_instant_key(page.after)) if page.after is not None else None

        async with self._store.read(tenant) as session:
            rows = await session.query_staff_members(where, after, page.limit + 1)
        return StaffMemberPage(*self._cursors.paginate(rows, page, fingerprint, _key))

    async def update(self, tenant: str, command: UpdateStaffMemberCommand) -> StaffMember:
        check_update_request(command)
        async with self._store.write(tenant) as session:
            current = await session.staff_member(command.staff_member_id)
            if current is None:
                raise NotFound(RESOURCE, command.staff_member_id)
            if current.revision != command.revision:
                # Checked before validating: the change was computed against another version.
                raise RevisionMismatch(RESOURCE, command.staff_member_id, command.revision, current.revision)
            try:
                updated = apply_update(current, command)
            except InvalidArgument as invalid:
                if "service_ids" in command.paths:
                    await check_services(session, SERVICE_IDS, command.patch.service_ids, invalid)
                raise
            if updated == current:
                return current  # nothing changes: no new revision
            relinks = updated.service_ids != current.service_ids
            if relinks:
                # Taken before any row lock. Links changed since `current` was read bumped its
                # revision, so the compare-and-set below refuses a change based on stale links.
                await session.lock_service_staff()
                await check_services(session, SERVICE_IDS, command.patch.service_ids)
            stored = replace(await session.update_staff_member(updated, command.revision), service_ids=updated.service_ids)
            await session.announce_staff_member(StaffMemberChange.UPDATED, stored)
            if relinks:
                await set_services_of_staff_member(session, stored.id, stored.service_ids)
        return stored

    async def delete(self, tenant: str, staff_member_id: str, revision: int) -> None:
        v = Violations()
        v.id("staff_member_id", staff_member_id)
        v.check(revision >= 0, "revision", "must be the current revision, or 0 to delete at any revision")
        v.raise_if_any()
        # The schedule stays in timeframes (it has no delete); without its staff member nothing
        # books its time.
        async with self._store.write(tenant) as session:
            await session.lock_service_staff()
            deleted = await session.delete_staff_member(staff_member_id, revision or None)
            # After the delete locked the row, so that no appointment can be booked in between;
            # raising rolls the delete back.
            if await session.has_future_appointments(staff_member_id, self._clock()):
                raise FailedPrecondition(
                    HAS_FUTURE_APPOINTMENTS,
                    f"staff member {staff_member_id} has PENDING or CONFIRMED appointments that have not ended; cancel or decline them first",
                    {"staff_member_id": staff_member_id},
                )
            deleted = replace(deleted, service_ids=())  # deleting removes its links
            await session.announce_staff_member(StaffMemberChange.DELETED, deleted)
            await set_services_of_staff_member(session, staff_member_id, ())


def _key(staff_member: StaffMember) -> list[object]:
    assert staff_member.created_at is not None  # read back from the database
    return instant_key(staff_member.created_at, staff_member.id)

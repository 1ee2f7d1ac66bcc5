"""Use cases of the service catalog: validate, talk to timeframes, then write in one transaction
(`store.write(tenant)`) the service, its links to staff members and the announcements of every
entity that changed, in the order that keeps a rejected or failed request from leaving anything
behind."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from services.bookings.application.ports import BookingsStore, Schedules, ServiceFilter, SortKey
from services.bookings.application.service_staff import check_staff_members, set_staff_of_service
from services.bookings.domain.services import (
    Service,
    ServiceChange,
    ServiceDraft,
    ServiceType,
    UpdateServiceCommand,
    apply_update,
    check_update_request,
    new_service,
    parse_service_type,
)
from services.common.errors import InvalidArgument, NotFound, RevisionMismatch
from services.common.paging import CursorCodec, instant_key, parse_instant_key, query_fingerprint
from services.common.validation import Violations

RESOURCE = "service"
STAFF_MEMBER_IDS = "service.staff_member_ids"


@dataclass(frozen=True)
class ServicePage:
    services: list[Service]
    next_cursor: str  # empty on the last page

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)


class Catalog:
    def __init__(
        self,
        store: BookingsStore,
        schedules: Schedules,
        cursors: CursorCodec,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ):
        self._store = store
        self._schedules = schedules
        self._cursors = cursors
        self._new_id = new_id

    async def create(self, tenant: str, draft: ServiceDraft) -> Service:
        # Validate completely first: a rejected request must not create a schedule either.
        try:
            service = new_service(draft, self._new_id())
        except InvalidArgument as invalid:
            if draft.staff_member_ids and draft.type not in (ServiceType.CLASS, ServiceType.COURSE):
                # Unknown staff are named with the other bad fields: one round trip fixes all.
                async with self._store.read(tenant) as session:
                    await check_staff_members(session, STAFF_MEMBER_IDS, draft.staff_member_ids, invalid)
            raise
        if service.type.has_schedule:
            # The id is drawn once per request and is the schedule's external_id, so the channel
            # retrying CreateSchedule (declared idempotent) returns the same schedule instead of
            # making a second one. If timeframes is unreachable this raises DependencyUnavailable
            # before anything is stored here, and a client retrying the create starts afresh.
            # The rare leftovers (timeframes created the schedule but its answer was lost, or
            # the insert below fails) are schedules no service references: they hold no events
            # and nothing can be booked on them.
            schedule_id = await self._schedules.create_schedule(
                external_id=service.id,
                name=service.name,
                time_zone=service.time_zone,
                default_capacity=service.default_capacity,
            )
            service = replace(service, schedule_id=schedule_id)
        async with self._store.write(tenant) as session:
            if service.staff_member_ids:
                await session.lock_service_staff()
                await check_staff_members(session, STAFF_MEMBER_IDS, draft.staff_member_ids)
            stored = replace(await session.insert_service(service), staff_member_ids=service.staff_member_ids)
            await session.announce_service(ServiceChange.CREATED, stored)
            if stored.staff_member_ids:
                await set_staff_of_service(session, stored.id, stored.staff_member_ids)
        return stored

    async def get(self, tenant: str, service_id: str) -> Service:
        _require_id("service_id", service_id)
        async with self._store.read(tenant) as session:
            service = await session.service(service_id)
        if service is None:
            raise NotFound(RESOURCE, service_id)
        return service

    async def query(self, tenant: str, service_ids: Sequence[str], types: Sequence[int], limit: int, cursor: str) -> ServicePage:
        v = Violations()
        v.ids("service_ids", list(service_ids))
        parsed = [parse_service_type(v, f"types[{i}]", t) for i, t in enumerate(types)]
        where = ServiceFilter(
            service_ids=tuple(sorted({i.lower() for i in service_ids})),
            types=tuple(sorted({t for t in parsed if t is not None})),
        )
        # The cursor is bound to the tenant and the filters; the page size may change between pages.
        fingerprint = query_fingerprint("bookings.catalog.v1.QueryServices", tenant, where.service_ids, [t.name for t in where.types])
        page = self._cursors.add_page(v, limit, cursor, None if v else fingerprint)
        v.raise_if_any()
        assert page is not None
        after = SortKey(*parse_instant_key(page.after)) if page.after is not None else None

        async with self._store.read(tenant) as session:
            rows = await session.query_services(where, after, page.limit + 1)
        return ServicePage(*self._cursors.paginate(rows, page, fingerprint, _key))

    async def update(self, tenant: str, command: UpdateServiceCommand) -> Service:
        check_update_request(command)
        async with self._store.write(tenant) as session:
            current = await session.service(command.service_id)
            if current is None:
                raise NotFound(RESOURCE, command.service_id)
            if current.revision != command.revision:
                # Checked before validating: the change was computed against another version.
                raise RevisionMismatch(RESOURCE, command.service_id, command.revision, current.revision)
            try:
                updated = apply_update(current, command)
            except InvalidArgument as invalid:
                if "staff_member_ids" in command.paths and current.type is ServiceType.APPOINTMENT:
                    await check_staff_members(session, STAFF_MEMBER_IDS, command.patch.staff_member_ids, invalid)
                raise
            if updated == current:
                return current  # nothing changes: no new revision
            relinks = updated.staff_member_ids != current.staff_member_ids
            if relinks:
                # Taken before any row lock. Links changed since `current` was read bumped its
                # revision, so the compare-and-set below refuses a change based on stale links.
                await session.lock_service_staff()
                await check_staff_members(session, STAFF_MEMBER_IDS, command.patch.staff_member_ids)
            # The store re-checks the revision atomically (UPDATE ... WHERE revision = n), so of
            # two concurrent updates based on the same revision exactly one wins.
            stored = replace(await session.update_service(updated, command.revision), staff_member_ids=updated.staff_member_ids)
            await session.announce_service(ServiceChange.UPDATED, stored)
            if relinks:
                await set_staff_of_service(session, stored.id, stored.staff_member_ids)
        return stored

    async def delete(self, tenant: str, service_id: str, revision: int) -> None:
        v = Violations()
        v.id("service_id", service_id)
        v.check(revision >= 0, "revision", "must be the current revision, or 0 to delete at any revision")
        v.raise_if_any()
        # The schedule of a CLASS or COURSE stays in timeframes (it has no delete); without its
        # service nothing can be booked on it. An APPOINTMENT's links to its staff go with it.
        async with self._store.write(tenant) as session:
            await session.lock_service_staff()
            deleted = replace(await session.delete_service(service_id, revision or None), staff_member_ids=())
            await session.announce_service(ServiceChange.DELETED, deleted)
            await set_staff_of_service(session, service_id, ())


class PolicyProvider:
    """The default bookings.policies.v1.BookingPolicyProvider: policies stored on the services."""

    MAX_IDS = 100

    def __init__(self, store: BookingsStore):
        self._store = store

    async def list(self, tenant: str, service_ids: Sequence[str]) -> list[Service]:
        """The services, in request order; NotFound for the first unknown (or other tenant's) id."""
        v = Violations()
        if not service_ids:
            v.add("service_ids", f"is required: 1..{self.MAX_IDS} service ids")
        v.ids("service_ids", list(service_ids), max_items=self.MAX_IDS)
        v.raise_if_any()
        async with self._store.read(tenant) as session:
            found = await session.services(list(service_ids))
        for service_id in service_ids:
            if service_id.lower() not in found:
                raise NotFound(RESOURCE, service_id)
        return [found[service_id.lower()] for service_id in service_ids]


def _require_id(field: str, value: str) -> None:
    v = Violations()
    v.id(field, value)
    v.raise_if_any()


def _key(service: Service) -> list[object]:
    assert service.created_at is not None  # read back from the database
    return instant_key(service.created_at, service.id)

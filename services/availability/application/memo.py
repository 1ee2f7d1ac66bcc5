"""What never changes for a service's lifetime, remembered in-process: its schedule id and type,
and so the owner of a schedule. Remembering immutable facts is always correct (a deleted
service is caught by the services read every request still makes); bounded LRU."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from services.availability.domain.model import Offering, ServiceType


class ServiceMemo:
    def __init__(self, size: int = 100_000):
        self._size = size
        self._by_service: OrderedDict[tuple[str, str], tuple[str, ServiceType]] = OrderedDict()
        self._by_schedule: OrderedDict[tuple[str, str], str] = OrderedDict()

    def remember(self, tenant: str, offering: Offering) -> None:
        self._put(self._by_service, (tenant, offering.service_id), (offering.schedule_id, offering.type))
        self._put(self._by_schedule, (tenant, offering.schedule_id), offering.service_id)

    def _put(self, memo: OrderedDict, key: tuple[str, str], value: object) -> None:  # type: ignore[type-arg]
        memo[key] = value
        memo.move_to_end(key)
        if len(memo) > self._size:
            memo.popitem(last=False)

    def schedules(self, tenant: str, service_ids: Sequence[str]) -> list[str] | None:
        """The schedule ids of all the services, or None when one is unknown."""
        found = [self._by_service.get((tenant, s)) for s in service_ids]
        if any(f is None for f in found):
            return None
        return [f[0] for f in found if f is not None]

    def service_of(self, tenant: str, schedule_id: str) -> str | None:
        return self._by_schedule.get((tenant, schedule_id))

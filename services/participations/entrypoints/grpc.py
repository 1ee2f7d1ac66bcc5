"""gRPC entrypoints of the participations service: proto -> call the use case (application/participations.py),
domain -> proto. Authentication, the tenant and error mapping are the runtime's
(services/common/server.py); the scope of every method is declared in `rpc_services`."""

from __future__ import annotations

import grpc

from services.api.bookings.participations.v3 import participations_pb2, participations_pb2_grpc
from services.api.common.v1 import paging_pb2
from services.common.auth import current_tenant
from services.common.server import RpcService
from services.participations.application.participations import Participations
from services.participations.mapping import participation_to_proto

READ = "bookings:read"


def rpc_services(participations: Participations) -> list[RpcService]:
    return [
        RpcService(
            ParticipationsServicer(participations),
            participations_pb2.DESCRIPTOR.services_by_name["Participations"],
            {"GetParticipation": READ, "QueryParticipations": READ},
        )
    ]


class ParticipationsServicer(participations_pb2_grpc.ParticipationsServicer):
    def __init__(self, participations: Participations):
        self._participations = participations

    async def GetParticipation(
        self, request: participations_pb2.GetParticipationRequest, context: grpc.aio.ServicerContext
    ) -> participations_pb2.GetParticipationResponse:
        participation = await self._participations.get(current_tenant(), request.participation_id)
        return participations_pb2.GetParticipationResponse(participation=participation_to_proto(participation))

    async def QueryParticipations(
        self, request: participations_pb2.QueryParticipationsRequest, context: grpc.aio.ServicerContext
    ) -> participations_pb2.QueryParticipationsResponse:
        page = await self._participations.query(
            current_tenant(),
            list(request.event_ids),
            list(request.schedule_ids),
            list(request.booking_ids),
            limit=request.cursor_paging.limit,
            cursor=request.cursor_paging.cursor,
        )
        return participations_pb2.QueryParticipationsResponse(
            participations=[participation_to_proto(p) for p in page.participations],
            paging_metadata=paging_pb2.PagingMetadata(
                count=len(page.participations), cursors=paging_pb2.Cursors(next=page.next_cursor), has_next=bool(page.next_cursor)
            ),
        )

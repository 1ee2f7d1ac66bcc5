"""gRPC entrypoints of the participations service.

The foundation hosts the contract so it is visible through reflection; the Kafka consumer,
outbox and event updater arrive with the pipeline issue. Until then the RPCs answer
UNIMPLEMENTED.
"""

from services.api.bookings.participations.v3 import participations_pb2, participations_pb2_grpc
from services.common.server import RpcService


def rpc_services() -> list[RpcService]:
    return [
        RpcService(
            participations_pb2_grpc.ParticipationsServicer(),
            participations_pb2_grpc.add_ParticipationsServicer_to_server,
            participations_pb2.DESCRIPTOR.services_by_name["Participations"],
            {"GetParticipation": "bookings:read", "QueryParticipations": "bookings:read"},
        )
    ]

from pydantic import Field

from services.common.config import ServiceSettings


class ParticipationsSettings(ServiceSettings):
    service_name: str = "participations"
    grpc_port: int = Field(default=50053, ge=1, le=65535)
    timeframes_address: str = "127.0.0.1:50054"

from pydantic import Field

from services.common.config import ServiceSettings


class AvailabilitySettings(ServiceSettings):
    service_name: str = "availability"
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    bookings_address: str = "127.0.0.1:50052"
    timeframes_address: str = "127.0.0.1:50054"

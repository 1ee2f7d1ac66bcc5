from pydantic import Field

from services.common.config import DatabaseSettings, ServiceSettings


class TimeframesSettings(ServiceSettings, DatabaseSettings):
    service_name: str = "timeframes"
    grpc_port: int = Field(default=50054, ge=1, le=65535)

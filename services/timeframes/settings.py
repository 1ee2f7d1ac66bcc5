from pydantic import Field

from services.common.config import DatabaseSettings, KafkaSettings, ServiceSettings


class TimeframesSettings(ServiceSettings, DatabaseSettings, KafkaSettings):
    service_name: str = "timeframes"
    grpc_port: int = Field(default=50054, ge=1, le=65535)

from pydantic import Field

from services.common.config import DatabaseSettings, KafkaSettings, ServiceSettings


class ParticipationsSettings(ServiceSettings, DatabaseSettings, KafkaSettings):
    service_name: str = "participations"
    grpc_port: int = Field(default=50053, ge=1, le=65535)
    # calendar.events.v3.Events: the event updater sets participant totals there.
    timeframes_address: str = "127.0.0.1:50054"
    # Attempts of a message that fails for a reason other than a dependency outage before it goes
    # to the dead-letter topic (outages are retried until the dependency is back).
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)

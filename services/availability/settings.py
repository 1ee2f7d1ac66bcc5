from pydantic import Field

from services.common.config import KafkaSettings, ServiceSettings


class AvailabilitySettings(ServiceSettings, KafkaSettings):
    service_name: str = "availability"
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    bookings_address: str = "127.0.0.1:50052"
    timeframes_address: str = "127.0.0.1:50054"
    # Each of the four reads (docs/booking-policies.md "The four reads") can live elsewhere (the
    # policy SPI may be an external provider); empty means the hosting service's address above.
    services_address: str = ""
    policy_provider_address: str = ""
    events_address: str = ""
    time_frames_address: str = ""

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", pattern=r"^rediss?://")
    # Cache of services, policies, time frames, schedules' events, staff members and their working
    # hours (adapters/cache.py). Entries are dropped by the Kafka events (docs/pipeline.md
    # "Availability's cache") as they happen; the TTL bounds staleness if an event is lost.
    availability_cache_enabled: bool = True
    availability_cache_ttl_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How often feature toggles are re-read from Redis: a change takes effect within this.
    feature_toggle_refresh_seconds: float = Field(default=0.5, gt=0, le=60)
    # AvailabilityCalendar with proxy_course_to_new_endpoint off: also compute the v2 answer and
    # count and log where it differs from the legacy one returned (docs/rollout.md "Shadow
    # comparison").
    availability_shadow_compare: bool = True

    @property
    def addresses(self) -> dict[str, str]:
        return {
            "services": self.services_address or self.bookings_address,
            "policies": self.policy_provider_address or self.bookings_address,
            "events": self.events_address or self.timeframes_address,
            "time_frames": self.time_frames_address or self.timeframes_address,
        }

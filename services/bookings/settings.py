from pydantic import Field

from services.common.config import DatabaseSettings, KafkaSettings, ServiceSettings


class BookingsSettings(ServiceSettings, DatabaseSettings, KafkaSettings):
    service_name: str = "bookings"
    grpc_port: int = Field(default=50052, ge=1, le=65535)
    # calendar.schedules.v3.Schedules: CLASS and COURSE services and staff members get their schedule there.
    timeframes_address: str = "127.0.0.1:50054"
    # bookings.availability.v1.AvailabilityCalendar: CreateBooking (and a party size increase)
    # is validated there.
    availability_address: str = "127.0.0.1:50051"

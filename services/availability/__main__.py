from services.availability.bootstrap import make_build
from services.availability.settings import AvailabilitySettings
from services.common.main import service_main

service_main(AvailabilitySettings, make_build)  # type: ignore[arg-type]

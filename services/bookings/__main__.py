from pathlib import Path

from services.bookings.bootstrap import make_build
from services.bookings.settings import BookingsSettings
from services.common import outbox
from services.common.main import service_main

service_main(BookingsSettings, make_build, migrations=(outbox.MIGRATIONS, Path(__file__).parent / "migrations"))  # type: ignore[arg-type]

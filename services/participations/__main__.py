from pathlib import Path

from services.common import outbox
from services.common.main import service_main
from services.participations.bootstrap import make_build
from services.participations.settings import ParticipationsSettings

service_main(ParticipationsSettings, make_build, migrations=(outbox.MIGRATIONS, Path(__file__).parent / "migrations"))  # type: ignore[arg-type]

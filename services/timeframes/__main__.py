from pathlib import Path

from services.common import outbox
from services.common.main import service_main
from services.timeframes.bootstrap import make_build
from services.timeframes.settings import TimeframesSettings

service_main(TimeframesSettings, make_build, migrations=(outbox.MIGRATIONS, Path(__file__).parent / "migrations"))  # type: ignore[arg-type]

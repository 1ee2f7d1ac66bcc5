"""The event updater's rule for a batch: each target named once, whatever number of changes name
it (its current total covers them all), in the order first named."""

from __future__ import annotations

import pytest

from services.participations.domain.model import Target
from services.participations.domain.totals import ParticipationChanged, targets_to_settle

COURSE, CLASS_A, CLASS_B = Target.schedule("s-1"), Target.event("e-1"), Target.event("e-2")


@pytest.mark.parametrize(
    "named, settled",
    [
        pytest.param([], [], id="nothing-to-settle"),
        pytest.param([COURSE], [COURSE], id="one-change-one-target"),
        pytest.param([COURSE, COURSE, COURSE], [COURSE], id="many-changes-of-a-target-settle-it-once"),
        pytest.param([CLASS_A, COURSE, CLASS_A, CLASS_B], [CLASS_A, COURSE, CLASS_B], id="in-the-order-first-named"),
        pytest.param([Target.event("x"), Target.schedule("x")], [Target.event("x"), Target.schedule("x")], id="an-event-and-a-schedule-never-merge"),
    ],
)
def test_each_target_is_settled_once_per_batch(named: list[Target], settled: list[Target]) -> None:
    assert targets_to_settle(ParticipationChanged(target) for target in named) == settled

"""The event updater's rules: each target named once per batch, whatever number of changes name it
(its current total covers them all), in the order first named; a total timeframes is known to hold
is not sent again."""

from __future__ import annotations

import pytest

from services.participations.domain.model import Target
from services.participations.domain.totals import ParticipationChanged, SettledVersions, TargetTotal, targets_to_settle

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


def test_a_total_timeframes_holds_is_not_sent_again_and_a_newer_one_is() -> None:
    settled = SettledVersions()
    first, newer = TargetTotal(COURSE, 3, 10), TargetTotal(COURSE, 4, 11)
    assert settled.unsettled("t", [first]) == [first]
    settled.held("t", first)
    assert settled.unsettled("t", [first]) == []
    assert settled.unsettled("t", [newer]) == [newer]
    assert settled.unsettled("other tenant", [first]) == [first]


def test_an_older_acknowledgement_never_lowers_what_timeframes_is_known_to_hold() -> None:
    settled = SettledVersions()
    settled.held("t", TargetTotal(COURSE, 4, 11))
    settled.held("t", TargetTotal(COURSE, 3, 10))
    assert settled.unsettled("t", [TargetTotal(COURSE, 4, 11)]) == []


def test_only_the_most_recently_settled_targets_are_remembered() -> None:
    settled = SettledVersions(capacity=2)
    for target in (CLASS_A, CLASS_B, COURSE):
        settled.held("t", TargetTotal(target, 1, 1))
    assert settled.unsettled("t", [TargetTotal(CLASS_A, 1, 1)]) == [TargetTotal(CLASS_A, 1, 1)]  # forgotten: sent once more, then stale
    assert settled.unsettled("t", [TargetTotal(COURSE, 1, 1)]) == []

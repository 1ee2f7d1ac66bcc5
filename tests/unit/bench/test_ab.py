"""The A/B tool's bookkeeping: who runs when, and what is compared with what."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ab import paired_ratios, parse_args, round_order

REPO = str(Path(__file__).resolve().parents[3])


@pytest.mark.parametrize(
    ("round_index", "expected"),
    [(0, ["base", "change"]), (1, ["change", "base"]), (2, ["base", "change"]), (7, ["change", "base"])],
)
def test_variants_take_turns_going_first(round_index: int, expected: list[str]) -> None:
    assert round_order(["base", "change"], round_index) == expected


def test_each_variant_is_compared_with_the_first_one_of_the_same_round() -> None:
    p50s = {"base": [10.0, 8.0, 12.0], "change": [9.0, 8.0, 15.0], "other": [20.0, 4.0, 6.0]}
    assert paired_ratios(p50s) == {"change": [0.9, 1.0, 1.25], "other": [2.0, 0.5, 0.5]}


def test_rounds_of_unequal_length_are_a_bug_not_a_shorter_comparison() -> None:
    with pytest.raises(ValueError):
        paired_ratios({"base": [10.0, 8.0], "change": [9.0]})


def test_variants_and_their_environment_are_parsed() -> None:
    args = parse_args(["--variant", f"base={REPO}", "--variant", f"change={REPO}", "--env", "change:GRPC_EXPERIMENTS=-event_engine_client"])
    assert list(args.variants) == ["base", "change"]
    assert args.variant_env == {"change": {"GRPC_EXPERIMENTS": "-event_engine_client"}}


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--variant", f"base={REPO}"], id="one variant"),
        pytest.param(["--variant", f"base={REPO}", "--variant", "change=/nonexistent"], id="not a checkout"),
        pytest.param(["--variant", f"base={REPO}", "--variant", REPO], id="no name"),
        pytest.param(["--variant", f"base={REPO}", "--variant", f"change={REPO}", "--env", "other:A=1"], id="env of an unknown variant"),
        pytest.param(["--variant", f"base={REPO}", "--variant", f"change={REPO}", "--env", "change:A"], id="env without a value"),
    ],
)
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)

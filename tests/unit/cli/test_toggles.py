"""The pure part of `bookings toggles` (services/cli/toggles.py): how `set` edits a rule, what it
reports as changed, and how `check` explains a decision. The decision and the bucket themselves
are the services' (services/availability/domain/toggles.py), reused, not re-implemented."""

from __future__ import annotations

import pytest

from services.availability.domain.toggles import ToggleRule, bucket
from services.cli import toggles
from services.cli.toggles import Edit, ToggleError


def rule(percentage: int = 0, allow: tuple[str, ...] = (), deny: tuple[str, ...] = ()) -> ToggleRule:
    return ToggleRule(percentage, frozenset(allow), frozenset(deny))


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        pytest.param(rule(10, ("a",), ("b",)), Edit(percentage=50), rule(50, ("a",), ("b",)), id="percentage only: the lists stay"),
        pytest.param(rule(10, ("a",)), Edit(allow=("c",)), rule(10, ("a", "c")), id="allow adds"),
        pytest.param(rule(10, (), ("b",)), Edit(allow=("b",)), rule(10, ("b",)), id="allowing a denied tenant takes it off the deny list"),
        pytest.param(rule(10, ("a",)), Edit(deny=("a",)), rule(10, (), ("a",)), id="denying an allowed tenant takes it off the allow list"),
        pytest.param(rule(10, ("a",), ("b",)), Edit(remove=("a", "b")), rule(10), id="remove: off both lists, the percentage decides again"),
        pytest.param(rule(10, ("a", "b")), Edit(clear_allow=True, allow=("c",)), rule(10, ("c",)), id="clear then add replaces the allow list"),
        pytest.param(rule(10, ("a",), ("b", "c")), Edit(clear_deny=True), rule(10, ("a",)), id="clear deny"),
        pytest.param(rule(), Edit(percentage=100, allow=("a",)), rule(100, ("a",)), id="from not set (off)"),
    ],
)
def test_edit(before: ToggleRule, change: Edit, after: ToggleRule) -> None:
    change.validate()
    assert toggles.edit(before, change) == after


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(Edit(), "nothing to change", id="no change asked"),
        pytest.param(Edit(percentage=101), "--percentage: 101 is not within 0..100", id="percentage above 100"),
        pytest.param(Edit(percentage=-1), "--percentage: -1 is not within 0..100", id="percentage below 0"),
        pytest.param(Edit(allow=("a",), deny=("a",)), "a given to both --allow and --deny", id="allow and deny the same tenant"),
        pytest.param(Edit(deny=("a",), remove=("a",)), "a given to both --deny and --remove", id="deny and remove the same tenant"),
        pytest.param(Edit(allow=(" ",)), "--allow: a tenant id cannot be empty", id="empty tenant"),
    ],
)
def test_edit_refuses(change: Edit, message: str) -> None:
    with pytest.raises(ToggleError, match=message):
        change.validate()


@pytest.mark.parametrize(
    ("old", "new", "lines"),
    [
        pytest.param(None, rule(5), ["percentage: (not set) → 5"], id="a toggle set for the first time"),
        pytest.param(rule(10), rule(50), ["percentage: 10 → 50"], id="percentage"),
        pytest.param(rule(10, ("a",)), rule(10, ("a", "b")), ["allow: a → a, b  (+b)"], id="a tenant allowed"),
        pytest.param(
            rule(10, ("a",), ("b",)),
            rule(10, ("b",)),
            ["allow: a → b  (+b -a)", "deny: b → (none)  (-b)"],
            id="a tenant moved from deny to allow",
        ),
        pytest.param(rule(10, ("a",)), rule(10, ("a",)), [], id="nothing changed"),
    ],
)
def test_changes_print_old_and_new(old: ToggleRule | None, new: ToggleRule, lines: list[str]) -> None:
    assert [str(c) for c in toggles.changes(old, new)] == lines


def test_explain_uses_the_services_decision_and_bucket() -> None:
    name, tenant = "course_availability_enabled", "tenant-x"
    b = bucket(name, tenant)

    assert toggles.explain(name, tenant, None) == toggles.Decision(name, tenant, False, b, None, "the toggle is not set (off for every tenant)")
    assert toggles.explain(name, tenant, rule(0, allow=(tenant,))).why == "the tenant is on the allow list"
    denied = toggles.explain(name, tenant, rule(100, deny=(tenant,)))
    assert (denied.enabled, denied.why) == (False, "the tenant is on the deny list")
    on = toggles.explain(name, tenant, rule(b + 1))
    assert (on.enabled, on.why) == (True, f"bucket {b} is below the percentage {b + 1}")
    off = toggles.explain(name, tenant, rule(b))
    assert (off.enabled, off.why) == (False, f"bucket {b} is not below the percentage {b}")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        pytest.param("course_availability_enabled", True, id="known"),
        pytest.param("proxy_course_to_new_endpoint", True, id="known too"),
        pytest.param("course_availability", False, id="a prefix is not a name"),
    ],
)
def test_check_name(name: str, ok: bool) -> None:
    if ok:
        assert toggles.check_name(name) == name
    else:
        with pytest.raises(ToggleError, match="known toggles: course_availability_enabled, proxy_course_to_new_endpoint"):
            toggles.check_name(name)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("redis://127.0.0.1:56379/0", "redis://127.0.0.1:56379/0", id="no password"),
        pytest.param("redis://user:s3cret@redis.internal:6379/1", "redis://user:***@redis.internal:6379/1", id="password hidden"),
        pytest.param("rediss://:s3cret@redis.internal/0", "rediss://:***@redis.internal/0", id="password only"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert toggles.redact(url) == shown

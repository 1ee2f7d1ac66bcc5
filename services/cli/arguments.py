"""Argument types shared by the CLI's commands: a bad value is refused by argparse with a message
naming it, before anything is called."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import date
from typing import Any

# How a command group adds one command: leaf(group, name, handler, help) -> its parser (services/cli/main.py).
Leaf = Callable[[Any, str, Callable[[Any], None], str], argparse.ArgumentParser]


def whole_number(text: str, *, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive" if minimum == 1 else f"{text!r} must be {minimum} or more")
    return value


def positive_int(text: str) -> int:
    return whole_number(text, minimum=1)


def non_negative_int(text: str) -> int:
    return whole_number(text, minimum=0)


def local_date(text: str) -> date:
    """A local date `YYYY-MM-DD` (the zone comes from elsewhere: an option, the schedule, the service)."""
    value = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-12-24")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date: {exc}") from None

"""Timed plans: the stage sequences the Endpoints and Spaces areas play instead of running anything.

A plan is ``((stage, seconds), ..., (final_stage, None))``. An object keeps its plan and the monotonic
time it started; its stage at any moment is derived from the time elapsed since (:func:`stage_at`), so
tests control timings without background threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Plan = tuple[tuple[str, float | None], ...]


def parse_plan(transitions: Iterable[Sequence[Any]], *, known: Sequence[str], what: str) -> Plan:
    """``transitions`` as a plan, checked: each stage one of ``known``, every step but the last with a
    duration in seconds, the last one (``None``) final. ``what`` names the stages in errors."""
    steps = [tuple(step) for step in transitions]
    if any(len(step) != 2 for step in steps):
        raise ValueError(f"each transition is a (stage, seconds or None) pair; got {steps!r}")
    plan = tuple((str(stage), None if after is None else float(after)) for stage, after in steps)
    if not plan:
        raise ValueError("transitions must not be empty")
    unknown = [stage for stage, _ in plan if stage not in known]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; expected one of {', '.join(known)}")
    if any(after is None for _, after in plan[:-1]):
        raise ValueError(f"only the last transition may have no duration; got {steps!r}")
    if any(after is not None and after < 0 for _, after in plan):
        raise ValueError(f"durations must not be negative; got {steps!r}")
    return plan


def stage_at(plan: Plan, elapsed: float) -> str:
    """The stage ``elapsed`` seconds after ``plan`` started (the last one once every step is over)."""
    for stage, duration in plan:
        if duration is None or elapsed < duration:
            return stage
        elapsed -= duration
    return plan[-1][0]


def reached(plan: Plan, elapsed: float, stage: str) -> bool:
    """Whether a step of ``plan`` in ``stage`` has begun ``elapsed`` seconds after the plan started."""
    start = 0.0
    for step, duration in plan:
        if start > elapsed:
            return False
        if step == stage:
            return True
        if duration is None:
            return False
        start += duration
    return False

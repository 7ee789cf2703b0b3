"""Checks of operator arguments shared by every Hub area: each raises ``ValueError`` naming the field and value.

They run on rendered values before any network call, so a template that renders to ``"false"`` or ``"3"``
is judged as what it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def check_bool(value: Any, field_name: str) -> bool:
    """``value`` if it is ``True`` or ``False``: ``"false"`` (a rendered template, say) would be truthy."""
    if not isinstance(value, bool):
        raise ValueError(f"{field_name} must be true or false; got {value!r}")
    return value


def check_whole_number(
    value: Any, field_name: str, *, minimum: int = 1, optional: bool = False
) -> int | None:
    """``value`` as a whole number >= ``minimum`` (a rendered digit string counts); ``None`` passes when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{field_name} must be a whole number >= {minimum}; got {value!r}")
    return value


def check_names(value: Any, field_name: str) -> list[str]:
    """``value`` as a list of non-empty strings (users, orgs, domains); one string is a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{field_name} must be a list of non-empty strings; got {value!r}")
    return list(value)


def check_patterns(value: Any, field_name: str) -> list[str]:
    """``value`` as a list of globs (``allow_patterns`` and the like); one glob is a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"{field_name} must be a glob or a list of globs; got {value!r}")

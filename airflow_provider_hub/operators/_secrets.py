"""Secret environment variables of Jobs and Endpoints: checked without showing a value, masked in task logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def check_secrets(secrets: Any, *, owner: str | None = None) -> None:
    """Raise ``ValueError`` unless ``secrets`` is ``None`` or a dict of str to str.

    The message names the offending key and the type of its value, never a value.

    :param owner: prefix of the message, e.g. the task id.
    """
    if secrets is None:
        return
    prefix = f"{owner}: " if owner else ""
    if not isinstance(secrets, Mapping):
        raise ValueError(
            f"{prefix}secrets must be a dict of str to str; got a {type(secrets).__name__} (values not shown)"
        )
    for key, value in secrets.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(
                f"{prefix}secrets must be a dict of str to str; secrets[{key!r}] is a "
                f"{type(value).__name__} (values not shown)"
            )


def mask_secrets(secrets: Mapping[str, str] | None) -> None:
    """Register every value of ``secrets`` with Airflow's masker, so task logs show ``***`` instead."""
    from airflow.sdk.log import mask_secret

    for value in (secrets or {}).values():
        mask_secret(value)

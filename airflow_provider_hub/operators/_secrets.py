"""Secret environment variables of Jobs and Endpoints: checked without showing a value, masked in task logs.

``secrets`` is a template field, so at DAG parse time it may still be a Jinja string
(``"{{ var.json.job_secrets }}"``) or an ``XComArg``: :func:`check_secrets_argument` checks only what is
already known then, and :func:`rendered_secrets` checks what rendering produced, before any use.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

#: What marks a string as a Jinja template that Airflow renders before ``execute``.
_JINJA_MARKERS = ("{{", "{%")


def _is_rendered_later(value: Any) -> bool:
    """Whether Airflow replaces ``value`` when it renders the task: a Jinja string, an XComArg, a DAG param."""
    # ResolveMixin is what Airflow's templater resolves at run time (XComArg, DagParam, mapped arguments).
    from airflow.sdk.definitions._internal.mixins import ResolveMixin

    if isinstance(value, ResolveMixin):
        return True
    return isinstance(value, str) and any(marker in value for marker in _JINJA_MARKERS)


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


def check_secrets_argument(secrets: Any, *, owner: str) -> None:
    """The parse-time check of an operator's ``secrets`` argument: a literal dict is checked now; a template,
    an XComArg, or a dict with such values is left to :func:`rendered_secrets` at run time."""
    if _is_rendered_later(secrets):
        return
    if isinstance(secrets, Mapping):
        secrets = {key: value for key, value in secrets.items() if not _is_rendered_later(value)}
    check_secrets(secrets, owner=owner)


def rendered_secrets(secrets: Any, *, owner: str | None = None) -> dict[str, str] | None:
    """The rendered ``secrets`` field as a dict of str to str, each value registered with Airflow's masker.

    A template renders to a string unless the DAG sets ``render_template_as_native_obj=True``: a string
    holding a JSON object, or the Python form of a dict (what ``{{ var.json.name }}`` renders to), is
    read as that dict.

    :raises ValueError: naming the field and what is wrong, never a value.
    """
    if isinstance(secrets, str):
        secrets = _parse_rendered_string(secrets, owner=owner)
    check_secrets(secrets, owner=owner)
    if secrets is None:
        return None
    mask_secrets(secrets)
    return dict(secrets)


def _parse_rendered_string(text: str, *, owner: str | None) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        prefix = f"{owner}: " if owner else ""
        # The exception raised by the parsers quotes the text: it is not chained, the text may be a secret.
        raise ValueError(
            f"{prefix}secrets must render to a dict of str to str (or its JSON); it rendered to a string that "
            "is neither (value not shown)"
        ) from None


def mask_secrets(secrets: Mapping[str, str] | None) -> None:
    """Register every value of ``secrets`` with Airflow's masker, so task logs show ``***`` instead."""
    from airflow.sdk.log import mask_secret

    for value in (secrets or {}).values():
        mask_secret(value)

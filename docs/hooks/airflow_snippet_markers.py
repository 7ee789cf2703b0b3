"""MkDocs hook: let ``pymdownx.snippets`` sections use Airflow's ``# [START name]`` / ``# [END name]`` markers.

Airflow's own providers mark the parts of example DAGs that the docs include with these comments;
``pymdownx.snippets`` only knows ``--8<-- [start:name]``. With this hook,
``--8<-- "example_dags/x.py:name"`` includes the lines between ``# [START name]`` and ``# [END name]``,
and a missing file or section still fails the build (``check_paths: true``).
"""

from __future__ import annotations

import re
from typing import Any

from pymdownx.snippets import SnippetPreprocessor

AIRFLOW_MARKER = re.compile(r"^\s*#\s*\[(?P<type>START|END)\s+(?P<name>[A-Za-z][-_0-9A-Za-z]*)\]\s*$")
_native_match_section = SnippetPreprocessor.match_section


class _AirflowMarker:
    """Answers ``group()`` the way a match of ``pymdownx``'s own section marker does."""

    def __init__(self, match: re.Match[str]) -> None:
        self._groups = {"type": match["type"].lower(), "name": match["name"], "escape": ""}

    def group(self, name: str) -> str:
        return self._groups[name]


def _match_section(self: SnippetPreprocessor, line: str) -> Any:
    marker = AIRFLOW_MARKER.match(line)
    return _AirflowMarker(marker) if marker else _native_match_section(self, line)


def on_config(config: Any) -> Any:
    SnippetPreprocessor.match_section = _match_section  # type: ignore[method-assign]
    return config

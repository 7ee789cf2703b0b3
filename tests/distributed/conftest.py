"""The distributed test runs only from ``make test-distributed`` (which sets ``HUB_DISTRIBUTED_TEST=1`` and
uses ``.venv-distributed``, with the Celery provider and a PostgreSQL driver); ``make test`` skips this folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

collect_ignore_glob = [] if os.environ.get("HUB_DISTRIBUTED_TEST") == "1" else ["test_*.py"]

OUTPUT = Path(os.environ.get("HUB_DISTRIBUTED_OUTPUT", Path(__file__).resolve().parent / "output"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    summary = OUTPUT / "summary.md"
    if os.environ.get("HUB_DISTRIBUTED_TEST") == "1" and summary.exists():
        terminalreporter.write_sep("=", f"distributed test figures ({summary})")
        terminalreporter.write_line(summary.read_text())

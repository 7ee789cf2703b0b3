"""Scanning an Airflow run for its secrets: every place the run wrote text, and each occurrence in context.

A run's places are its task logs (log files, or the console for ``dag.test()`` and ``airflow dags test``,
which write no log files), everything it printed, every row of the ``xcom`` and
``rendered_task_instance_fields`` tables of its metadata database, and the exception texts of failed tasks
(:func:`exception_texts`).
The secrets are distinctive values (:func:`distinctive_secret`), so any occurrence is a leak. A scan also
fails when a place is empty: scanning the wrong database or log folder must not pass.

``dag.test()`` and ``airflow dags test`` print task logs without the ``mask_logs`` step a worker's task log
goes through. Where no DAG code prints a secret, their output is scanned as printed: then the provider must
not write a secret at all, not merely have it masked, and that output is what ``make demo`` users read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The metadata tables holding what tasks returned and what their templates rendered to.
SCANNED_TABLES = ("xcom", "rendered_task_instance_fields")


def distinctive_secret(kind: str) -> str:
    """A secret value that cannot occur by chance, e.g. ``jobsecret-4f1c...``."""
    return f"{kind}-{uuid.uuid4().hex}"


def database_texts(db_url: str) -> dict[str, list[str]]:
    """``{table: [row as text, ...]}``: every row of the :data:`SCANNED_TABLES` of the database at ``db_url``.

    Plain SQL on the stored columns, so a subprocess run's database (its SQLite file, read after the run)
    is read the same way as this process's own.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {
                table: [
                    "\t".join(str(column) for column in row)
                    for row in connection.execute(text(f"SELECT * FROM {table}"))
                ]
                for table in SCANNED_TABLES
            }
    finally:
        engine.dispose()


def log_file_texts(*paths: Path) -> list[str]:
    """The text of each file in ``paths`` and of every file under those that are folders."""
    files = [file for path in paths for file in ([path] if path.is_file() else sorted(path.rglob("*")))]
    return [file.read_text(errors="replace") for file in files if file.is_file()]


def dag_test_places(captured: Any) -> dict[str, list[str]]:
    """The places of this process's ``dag.test()`` runs; ``captured`` is ``capfd.readouterr()``.

    ``dag.test()`` writes each task's log to the console, not to files: the captured output holds them.
    """
    from airflow.configuration import conf

    return {
        "console output (the task logs of dag.test())": [captured.out, captured.err],
        **database_texts(conf.get("database", "sql_alchemy_conn")),
    }


def exception_texts(error: BaseException) -> list[str]:
    """Every text a failure shows where it is reported: its message, its repr, and its whole traceback with
    the exceptions it was raised from (a client error quoting a request header shows up there)."""
    import traceback

    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def leak_contexts(places: Mapping[str, Sequence[str]], secrets: Mapping[str, str]) -> list[str]:
    """Each occurrence of a secret with the text around it, so a failure says where it showed up."""
    lines = []
    for place, texts in places.items():
        for text in texts:
            for name, value in secrets.items():
                start = text.find(value)
                while start != -1:
                    lines.append(f"{name} in {place}: ...{text[max(0, start - 300) : start + 80]}...")
                    start = text.find(value, start + 1)
    return lines


def assert_no_secret_in(places: Mapping[str, Sequence[str]], secrets: Mapping[str, str]) -> None:
    """No secret occurs in any place, and every place had something to scan."""
    assert all(secrets.values()), "an empty secret would match everywhere"
    empty = [place for place, texts in places.items() if not any(texts)]
    assert not empty, f"nothing to scan in {empty}: the scan would pass whatever leaked"
    leaks = leak_contexts(places, secrets)
    assert not leaks, f"{len(leaks)} secret occurrence(s):\n" + "\n".join(leaks)

"""``benchmarks/run_all.py`` reports only what this run measured: no figures from an earlier run's files.

Runs the real runner (a subprocess, as ``make bench`` does) on a temporary results dir holding stale files
of earlier runs: one benchmark really runs (dag_parse at its quick size, about 10 s), one is made to fail
before it writes anything, one is not selected.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).parents[2] / "benchmarks" / "run_all.py"
STALE_FIGURE = "figure-from-an-earlier-run"


def write_stale_result(results_dir: Path, name: str) -> None:
    """A result file as an earlier run left it: complete, met, but another run's id."""
    (results_dir / f"{name}.json").write_text(
        json.dumps(
            {
                "benchmark": name,
                "run_id": "an-earlier-run",
                "rows": [{"figure": STALE_FIGURE}],
                "headline": {"figures": {"figure": STALE_FIGURE}, "target": "stale target", "met": True},
                "met": True,
            }
        )
    )


def summary_rows(stdout: str) -> dict[str, dict[str, str]]:
    """``{benchmark: {column: cell}}`` from the summary table at the end of the runner's output."""
    header, rule, *lines = stdout.split("=== summary", 1)[1].splitlines()[1:]
    # Columns are runs of dashes in the rule line; a cell is the text above/below its dashes.
    spans = [(match.start(), match.end()) for match in re.finditer(r"-+", rule)]
    columns = [header[start:end].strip() for start, end in spans]
    rows = [
        {column: line[start:end].strip() for column, (start, end) in zip(columns, spans, strict=True)}
        for line in lines
    ]
    return {row["benchmark"]: row for row in rows if row["benchmark"]}


@pytest.mark.slow
def test_summary_shows_only_this_runs_results(tmp_path: Path) -> None:
    for name in ("dag_parse", "job_log_latency", "emulator_lfs_upload"):
        write_stale_result(tmp_path, name)

    runner = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "--quick",
            "--only",
            "dag_parse,job_log_latency",
            # An option job_log_latency.py does not know: it exits 2 before measuring anything.
            "--options",
            "job_log_latency=--no-such-option",
            "--results-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert runner.returncode == 1, runner.stdout + runner.stderr
    rows = summary_rows(runner.stdout)
    assert set(rows) == {
        "dag_parse",
        "pytest_plugin_import",
        "emulator_lfs_upload",
        "upload_folder",
        "republish",
        "large_folder",
        "download",
        "triggerer_scale",
        "webhook_ingestion",
        "access_triage",
        "job_log_latency",
    }
    assert rows["dag_parse"]["status"] == "ok"
    assert rows["dag_parse"]["headline"].startswith("our operators add (ms):")
    assert rows["dag_parse"]["met"] in {"met", "NOT met"}
    assert rows["job_log_latency"]["status"] == "FAILED (exit 2)"
    assert rows["emulator_lfs_upload"]["status"] == "not run"
    for name in ("job_log_latency", "emulator_lfs_upload", "upload_folder"):
        assert [rows[name][column] for column in ("headline", "target", "met")] == ["-", "-", "-"], rows[name]
    assert STALE_FIGURE not in runner.stdout.split("=== summary", 1)[1]

    fresh = json.loads((tmp_path / "dag_parse.json").read_text())
    assert fresh["run_id"] != "an-earlier-run" and fresh["options"] == ["--runs", "1"]
    assert set(fresh["headline"]) == {"figures", "target", "met"}

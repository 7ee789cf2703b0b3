"""``make demo`` end to end: the demo module runs the example publishing DAG with real Airflow
(``airflow db migrate`` + ``airflow dags test`` subprocesses) on the embedded emulator and prints a summary.

The run's secret is the emulator's token, which ``airflow dags test`` gets in its Hub connection: it must show
nowhere the run wrote (``tests.secrets_scan``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_hub.demo import DAG_ID
from airflow_provider_hub.testing import DEFAULT_TOKEN
from tests.secrets_scan import assert_no_secret_in, database_texts, log_file_texts

EXPECTED_TASKS = {
    "create_repo",
    "train",
    "package",
    "upload",
    "tag_release",
    "deploy",
    "choose_provider",
    "report",
}


@pytest.mark.e2e
@pytest.mark.slow
def test_demo_publishes_and_prints_a_summary(tmp_path: Path) -> None:
    output = tmp_path / "demo_output"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "HF_"))}
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_hub.demo", "--output", str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, f"demo failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    out = result.stdout

    assert "embedded Hub emulator" in out
    run_line = re.search(r"^DAG run (\S+): (\w+)$", out, re.MULTILINE)
    assert run_line is not None and run_line.group(2) == "success", out
    task_lines = dict(re.findall(r"^  (\w+)\s+(\w+)\s+[\d.]+s$", out, re.MULTILINE))
    assert set(task_lines) == EXPECTED_TASKS, out
    assert set(task_lines.values()) == {"success"}, out

    commit = re.search(
        r"^Commit:\s+(http://127\.0\.0\.1:\d+/alice/airflow-provider-hub-demo/commit/([0-9a-f]{40}))$",
        out,
        re.MULTILINE,
    )
    assert commit is not None, out
    assert re.search(rf"^Release:\s+tag v\d{{8}} on {commit.group(2)}$", out, re.MULTILINE), out
    # The commit URL the summary shows is the one the DAG's own report task printed in its log.
    full_log = output / "dags_test.log"
    assert f"Published alice/airflow-provider-hub-demo: {commit.group(1)}" in full_log.read_text()
    assert f"Full logs: {full_log}" in out
    assert DAG_ID in full_log.read_text()
    # The Job that trained the model, its last log lines, the Endpoint serving it and the chosen provider.
    assert re.search(
        r"^Job:\s+[0-9a-f]{24} \(COMPLETED\) http://127\.0\.0\.1:\d+/jobs/alice/", out, re.MULTILINE
    )
    assert "          | trained on 400 samples: accuracy " in out
    assert re.search(r"^Endpoint: http://127\.0\.0\.1:\d+/\S+ \(running\)", out, re.MULTILINE), out
    assert re.search(r"^Provider: nebius$", out, re.MULTILINE), out
    assert "HTTP Request:" not in out
    # The waits went through the triggerer path: the Job and the Endpoint tasks deferred.
    deferred = re.findall(r"Pausing task as DEFERRED\..*task_id=(\w+)", full_log.read_text())
    assert {"train", "deploy"} <= set(deferred), deferred

    # `airflow dags test` writes every task's log to its output (dags_test.log), no log files; the
    # database is the run's SQLite file, read now that the run is over.
    home = output / "airflow_home"
    places = {
        "demo output": [result.stdout, result.stderr],
        "airflow CLI output (the task logs)": log_file_texts(
            output / "db_migrate.log", full_log, home / "logs"
        ),
        **database_texts(f"sqlite:///{home / 'airflow.db'}"),
    }
    assert_no_secret_in(places, {"token": DEFAULT_TOKEN})

"""Installed without the ``amazon`` extra, the S3 transfers fail to parse saying which extra to install.

A real environment without the Amazon provider: a virtual environment made with uv from its cache
(``--offline``: the packages this suite's own environment was installed from, minus the Amazon provider).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Runs in the environment without the Amazon provider: the module imports, the DAG file does not parse.
PROBE = textwrap.dedent(
    """
    import importlib.util, json, runpy, sys
    from airflow.sdk.exceptions import AirflowOptionalProviderFeatureException

    assert importlib.util.find_spec("airflow.providers.amazon") is None
    import airflow_provider_hub.transfers.hub_to_s3, airflow_provider_hub.transfers.s3_to_hub
    from airflow_provider_hub.operators.repo import HfUploadFolderOperator

    HfUploadFolderOperator(task_id="publish", repo_id="alice/m", folder_path="out")  # the rest works
    try:
        runpy.run_path(sys.argv[1])
    except AirflowOptionalProviderFeatureException as exc:
        print(json.dumps({"parsed": False, "error": str(exc)}))
    else:
        print(json.dumps({"parsed": True}))
    """
)

DAG_FILE = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_hub.transfers.{module} import {operator}

with DAG("mirror", schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
    {operator}(task_id="copy", s3_bucket="warehouse", repo_id="alice/m")
"""


@pytest.fixture(scope="module")
def python_without_amazon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("no-amazon") / "venv"
    uv = [sys.executable, "-m", "uv"]
    frozen = subprocess.run(
        [*uv, "pip", "freeze", "--python", sys.executable], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    pins = [line for line in frozen if not line.startswith("-e") and "amazon" not in line]
    constraints = venv.parent / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    airflow = next(line for line in pins if line.startswith("apache-airflow=="))
    subprocess.run([*uv, "venv", "--quiet", str(venv), "--python", sys.executable], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*uv, "pip", "install", "--quiet", "--offline", "--python", str(python), "-e", str(REPO), airflow,
         "--constraint", str(constraints)],
        check=True,
    )  # fmt: skip
    return python


@pytest.mark.parametrize(
    ("module", "operator"), [("s3_to_hub", "S3ToHfHubOperator"), ("hub_to_s3", "HfHubToS3Operator")]
)
def test_a_dag_with_an_s3_transfer_fails_to_parse_naming_the_extra(
    python_without_amazon: Path, tmp_path: Path, module: str, operator: str
) -> None:
    dag_file = tmp_path / "mirror.py"
    dag_file.write_text(DAG_FILE.format(module=module, operator=operator))
    probe = subprocess.run(
        [str(python_without_amazon), "-c", PROBE, str(dag_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr
    outcome = json.loads(probe.stdout.strip().splitlines()[-1])
    assert outcome == {
        "parsed": False,
        "error": f"{operator} needs the Amazon provider: pip install 'airflow-provider-hub[amazon]'",
    }

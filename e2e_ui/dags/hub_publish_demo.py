"""The DAG the browser test opens in the Airflow UI: one folder upload to the Hub, one commit.

The browser test runs it with ``airflow dags test hub_publish_demo --conf '{"repo_id": "alice/x"}'``
against the Hub emulator, then looks at the ``publish`` task instance in the UI.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_hub.operators.repo import HfUploadFolderOperator


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"repo_id": Param(type="string", description="Model repo to publish to, e.g. alice/demo")},
    tags=["e2e-ui"],
)
def hub_publish_demo():
    @task
    def write_model_card() -> str:
        folder = Path(tempfile.mkdtemp(prefix="e2e_ui_model_"))
        (folder / "README.md").write_text("# e2e-ui demo\n\nPublished by the Airflow UI browser test.\n")
        (folder / "config.json").write_text('{"model_type": "demo"}\n')
        return str(folder)

    HfUploadFolderOperator(
        task_id="publish",
        repo_id="{{ params.repo_id }}",
        folder_path=write_model_card(),
        commit_message="Publish from the e2e-ui demo",
        create_repo=True,
    )


hub_publish_demo()

"""OpenLineage: the real OpenLineage provider's events, captured by its file transport, for example DAGs run
with ``airflow dags test`` (one fresh Airflow for the module), against the emulator and moto's S3 server.

Each test asserts the datasets of the events: inputs, outputs and their version (the commit sha), the Job's
run facet, and that the Hub namespace is the emulator's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "example_dags"


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow of its own (the OpenLineage listener loads with the plugins, at start), migrated once."""
    home = tmp_path_factory.mktemp("lineage_airflow_home")
    airflow(home, {}, "db", "migrate")
    return home


def airflow(home: Path, env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    environment = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **env,
    }
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"airflow {' '.join(args)}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def lineage_of_run(home: Path, dag_id: str, env: dict[str, str], tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Run ``dag_id`` with OpenLineage on; the COMPLETE event of each task, by task id."""
    events_file = tmp_path / "openlineage.jsonl"
    transport = {"type": "file", "log_file_path": str(events_file), "append": True}
    airflow(
        home,
        {
            **env,
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "t",
        },
        "dags",
        "test",
        dag_id,
    )
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    complete = {}
    for event in events:
        _, _, task_id = event["job"]["name"].partition(".")
        if event["eventType"] == "COMPLETE" and task_id:
            complete[task_id] = event
    return complete


def datasets(event: dict[str, Any], kind: str) -> list[tuple[str, str, str | None]]:
    """``(namespace, name, version)`` of an event's ``inputs`` or ``outputs``."""
    return [
        (d["namespace"], d["name"], d.get("facets", {}).get("version", {}).get("datasetVersion"))
        for d in event[kind]
    ]


def test_publishing_example_reports_its_job_commit_tag_and_served_model(
    airflow_home: Path, subprocess_hub: Any, tmp_path: Path
) -> None:
    from huggingface_hub import HfApi

    from airflow_provider_hub.demo import seed_emulator
    from airflow_provider_hub.testing._client import client_environment

    seed_emulator(subprocess_hub)
    env = {
        **client_environment(subprocess_hub.url, str(tmp_path / "hf_home")),
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": subprocess_hub.connection_uri(),
        "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",  # the Job and the Endpoint wait resume after a trigger
    }
    events = lineage_of_run(airflow_home, "example_publish_model", env, tmp_path)

    api = HfApi(endpoint=subprocess_hub.url, token=subprocess_hub.token)
    repo = f"{subprocess_hub.user}/airflow-provider-hub-demo"
    head = api.model_info(repo).sha
    hub = f"hf://{subprocess_hub.url.removeprefix('http://')}"
    model = (hub, f"models/{repo}")
    assert datasets(events["create_repo"], "outputs") == [(*model, None)]
    assert datasets(events["upload"], "outputs") == [(*model, head)]
    assert datasets(events["tag_release"], "outputs") == [(*model, head)]
    # The Endpoint serves the released commit: the model at that version is the deploy's input.
    assert datasets(events["deploy"], "inputs") == [(*model, head)]
    [job] = api.list_jobs(namespace=subprocess_hub.user)
    job_facet = events["train"]["run"]["facets"]["hfJob"]
    assert (job_facet["jobId"], job_facet["url"]) == (
        job.id,
        f"{subprocess_hub.url}/jobs/{job.owner.name}/{job.id}",
    )
    assert job_facet["_schemaURL"].endswith("docs/lineage.md#hfjob")


def test_s3_mirror_reports_s3_in_the_commit_out_and_back(
    airflow_home: Path, hub_connection: Any, s3_server: tuple[Any, str], tmp_path: Path
) -> None:
    import pendulum
    from huggingface_hub import HfApi

    s3, s3_url = s3_server
    s3.create_bucket(Bucket="acme-exports")
    today = pendulum.now("UTC").to_date_string()
    s3.put_object(Bucket="acme-exports", Key=f"reviews/{today}/part-0.csv", Body=b"text,label\ngood,pos\n")
    aws = {"conn_type": "aws", "extra": {"region_name": "us-east-1", "endpoint_url": s3_url}}
    env = {
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": hub_connection.connection_uri(),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
    }
    events = lineage_of_run(airflow_home, "example_s3_mirror", env, tmp_path)

    head = HfApi(endpoint=hub_connection.url, token=hub_connection.token).dataset_info("acme/reviews").sha
    reviews = (f"hf://{hub_connection.url.removeprefix('http://')}", "datasets/acme/reviews", head)
    assert datasets(events["s3_to_hub"], "inputs") == [("s3://acme-exports", f"reviews/{today}", None)]
    assert datasets(events["s3_to_hub"], "outputs") == [reviews]
    # The archive reads the commit it copies (not a temporary file) and writes under its prefix.
    assert datasets(events["hub_to_s3"], "inputs") == [reviews]
    assert datasets(events["hub_to_s3"], "outputs") == [("s3://acme-exports", f"published/{head}", None)]
    archived = s3.list_objects_v2(Bucket="acme-exports", Prefix=f"published/{head}/")["Contents"]
    assert [o["Key"] for o in archived] == [f"published/{head}/data/{today}/part-0.csv"]


HOOK_DAG = '''
import pendulum
from airflow.sdk import DAG, task

from airflow_provider_hub.assets import hf_asset

with DAG("hook_lineage", schedule=None, start_date=pendulum.datetime(2026, 1, 1)):

    @task(outlets=[hf_asset("alice/declared")])
    def declared():
        """Nothing but a declared outlet: the hf:// converter names it (this task runs first, so the hook
        lineage of the next one, collected in the same process by `dags test`, is not yet there)."""

    @task
    def copy_config():
        from huggingface_hub import CommitOperationAdd

        from airflow_provider_hub.hooks.hub import HfHubHook

        hook = HfHubHook()
        source = hook.repo_head("alice/source")
        local = hook.download_file("alice/source", "config.json", revision=source)
        operations = [CommitOperationAdd(path_in_repo="config.json", path_or_fileobj=local)]
        hook.commit_exactly_once("alice/copy", operations, commit_message="Copy the config")

    declared() >> copy_config()
'''


def test_a_task_calling_the_hook_reports_what_it_read_and_wrote(
    airflow_home: Path, hub_connection: Any, tmp_path: Path
) -> None:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    hub_connection.add_repo("alice/source", files={"config.json": "{}"})
    api.create_repo("alice/copy")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "hook_lineage.py").write_text(HOOK_DAG)
    env = {
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": hub_connection.connection_uri(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
    }
    events = lineage_of_run(airflow_home, "hook_lineage", env, tmp_path)

    hub = f"hf://{hub_connection.url.removeprefix('http://')}"
    # A declared hf:// outlet names the Hub the client is set to (HF_ENDPOINT): here the emulator.
    assert datasets(events["declared"], "outputs") == [(hub, "models/alice/declared", None)]
    copied = api.model_info("alice/copy").sha
    assert datasets(events["copy_config"], "inputs") == [
        (hub, "models/alice/source", api.model_info("alice/source").sha)
    ]
    assert datasets(events["copy_config"], "outputs") == [(hub, "models/alice/copy", copied)]

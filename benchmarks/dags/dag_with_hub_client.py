"""The same DAG written against huggingface_hub directly, imported at top level."""

import pendulum
from airflow.sdk import DAG, task
from huggingface_hub import HfApi

with DAG(
    "bench_parse_hub_client", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1), catchup=False
):

    @task
    def upload() -> str:
        return HfApi().upload_folder(repo_id="acme/model", folder_path="/tmp/model").oid

    @task
    def tag(oid: str) -> None:
        HfApi().create_tag("acme/model", tag="v1", revision=oid)

    tag(upload())

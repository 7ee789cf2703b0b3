"""A publishing DAG as users write it: our operators, no huggingface_hub at top level."""

import pendulum
from airflow.sdk import DAG

from airflow_provider_hub.operators.repo import HfCreateTagOperator, HfUploadFolderOperator

with DAG("bench_parse_provider", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1), catchup=False):
    upload = HfUploadFolderOperator(task_id="upload", repo_id="acme/model", folder_path="/tmp/model")
    tag = HfCreateTagOperator(task_id="tag", repo_id="acme/model", tag="v{{ ds_nodash }}")
    upload >> tag

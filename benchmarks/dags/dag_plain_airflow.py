"""The same DAG shape with Airflow's own tasks only: the baseline for what our modules add."""

import pendulum
from airflow.sdk import DAG, task

with DAG("bench_parse_plain", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1), catchup=False):

    @task
    def upload() -> str:
        return "oid"

    @task
    def tag(oid: str) -> None:
        print(oid)

    tag(upload())

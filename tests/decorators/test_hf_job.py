"""``@task.hf_job`` for real: the emulator runs each Job as a local subprocess."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG, task

from airflow_provider_hub.decorators.hf_job import (
    RESULT_MARKER,
    _HfJobDecoratedOperator,
    hf_job_task,
    job_script,
)
from tests.helpers import task_states, xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")
Reading = dict[str, float]


def test_task_hf_job_resolves_through_the_provider_registration():
    assert task.hf_job is hf_job_task


def test_function_result_reaches_a_downstream_task(subprocess_hub, run_dag):
    received: list[object] = []

    with DAG(dag_id="hf_job_decorator", schedule=None, start_date=START) as dag:

        @task.hf_job(flavor="cpu-basic", dependencies=["numpy"], secrets={"TOKEN": "s3cr3t-value-1"})
        def weighted_total(values: list[int], weight: float = 1.0) -> dict:
            import os
            import sys

            return {
                "total": sum(values) * weight,
                "python": sys.version_info[0],
                "has_secret": os.environ.get("TOKEN") == "s3cr3t-value-1",
            }

        @task
        def report(result: dict) -> float:
            received.append(result)
            return result["total"]

        report(weighted_total([1, 2, 3, 4], weight=2.5))

    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"weighted_total": "success", "report": "success"}
    assert xcom_value(dag_run, "weighted_total") == {"total": 25.0, "python": 3, "has_secret": True}
    assert xcom_value(dag_run, "report") == 25.0


def test_exception_in_the_job_fails_the_task_with_the_remote_traceback(subprocess_hub):
    def divide(a: int, b: int) -> float:
        return a / b

    op = _HfJobDecoratedOperator(task_id="divide", python_callable=divide, op_args=[1, 0], poll_interval=0.2)
    with pytest.raises(
        Exception, match=r"(?s)divide raised in Hub Job .*ZeroDivisionError: division by zero"
    ):
        op.execute({"ti": _TaskInstance()})


def test_deferrable_decorated_task(subprocess_hub, run_dag):
    with DAG(dag_id="hf_job_decorator_deferred", schedule=None, start_date=START) as dag:

        @task.hf_job(deferrable=True, poll_interval=0.2)
        def shout(word: str) -> str:
            print("working on", word)
            return word.upper() + "!"

        shout("hub")

    dag_run = run_dag(dag)
    assert xcom_value(dag_run, "shout") == "HUB!"


def test_annotations_naming_dag_file_types_are_not_evaluated_in_the_job(subprocess_hub):
    # ``Reading`` exists in this module only; the Job would fail with NameError if it evaluated it.
    def scale(reading: Reading, factor: float) -> Reading:
        return {"value": reading["value"] * factor}

    op = _HfJobDecoratedOperator(
        task_id="scale", python_callable=scale, op_args=[{"value": 2}, 1.5], poll_interval=0.2
    )
    assert op.execute({"ti": _TaskInstance()}) == {"value": 3.0}


def test_arguments_must_be_json_serializable():
    with pytest.raises(TypeError, match="arguments must be JSON-serializable"):
        job_script("def f(x):\n    return x\n", "f", [object()], {})
    assert RESULT_MARKER in job_script("def f(x):\n    return x\n", "f", [1], {})


class _TaskInstance:
    dag_id, task_id, run_id, map_index, try_number = "d", "divide", "r", -1, 1

    def xcom_push(self, key: str, value: object) -> None:
        pass


def test_mapped_tasks_each_run_their_own_job(subprocess_hub, run_dag):
    with DAG(dag_id="hf_job_decorator_mapped", schedule=None, start_date=START) as dag:

        @task.hf_job(poll_interval=0.2)
        def square(value: int) -> int:
            return value * value

        @task
        def collect(values: list[int]) -> list[int]:
            return sorted(values)

        collect(square.expand(value=[2, 3, 4]))

    dag_run = run_dag(dag)
    assert xcom_value(dag_run, "collect") == [4, 9, 16]
    assert subprocess_hub.request_count("/api/jobs/alice", method="POST") == 3

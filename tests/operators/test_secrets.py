"""Templated ``secrets`` of the Job and Endpoint operators: checked after rendering, never shown.

A Variable template and an XComArg are only known at run time, so the parse-time check lets them through
and the rendered value is checked in ``execute``: these run real ``dag.test()`` DAGs against the emulator and
check that the Job and the Endpoint received the secrets, and that no value reached the task output,
XCom, the rendered template fields or an error message.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from airflow_provider_hub.operators._secrets import rendered_secrets
from airflow_provider_hub.operators.endpoints import (
    HfCreateInferenceEndpointOperator,
    HfUpdateInferenceEndpointOperator,
)
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from tests.helpers import task_states, xcom_value
from tests.secrets_scan import (
    assert_no_secret_in,
    dag_test_places,
    database_texts,
    distinctive_secret,
    leak_contexts,
)

START = pendulum.datetime(2026, 1, 1, tz="UTC")
FAST_ENDPOINT = [("pending", 0.1), ("initializing", 0.1), ("running", None)]


def _dag(dag_id: str, **kwargs: Any) -> Any:
    from airflow.sdk import DAG

    return DAG(dag_id, schedule=None, start_date=START, catchup=False, **kwargs)


def _rendered_fields_of(dag_id: str) -> list[str]:
    """Every ``rendered_task_instance_fields`` row of ``dag_id``, as text."""
    from airflow.configuration import conf

    return [
        row
        for row in database_texts(conf.get("database", "sql_alchemy_conn"))["rendered_task_instance_fields"]
        if dag_id in row
    ]


def test_templates_and_xcomargs_pass_the_parse_time_check_and_literal_mistakes_do_not() -> None:
    from airflow.sdk import task

    with _dag("secrets_parse_check"):

        @task
        def job_secrets() -> dict[str, str]:
            return {}

        HfRunJobOperator(task_id="template", image="i", command=["x"], secrets="{{ var.json.job_secrets }}")
        HfRunJobOperator(task_id="xcomarg", image="i", command=["x"], secrets=job_secrets())
        HfCreateInferenceEndpointOperator(
            task_id="value_template", name="e", repository="alice/m", secrets={"K": "{{ var.value.k }}"}
        )
        HfUpdateInferenceEndpointOperator(task_id="value_xcomarg", name="e", secrets={"K": job_secrets()})
        with pytest.raises(
            ValueError, match=r"bad: secrets must be a dict of str to str; secrets\['K'\] is a int"
        ):
            HfUpdateInferenceEndpointOperator(task_id="bad", name="e", secrets={"K": 1})
        with pytest.raises(ValueError, match="plain: secrets must be a dict of str to str; got a str"):
            HfRunJobOperator(task_id="plain", image="i", command=["x"], secrets="API_KEY=hf_literal")


def test_variable_templated_secrets_reach_the_job_and_the_endpoint(
    hub_connection: Any, run_dag: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    job_secret, endpoint_secret = distinctive_secret("jobvar"), distinctive_secret("endpointvar")
    monkeypatch.setenv("AIRFLOW_VAR_JOB_SECRETS", json.dumps({"API_KEY": job_secret}))
    monkeypatch.setenv("AIRFLOW_VAR_ENDPOINT_SECRETS", json.dumps({"API_KEY": endpoint_secret}))
    hub_connection.set_job_plan(durations=(0.1, 0.1), logs=("done",))
    hub_connection.set_endpoint_plan("templated", FAST_ENDPOINT)
    # Without native rendering, "{{ var.json.name }}" renders to the Python form of the dict, a string.
    with _dag("secrets_from_variables") as dag:
        HfRunJobOperator(
            task_id="job",
            image="python:3.12",
            command=["python", "train.py"],
            secrets="{{ var.json.job_secrets }}",
            poll_interval=0.1,
        )
    # With native rendering it renders to the dict itself.
    with _dag("secrets_from_variables_native", render_template_as_native_obj=True) as native_dag:
        HfCreateInferenceEndpointOperator(
            task_id="endpoint",
            name="templated",
            repository="alice/m",
            secrets="{{ var.json.endpoint_secrets }}",
            poll_interval=0.1,
        )

    for run in (run_dag(dag), run_dag(native_dag)):
        assert set(task_states(run).values()) == {"success"}, task_states(run)

    state = hub_connection.state
    (job,) = state.jobs.jobs.values()
    assert job.spec["secrets"] == {"API_KEY": job_secret}
    assert state.endpoints.get("alice", "templated").config["model"]["secrets"] == {
        "API_KEY": endpoint_secret
    }
    assert_no_secret_in(
        dag_test_places(capfd.readouterr()), {"job secret": job_secret, "endpoint secret": endpoint_secret}
    )


def test_xcomarg_secrets_reach_the_job_and_the_endpoint_update(hub_connection: Any, run_dag: Any) -> None:
    from airflow.sdk import task

    secret = distinctive_secret("xcomsecret")
    hub_connection.set_job_plan(durations=(0.1, 0.1), logs=("done",))
    hub_connection.set_endpoint_plan("from-xcom", FAST_ENDPOINT)
    with _dag("secrets_from_xcom") as dag:

        @task
        def fetch_secrets() -> dict[str, str]:
            return {"API_KEY": secret}

        secrets = fetch_secrets()
        create = HfCreateInferenceEndpointOperator(
            task_id="create", name="from-xcom", repository="alice/m", poll_interval=0.1
        )
        update = HfUpdateInferenceEndpointOperator(
            task_id="update", name="from-xcom", secrets=secrets, poll_interval=0.1
        )
        job = HfRunJobOperator(
            task_id="job", image="python:3.12", command=["python", "x.py"], secrets=secrets, poll_interval=0.1
        )
        create >> update >> job

    run = run_dag(dag)
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    state = hub_connection.state
    (started,) = state.jobs.jobs.values()
    assert started.spec["secrets"] == {"API_KEY": secret}
    assert state.endpoints.get("alice", "from-xcom").config["model"]["secrets"] == {"API_KEY": secret}
    # The upstream task's own XCom (and its log line of what it returned) holds the secret, the DAG author's
    # choice; what the operators rendered and returned does not.
    rendered = _rendered_fields_of("secrets_from_xcom")
    assert rendered and not leak_contexts({"rendered fields": rendered}, {"secret": secret})
    assert secret not in repr([xcom_value(run, task_id) for task_id in ("create", "update", "job")])


def test_a_rendered_value_that_is_not_a_dict_of_strings_fails_naming_the_field(
    hub_connection: Any, run_dag: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = distinctive_secret("notadict")
    monkeypatch.setenv("AIRFLOW_VAR_RAW_SECRET", secret)
    with _dag("secrets_not_a_dict") as dag:
        HfRunJobOperator(
            task_id="job", image="python:3.12", command=["x"], secrets="{{ var.value.raw_secret }}", retries=0
        )
    run = run_dag(dag)
    assert task_states(run) == {"job": "failed"}
    output = capfd.readouterr()
    assert "secrets must render to a dict of str to str (or its JSON)" in output.out + output.err
    assert secret not in output.out + output.err
    assert hub_connection.request_count("/api/jobs/*", method="POST") == 0

    with pytest.raises(ValueError, match=r"^t: secrets must render to a dict") as raised:
        rendered_secrets(secret, owner="t")
    assert secret not in str(raised.value) and raised.value.__cause__ is None
    with pytest.raises(ValueError, match=r"secrets\['API_KEY'\] is a int \(values not shown\)"):
        rendered_secrets('{"API_KEY": 1234}')
    assert rendered_secrets("{'API_KEY': 'x'}") == {"API_KEY": "x"}

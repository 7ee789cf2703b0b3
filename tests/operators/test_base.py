"""The operator and sensor bases: one connection default, one hook, the shared template fields, the poll
interval.

The trigger base is tested in ``tests/triggers/test_base.py``.
"""

from __future__ import annotations

import pytest

from airflow_provider_hub.hooks.hub import HfHubHook
from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator, HfGrantAccessOperator
from airflow_provider_hub.operators.base import HfHubBaseOperator, hub_template_fields
from airflow_provider_hub.operators.endpoints import (
    HfCreateInferenceEndpointOperator,
    HfPauseInferenceEndpointOperator,
)
from airflow_provider_hub.operators.inference_providers import HfChooseInferenceProviderOperator
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import HfCreateRepoOperator, HfUploadFolderOperator
from airflow_provider_hub.operators.webhooks import HfCreateWebhookOperator
from airflow_provider_hub.sensors.base import HfHubBaseSensor
from airflow_provider_hub.sensors.endpoints import HfInferenceEndpointSensor
from airflow_provider_hub.sensors.inference_providers import HfInferenceProviderSensor
from airflow_provider_hub.sensors.jobs import HfJobSensor
from airflow_provider_hub.sensors.repo import HfRepoFileSensor
from airflow_provider_hub.triggers._base import (
    configured_poll_interval,
)
from airflow_provider_hub.utils.checks import DEFAULT_CONN_ID

TASKS = [
    lambda: HfRunJobOperator(task_id="t", image="python:3.12", command=["x"]),
    lambda: HfCreateInferenceEndpointOperator(task_id="t", name="ep", repository="a/b"),
    lambda: HfPauseInferenceEndpointOperator(task_id="t", name="ep"),
    lambda: HfChooseInferenceProviderOperator(task_id="t", model_id="a/b"),
    lambda: HfCreateRepoOperator(task_id="t", repo_id="a/b"),
    lambda: HfUploadFolderOperator(task_id="t", repo_id="a/b", folder_path="/tmp"),
    lambda: HfAcceptAccessRequestsOperator(task_id="t", repo_id="a/b"),
    lambda: HfGrantAccessOperator(task_id="t", repo_id="a/b", users=["bob"]),
    lambda: HfCreateWebhookOperator(task_id="t", url="https://x", watched=[]),
    lambda: HfJobSensor(task_id="t", job_id="j"),
    lambda: HfInferenceEndpointSensor(task_id="t", name="ep"),
    lambda: HfInferenceProviderSensor(task_id="t", model_id="a/b"),
    lambda: HfRepoFileSensor(task_id="t", repo_id="a/b", path_in_repo="f"),
]


def test_one_connection_default_everywhere():
    assert HfHubHook.default_conn_name == DEFAULT_CONN_ID


@pytest.mark.parametrize("make", TASKS)
def test_every_task_has_the_connection_its_hook_and_templates_it(make):
    task = make()
    assert isinstance(task, (HfHubBaseOperator, HfHubBaseSensor))
    assert task.hf_conn_id == DEFAULT_CONN_ID
    assert "hf_conn_id" in task.template_fields
    assert task.ui_color == "#FFD21E"
    assert isinstance(task.hook, HfHubHook) and task.hook is task.hook  # built once per task
    assert task.hook.hf_conn_id == DEFAULT_CONN_ID


def test_the_rendered_connection_builds_the_hook():
    task = HfCreateRepoOperator(task_id="t", repo_id="a/b", hf_conn_id="{{ params.conn }}")
    task.hf_conn_id = "hf_other"  # what rendering sets before execute()
    assert task.hook.hf_conn_id == "hf_other"


def test_hub_template_fields_appends_the_shared_ones_once():
    assert hub_template_fields("repo_id", "revision") == ("repo_id", "revision", "hf_conn_id")
    assert hub_template_fields("hf_conn_id", "repo_id") == ("hf_conn_id", "repo_id")


def test_poll_interval_defaults_to_the_provider_option(monkeypatch):
    assert configured_poll_interval() == 30.0
    monkeypatch.setenv("AIRFLOW__HUGGINGFACE_HUB__DEFAULT_POLL_INTERVAL", "7")
    assert configured_poll_interval() == 7.0
    job = HfRunJobOperator(task_id="t", image="python:3.12", command=["x"])
    endpoint = HfPauseInferenceEndpointOperator(task_id="t", name="ep")
    assert job.poll_interval == endpoint.poll_interval == 7.0
    assert (
        HfRunJobOperator(task_id="u", image="python:3.12", command=["x"], poll_interval=2).poll_interval == 2
    )
    monkeypatch.setenv("AIRFLOW__HUGGINGFACE_HUB__DEFAULT_POLL_INTERVAL", "0")
    with pytest.raises(ValueError, match="default_poll_interval"):
        configured_poll_interval()

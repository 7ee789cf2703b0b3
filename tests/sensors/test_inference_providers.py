"""HfInferenceProviderSensor in real DAG runs against the emulator: waits until a provider is live, times
out.

HfInferenceProviderTrigger, which its deferrable mode waits in, is tested in
``tests/triggers/test_inference_providers.py``.
"""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.sensors.inference_providers import HfInferenceProviderSensor
from tests.helpers import task_states, xcom_value
from tests.support.inference_providers import PROVIDERS

START = pendulum.datetime(2026, 1, 1, tz="UTC")


@pytest.mark.parametrize("deferrable", [False, True])
def test_provider_sensor_waits_until_live(seeded, run_dag, deferrable):
    seeded.set_inference_providers("acme/chat", {"groq": {"status": "staging"}, **PROVIDERS})
    sensor = HfInferenceProviderSensor(task_id="s", model_id="acme/chat", providers=["groq"])
    assert not sensor.poke({}).is_done
    seeded.set_inference_providers("acme/chat", {"groq": {"status": "live"}, **PROVIDERS})
    with DAG(dag_id=f"provider_sensor_{deferrable}", schedule=None, start_date=START) as dag:
        HfInferenceProviderSensor(
            task_id="wait",
            model_id="acme/chat",
            providers=["groq", "novita"],
            poke_interval=0.1,
            timeout=10,
            deferrable=deferrable,
        )
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"wait": "success"}
    result = xcom_value(dag_run, "wait")
    assert (result["provider"], result["live_providers"], result["inference"]) == (
        "groq",
        ["groq", "novita"],
        "warm",
    )


@pytest.mark.parametrize("deferrable", [False, True])
def test_provider_sensor_sees_a_provider_go_live_during_the_wait(seeded, run_dag, deferrable):
    import threading

    go_live = threading.Timer(
        1.0, seeded.set_inference_providers, args=("acme/chat", {"groq": {"status": "live"}, **PROVIDERS})
    )
    with DAG(dag_id=f"provider_sensor_live_later_{deferrable}", schedule=None, start_date=START) as dag:
        HfInferenceProviderSensor(
            task_id="wait",
            model_id="acme/chat",
            providers=["groq"],
            poke_interval=0.1,
            timeout=20,
            deferrable=deferrable,
        )
    go_live.start()
    try:
        dag_run = run_dag(dag)
    finally:
        go_live.cancel()
    assert task_states(dag_run) == {"wait": "success"}
    assert xcom_value(dag_run, "wait")["provider"] == "groq"


@pytest.mark.parametrize("deferrable", [False, True])
def test_provider_sensor_timeout(seeded, run_dag, deferrable):
    with DAG(dag_id=f"provider_sensor_timeout_{deferrable}", schedule=None, start_date=START) as dag:
        HfInferenceProviderSensor(
            task_id="wait",
            model_id="acme/chat",
            providers=["groq"],
            poke_interval=0.1,
            timeout=0.4,
            deferrable=deferrable,
        )
    assert task_states(run_dag(dag)) == {"wait": "failed"}

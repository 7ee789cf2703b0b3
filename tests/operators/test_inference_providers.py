"""Inference Providers: hook methods, the chooser and the provider sensor against the emulator."""

from __future__ import annotations

import time

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk._shared.module_loading import import_string

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.operators.inference_providers import (
    HfChooseInferenceProviderOperator,
    rank_providers,
)
from airflow_provider_hub.sensors.inference_providers import HfInferenceProviderSensor
from airflow_provider_hub.triggers.inference_providers import HfInferenceProviderTrigger
from tests.helpers import task_states, xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")

#: One provider with pricing and probe figures, one with probe figures and no pricing, one with almost nothing.
PROVIDERS = {
    "together": {
        "status": "live",
        "context_length": 131072,
        "pricing": {"input": 0.2, "output": 0.6},
        "supports_tools": True,
        "supports_structured_output": True,
        "first_token_latency_ms": 400,
        "throughput": 80,
    },
    "fireworks-ai": {
        "status": "live",
        "context_length": 32768,
        "supports_tools": True,
        "supports_structured_output": False,
        "first_token_latency_ms": 150,
        "throughput": 140,
    },
    "novita": {"status": "live", "is_model_author": False},
    "sambanova": {"status": "error", "pricing": {"input": 0.01, "output": 0.01}, "throughput": 999},
}


def _hook():
    from airflow_provider_hub.hooks.hub import HfHubHook

    return HfHubHook()


@pytest.fixture
def seeded(hub_connection):
    hub_connection.add_repo("acme/chat", files={"README.md": "---\npipeline_tag: text-generation\n---\n"})
    hub_connection.set_inference_providers("acme/chat", PROVIDERS)
    return hub_connection


def _choose(**kwargs):
    return HfChooseInferenceProviderOperator(task_id="choose", model_id="acme/chat", **kwargs).execute({})


@pytest.mark.parametrize(
    ("strategy", "order"),
    [
        # novita has no figure for any strategy: it ranks last; sambanova is not live.
        ("cheapest", ["together", "fireworks-ai", "novita"]),  # fireworks-ai has no pricing
        ("fastest", ["fireworks-ai", "together", "novita"]),
        ("lowest_latency", ["fireworks-ai", "together", "novita"]),
    ],
)
def test_chooser_strategies_with_missing_figures(seeded, strategy, order):
    result = _choose(strategy=strategy)
    assert [row["provider"] for row in result["candidates"]] == order
    assert result["provider"] == order[0] and result["chosen"]["rank"] == 1
    assert result["excluded"] == [{"provider": "sambanova", "reason": "live_only: status is 'error'"}]
    if strategy == "cheapest":
        assert result["chosen"]["price"] == pytest.approx(0.8)


def test_chooser_filters(seeded):
    tools = _choose(require_tools=True)
    assert [row["provider"] for row in tools["candidates"]] == ["together", "fireworks-ai"]
    assert {"provider": "novita", "reason": "require_tools: supports_tools is None"} in tools["excluded"]
    structured = _choose(strategy="fastest", require_structured_output=True)
    assert structured["provider"] == "together"
    long_context = _choose(strategy="fastest", min_context_length=65536)
    assert [row["provider"] for row in long_context["candidates"]] == ["together"]
    everyone = _choose(strategy="fastest", live_only=False)
    assert everyone["provider"] == "sambanova"


def test_chooser_explains_when_none_qualifies(seeded):
    with pytest.raises(HfHubError) as error:
        _choose(require_structured_output=True, min_context_length=200000)
    message = str(error.value)
    assert "No Inference Provider of acme/chat qualifies" in message
    assert "together: min_context_length=200000: context_length is 131072" in message
    assert "fireworks-ai: require_structured_output: supports_structured_output is False" in message
    assert "sambanova: live_only: status is 'error'" in message


def test_ties_are_broken_by_provider_id():
    entries = [
        {"provider": "zeta", "status": "live", "throughput": 100},
        {"provider": "alpha", "status": "live", "throughput": 100},
        {"provider": "mid", "status": "live"},
        {"provider": "beta", "status": "live"},
    ]
    ranked, _ = rank_providers(entries, strategy="fastest")
    assert [row["provider"] for row in ranked] == ["alpha", "zeta", "beta", "mid"]
    with pytest.raises(
        ValueError, match="strategy must be one of cheapest, fastest, lowest_latency; got 'best'"
    ):
        rank_providers(entries, strategy="best")


def test_chooser_in_a_dag_logs_and_returns_the_table(seeded, run_dag):
    with DAG(dag_id="choose_provider", schedule=None, start_date=START) as dag:
        HfChooseInferenceProviderOperator(task_id="choose", model_id="{{ 'acme/chat' }}", strategy="fastest")
    dag_run = run_dag(dag)
    assert task_states(dag_run) == {"choose": "success"}
    result = xcom_value(dag_run, "choose")
    assert result["provider"] == "fireworks-ai" and len(result["candidates"]) == 3


def test_chooser_writes_the_candidates_table_to_the_task_log(seeded):
    import structlog.testing

    with structlog.testing.capture_logs() as task_log:
        _choose(strategy="cheapest")
    [table] = [
        e["event"] % tuple(e.get("positional_args", ()))
        for e in task_log
        if str(e["event"]).startswith("Candidates for")
    ]
    header, *rows = table.splitlines()[1:]
    assert header.split()[:2] == ["rank", "provider"]
    # Ranked: priced first, then the provider with no pricing; the erroring one is excluded.
    assert [row.split()[1] for row in rows] == ["together", "fireworks-ai", "novita"]


def test_chooser_bad_input_before_any_call(hub_connection):
    before = hub_connection.request_count()
    with pytest.raises(ValueError, match="strategy must be one of"):
        HfChooseInferenceProviderOperator(task_id="c", model_id="a/b", strategy="best")
    with pytest.raises(ValueError, match="model_id must look like 'owner/name'; got 'nope'"):
        HfChooseInferenceProviderOperator(task_id="c", model_id="nope").execute({})
    assert hub_connection.request_count() == before


def test_hook_methods(seeded):
    hook = _hook()
    assert hook.list_models_served_by("together") == [{"id": "acme/chat", "pipeline_tag": "text-generation"}]
    assert hook.list_models_served_by("sambanova") == []  # its mapping is not live
    mapping = hook.get_model_provider_mapping("acme/chat")
    assert mapping["inference"] == "warm"
    assert mapping["providers"]["together"] == {
        "status": "live",
        "provider_id": "acme/chat",
        "task": "conversational",
    }
    assert [model["id"] for model in hook.list_router_models()] == ["acme/chat"]
    assert hook.get_router_model("acme/chat")["owned_by"] == "acme"


def test_provider_trigger_round_trip():
    trigger = HfInferenceProviderTrigger(model_id="a/b", providers=["x"], poll_interval=3, end_time=9.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_hub.triggers.inference_providers.HfInferenceProviderTrigger"
    assert kwargs == {
        "model_id": "a/b",
        "providers": ["x"],
        "hf_conn_id": "huggingface_hub_default",
        "poll_interval": 3.0,
        "end_time": 9.0,
    }
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


async def test_provider_trigger_success_and_timeout(seeded):
    (ok,) = [
        e.payload async for e in HfInferenceProviderTrigger(model_id="acme/chat", poll_interval=0.1).run()
    ]
    assert ok["status"] == "success" and ok["live_providers"] == ["fireworks-ai", "novita", "together"]
    waiting = HfInferenceProviderTrigger(
        model_id="acme/chat", providers=["groq"], poll_interval=0.1, end_time=time.time() + 0.3
    )
    (late,) = [e.payload async for e in waiting.run()]
    assert late["status"] == "timeout"


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

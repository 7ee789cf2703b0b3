"""HfChooseInferenceProviderOperator against the emulator: strategies, filters, ties, the task log.

The hook's Inference Providers methods, the provider trigger and sensor are tested in ``tests/hooks``,
``tests/triggers`` and ``tests/sensors`` (``test_inference_providers.py``).
"""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_hub.exceptions import HfHubError
from airflow_provider_hub.operators.inference_providers import (
    HfChooseInferenceProviderOperator,
    rank_providers,
)
from tests.helpers import task_states, xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")


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

"""The typed states of the hook layer: what each Job stage, Endpoint status and provider status means."""

from __future__ import annotations

import pytest

from airflow_provider_hub.hooks.states import EndpointState, JobState, Verdict, live_providers


@pytest.mark.parametrize(
    ("stage", "terminal", "succeeded", "failed"),
    [
        ("SCHEDULING", False, False, False),
        ("RUNNING", False, False, False),
        ("COMPLETED", True, True, False),
        ("CANCELED", True, False, True),
        ("ERROR", True, False, True),
        ("DELETED", True, False, True),
    ],
)
def test_job_stages(stage, terminal, succeeded, failed):
    state = JobState(stage)
    assert (state.terminal, state.succeeded, state.failed, state.active) == (
        terminal,
        succeeded,
        failed,
        not terminal,
    )


def test_job_verdict_targets_any_stage_and_fails_on_other_terminal_ones():
    assert JobState("COMPLETED").verdict(["COMPLETED"]) is Verdict.DONE
    assert JobState("RUNNING").verdict(["RUNNING"]) is Verdict.DONE
    assert JobState("RUNNING").verdict(["COMPLETED"]) is Verdict.WAITING
    assert JobState("ERROR").verdict(["COMPLETED"]) is Verdict.FAILED
    assert JobState("CANCELED").verdict(["CANCELED"]) is Verdict.DONE
    assert JobState("COMPLETED").verdict(["RUNNING"]) is Verdict.FAILED  # it will never run again
    assert JobState(None).verdict(["COMPLETED"]) is Verdict.WAITING  # a stage the Hub has not set yet


def test_job_failure_reason_quotes_the_hub_message():
    assert JobState("ERROR", "bad image").failure_reason() == "ended in stage ERROR (bad image)"
    assert JobState("CANCELED").failure_reason() == "ended in stage CANCELED"
    assert JobState("RUNNING", "slow").failure_reason("did not finish") == "did not finish (slow)"


def test_job_state_reads_summaries_and_the_hub_json_alike():
    summary = {"job_id": "x", "stage": "ERROR", "message": "oom"}
    raw = {"id": "x", "status": {"stage": "ERROR", "message": "oom"}}
    assert JobState.from_summary(summary) == JobState.from_api(raw) == JobState("ERROR", "oom")
    assert JobState.from_api(None) == JobState(None)


def test_endpoint_states():
    assert EndpointState("failed").failed and EndpointState("updateFailed").failed
    assert not EndpointState("running", "http://x").failed
    assert EndpointState("paused").sleeping and EndpointState("scaledToZero").sleeping
    assert not EndpointState("running").sleeping
    assert EndpointState("failed", message="OOM").failure_reason() == "is failed: OOM"
    assert EndpointState("updateFailed").failure_reason() == "is updateFailed: no message"
    assert EndpointState("failed").verdict(["failed"]) is Verdict.DONE  # a wait may target a failure


def test_endpoint_state_reads_summaries_and_the_api_json_alike():
    summary = {"name": "ep", "status": "running", "url": "http://x", "message": None}
    raw = {"name": "ep", "status": {"state": "running", "url": "http://x"}}
    assert (
        EndpointState.from_summary(summary)
        == EndpointState.from_api(raw)
        == EndpointState("running", "http://x")
    )


def test_live_providers_sorted_and_filtered():
    mapping = {
        "together": {"status": "live"},
        "novita": {"status": "live"},
        "fal-ai": {"status": "staging"},
        "empty": {},
    }
    assert live_providers(mapping, None) == ["novita", "together"]
    assert live_providers(mapping, ["together", "fal-ai"]) == ["together"]
    assert live_providers(mapping, ["fal-ai"]) == []


def test_verdicts_compare_as_their_names():
    # Plain strings for logs and for code that compared the old "done" / "failed" / "waiting" strings.
    assert [v.value for v in Verdict] == ["waiting", "done", "failed"]
    assert Verdict.DONE == "done"


def test_endpoint_state_verdict():
    assert EndpointState("running", "http://x").verdict(["running"]) is Verdict.DONE
    assert EndpointState("running", None).verdict(["running"]) is Verdict.WAITING  # no URL yet: not serving
    assert EndpointState("failed", None).verdict(["running"]) is Verdict.FAILED
    assert EndpointState("updateFailed", None).verdict(["running"]) is Verdict.FAILED
    assert EndpointState("paused", None).verdict(["paused"]) is Verdict.DONE
    assert EndpointState("paused", None).verdict(["running"]) is Verdict.WAITING

"""Hugging Face Jobs on the emulator for tests: start one on a plan, read its stage, a task instance."""

from __future__ import annotations


def _run(hub, **plan) -> str:
    from huggingface_hub import HfApi

    hub.set_job_plan(**plan)
    return (
        HfApi(endpoint=hub.url, token=hub.token)
        .run_job(image="python:3.12", command=["x"], namespace="alice")
        .id
    )


def _stage(hub, job_id: str) -> str:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=hub.token).inspect_job(job_id=job_id, namespace="alice").status.stage


class _TaskInstance:
    """Just the task-instance surface the operator reads, for tests that call execute() directly."""

    def __init__(self, run_id: str = "manual__2026-01-01T00:00:00+00:00", try_number: int = 1) -> None:
        self.dag_id, self.task_id, self.run_id, self.map_index = "crashy", "train", run_id, -1
        self.try_number = try_number
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value

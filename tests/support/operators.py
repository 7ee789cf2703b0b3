"""Running an operator's ``execute`` without a DAG run: a context whose task instance records XCom pushes."""

from __future__ import annotations

from typing import Any

COMMIT_ROUTE = "/api/*/*/*/commit/*"


class RecordingTaskInstance:
    """Records ``xcom_push`` calls (the extra links persist their URL through it); one task instance of a
    manual run, as operators that find their earlier tries' work by the task instance see it."""

    dag_id, task_id, run_id, map_index, try_number = "operator_test", "task", "manual__test", -1, 1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def make_context() -> dict[str, Any]:
    from airflow.sdk.execution_time.context import OutletEventAccessors

    return {"ti": RecordingTaskInstance(), "outlet_events": OutletEventAccessors()}


def run(operator: Any) -> dict[str, Any]:
    return operator.execute(make_context())

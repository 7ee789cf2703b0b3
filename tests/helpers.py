"""Helpers for reading the outcome of ``dag.test()`` runs."""

from __future__ import annotations

from typing import Any


def xcom_value(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """The XCom a task of ``dag_run`` pushed under ``key`` (``None`` when absent)."""
    from airflow import settings
    from airflow.models.xcom import XComModel

    with settings.Session() as session:
        row = session.scalars(
            XComModel.get_many(
                run_id=dag_run.run_id,
                dag_ids=dag_run.dag_id,
                task_ids=task_id,
                key=key,
                map_indexes=map_index,
            )
        ).first()
        return XComModel.deserialize_value(row) if row is not None else None


def task_states(dag_run: Any) -> dict[str, str]:
    """``{task_id: state}`` of every task instance of ``dag_run``."""
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}

"""Extra links: each operator declares only links it sets, and a link not stored yet is quiet.

Airflow 3 workers evaluate every declared link when a task ends (and when it defers) and store the
result for the UI; a link read that finds no XCom made the Execution API client log
``[error] XCom not found``. Each test runs real ``dag.test()`` runs against the emulator and reads the
links as the api-server's extra-links route does (``task.get_extra_links(ti, name)`` on the DAG the
run used).
"""

from __future__ import annotations

import inspect
import logging
import pkgutil
import re
import types
from pathlib import Path
from typing import Any

import pendulum
import pytest

import airflow_provider_hub
from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator
from airflow_provider_hub.operators.discussions import (
    HfChangeDiscussionStatusOperator,
    HfCommentDiscussionOperator,
    HfCreatePullRequestOperator,
    HfMergePullRequestOperator,
)
from airflow_provider_hub.operators.endpoints import (
    HfCreateInferenceEndpointOperator,
    HfDeleteInferenceEndpointOperator,
    HfPauseInferenceEndpointOperator,
    HfResumeInferenceEndpointOperator,
    HfScaleToZeroInferenceEndpointOperator,
    HfUpdateInferenceEndpointOperator,
)
from airflow_provider_hub.operators.jobs import HfRunJobOperator
from airflow_provider_hub.operators.repo import (
    HfCreateBranchOperator,
    HfCreateCommitOperator,
    HfCreateRepoOperator,
    HfCreateTagOperator,
    HfDeleteBranchOperator,
    HfDeleteLfsFilesOperator,
    HfDownloadOperator,
    HfSquashHistoryOperator,
    HfUpdateRepoSettingsOperator,
    HfUploadFolderOperator,
    HfUploadLargeFolderOperator,
)
from airflow_provider_hub.operators.spaces import (
    HfPauseSpaceOperator,
    HfRestartSpaceOperator,
    HfUpdateSpaceOperator,
)
from airflow_provider_hub.sensors.discussions import HfPullRequestSensor
from airflow_provider_hub.sensors.endpoints import HfInferenceEndpointSensor
from airflow_provider_hub.sensors.jobs import HfJobSensor
from airflow_provider_hub.sensors.repo import HfRepoFileSensor, HfRevisionSensor
from airflow_provider_hub.sensors.spaces import HfSpaceSensor
from airflow_provider_hub.transfers.hub_to_s3 import HfHubToS3Operator
from airflow_provider_hub.transfers.s3_to_hub import S3ToHfHubOperator
from tests.helpers import xcom_value

START = pendulum.datetime(2026, 1, 1, tz="UTC")
LINK_KEYS = ("hf_repo_url", "hf_commit_url", "hf_job_url", "hf_endpoint_url")
REPO_LINK, COMMIT_LINK = "Hugging Face repo", "Hugging Face commit"
JOB_LINK, ENDPOINT_LINK = "Hugging Face Job", "Inference Endpoint"
DISCUSSION_LINK, SPACE_LINK = "Hugging Face discussion", "Hugging Face Space"


def links_of(dag_run: Any) -> dict[tuple[str, int], dict[str, str | None]]:
    """``{(task_id, map_index): {link name: url or None}}``, computed as the UI's extra-links route does."""
    from airflow import settings
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    with settings.Session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        ).one()
        dag = DBDagBag().get_dag_for_run(run, session=session)
        assert dag is not None
        links = {}
        for ti in run.get_task_instances(session=session):
            task = dag.get_task(ti.task_id)
            links[ti.task_id, ti.map_index] = {
                name: task.get_extra_links(ti, name) or None for name in task.extra_links
            }
        return links


def states_of(dag_run: Any) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in dag_run.get_task_instances()}


def link_noise(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> list[str]:
    """Lines of the run's output (console and log records) about a link or link XCom at error level."""
    captured = capfd.readouterr()
    lines = (captured.out + captured.err).splitlines()
    lines += [f"[{r.levelname.lower()}] {r.getMessage()}" for r in caplog.records]
    pattern = re.compile(r"XCom not found|operator extra link|" + "|".join(LINK_KEYS), re.IGNORECASE)
    return [
        line
        for line in lines
        if pattern.search(line) and re.search(r"\[\s*(error|critical|exception)\s*\]|ERROR|Traceback", line)
    ]


def test_a_run_with_failing_tasks_logs_no_link_error_and_shows_the_links_that_were_set(
    hub_connection: Any,
    run_dag: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from airflow.sdk import DAG

    from airflow_provider_hub import links
    from airflow_provider_hub.triggers.repo import HfRepoFileTrigger

    # A deferred task resumes in a new worker process, which has not seen the link stored before the
    # deferral; dag.test() resumes it in this one, so forget what was stored when the trigger starts.
    run_trigger = HfRepoFileTrigger.run

    async def run_in_the_triggerer(self: HfRepoFileTrigger) -> Any:
        links._PERSISTED.clear()
        async for event in run_trigger(self):
            yield event

    monkeypatch.setattr(HfRepoFileTrigger, "run", run_in_the_triggerer)
    caplog.set_level(logging.DEBUG)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text('{"layers": 2}')
    repo = "alice/linked"
    with DAG("links_with_failures", schedule=None, start_date=START, catchup=False) as dag:
        create = HfCreateRepoOperator(task_id="create", repo_id=repo)
        upload = HfUploadFolderOperator(task_id="upload", repo_id=repo, folder_path=str(tmp_path / "model"))
        tag = HfCreateTagOperator(
            task_id="tag",
            repo_id=repo,
            tag="v1",
            revision="{{ ti.xcom_pull(task_ids='upload')['commit_oid'] }}",
        )
        create >> upload >> tag
        # Each fails before it stores any link.
        HfUploadFolderOperator(
            task_id="upload_missing_folder", repo_id=repo, folder_path=str(tmp_path / "nope")
        )
        HfJobSensor(task_id="wait_missing_job", job_id="0123456789abcdef01234567", timeout=5, poke_interval=1)
        # A mapped task whose second instance fails while the first stored its link.
        HfCreateRepoOperator.partial(task_id="create_mapped").expand(repo_id=["alice/mapped-1", "not a repo"])
        # Deferred after storing their link, then failing on resume (the file never appears).
        wait = HfRepoFileSensor(
            task_id="wait_deferred",
            repo_id=repo,
            path_in_repo="never.bin",
            deferrable=True,
            poke_interval=0.2,
            timeout=1,
        )
        create >> wait
        HfRepoFileSensor.partial(
            task_id="wait_deferred_mapped", repo_id=repo, deferrable=True, poke_interval=0.2, timeout=1
        ).expand(path_in_repo=["a.bin", "b.bin"])

    dag_run = run_dag(dag)

    assert states_of(dag_run) == {
        ("create", -1): "success",
        ("upload", -1): "success",
        ("tag", -1): "success",
        ("upload_missing_folder", -1): "failed",
        ("wait_missing_job", -1): "failed",
        ("create_mapped", 0): "success",
        ("create_mapped", 1): "failed",
        ("wait_deferred", -1): "failed",
        ("wait_deferred_mapped", 0): "failed",
        ("wait_deferred_mapped", 1): "failed",
    }
    assert link_noise(capfd, caplog) == []

    repo_url = f"{hub_connection.url}/{repo}"
    commit_url = f"{repo_url}/commit/{xcom_value(dag_run, 'upload')['commit_oid']}"
    assert links_of(dag_run) == {
        ("create", -1): {REPO_LINK: repo_url},  # it declares no commit link
        ("upload", -1): {REPO_LINK: repo_url, COMMIT_LINK: commit_url},
        ("tag", -1): {REPO_LINK: repo_url, COMMIT_LINK: commit_url},
        ("upload_missing_folder", -1): {REPO_LINK: None, COMMIT_LINK: None},
        ("wait_missing_job", -1): {JOB_LINK: None},
        ("create_mapped", 0): {REPO_LINK: f"{hub_connection.url}/alice/mapped-1"},
        ("create_mapped", 1): {REPO_LINK: None},
        # Stored before the deferral; the worker that resumed the task kept it.
        ("wait_deferred", -1): {REPO_LINK: repo_url},
        ("wait_deferred_mapped", 0): {REPO_LINK: repo_url},
        ("wait_deferred_mapped", 1): {REPO_LINK: repo_url},
    }


def provider_operator_classes() -> set[type]:
    """Every operator class the provider ships (decorated-task classes are their base operator's)."""
    from airflow.sdk import BaseOperator

    found: set[type] = set()
    for info in pkgutil.walk_packages(airflow_provider_hub.__path__, prefix="airflow_provider_hub."):
        if info.name.startswith(("airflow_provider_hub.testing", "airflow_provider_hub.plugins")):
            continue
        module = __import__(info.name, fromlist=["_"])
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                # Python 3.10's inspect.isclass also takes a type alias such as Callable[..., X].
                not isinstance(value, types.GenericAlias)
                and issubclass(value, BaseOperator)
                and value.__module__ == info.name
                and not value.__name__.startswith("_")
            ):
                found.add(value)
    return found


def test_every_declared_link_resolves_after_a_successful_run(
    hub_connection: Any, run_dag: Any, s3: Any, tmp_path: Path
) -> None:
    """One task per operator class that declares a link; after a green run each declared link is a URL."""
    from airflow.sdk import DAG, chain

    hub_connection.set_job_plan(durations=(0.1, 0.2), logs=("done",))
    hub_connection.set_endpoint_plan("ep", [("pending", 0.1), ("running", None)])
    hub_connection.add_user("bob", email="bob@gmail.com")
    hub_connection.add_access_requests("alice/gated", [{"user": "bob"}])
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="in/a.txt", Body=b"a")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    repo = "alice/everything"
    endpoint = {"name": "ep", "poll_interval": 0.1}
    with DAG("links_of_every_operator", schedule=None, start_date=START, catchup=False) as dag:
        create = HfCreateRepoOperator(task_id="create_repo", repo_id=repo)
        upload = HfUploadFolderOperator(task_id="upload", repo_id=repo, folder_path=str(tmp_path / "model"))
        commit = HfCreateCommitOperator(
            task_id="commit",
            repo_id=repo,
            commit_message="Version",
            operations=[{"op": "add", "path_in_repo": "VERSION", "content": "1"}],
        )
        tag = HfCreateTagOperator(task_id="tag", repo_id=repo, tag="v1")
        sense = HfRepoFileSensor(
            task_id="sense_file", repo_id=repo, path_in_repo="VERSION", poke_interval=0.1
        )
        create >> upload >> commit >> [tag, sense]
        upload >> [
            HfUploadLargeFolderOperator(
                task_id="upload_large",
                repo_id="alice/corpus",
                repo_type="dataset",
                folder_path=str(tmp_path / "model"),
            ),
            HfDownloadOperator(task_id="download", repo_id=repo, destination=str(tmp_path / "downloaded")),
        ]
        num = "{{ ti.xcom_pull(task_ids='open_pr')['num'] }}"
        question = "{{ ti.xcom_pull(task_ids='open_question')['num'] }}"
        chain(
            [tag, sense],
            HfCreatePullRequestOperator(task_id="open_pr", repo_id=repo, title="Review"),
            HfCommentDiscussionOperator(task_id="comment", repo_id=repo, discussion_num=num, comment="ok"),
            HfMergePullRequestOperator(task_id="merge", repo_id=repo, discussion_num=num),
            HfPullRequestSensor(task_id="sense_pr", repo_id=repo, discussion_num=num, poke_interval=0.1),
            HfUpdateRepoSettingsOperator(task_id="settings", repo_id=repo, gated="auto"),
            HfCreateBranchOperator(task_id="branch", repo_id=repo, branch="rc"),
            HfRevisionSensor(task_id="sense_revision", repo_id=repo, revision="rc", poke_interval=0.1),
            HfDeleteBranchOperator(task_id="drop_branch", repo_id=repo, branch="rc"),
            HfDeleteLfsFilesOperator(task_id="lfs_dry_run", repo_id=repo),
            HfCreatePullRequestOperator(task_id="open_question", repo_id=repo, title="Question"),
            HfChangeDiscussionStatusOperator(task_id="close", repo_id=repo, discussion_num=question),
            HfSquashHistoryOperator(task_id="squash", repo_id=repo, commit_message="Snapshot"),
        )
        chain(
            HfCreateRepoOperator(
                task_id="create_space", repo_id="alice/space", repo_type="space", space_sdk="gradio"
            ),
            HfUpdateSpaceOperator(task_id="update_space", repo_id="alice/space", variables={"A": "1"}),
            HfRestartSpaceOperator(task_id="restart_space", repo_id="alice/space", poll_interval=0.1),
            HfSpaceSensor(task_id="sense_space", repo_id="alice/space", poke_interval=0.1),
            HfPauseSpaceOperator(task_id="pause_space", repo_id="alice/space"),
        )
        HfAcceptAccessRequestsOperator(task_id="triage", repo_id="alice/gated", allow_users=["bob"])
        run_job = HfRunJobOperator(
            task_id="run_job", image="python:3.12", command=["python", "x.py"], poll_interval=0.1
        )
        sense_job = HfJobSensor(
            task_id="sense_job",
            job_id="{{ ti.xcom_pull(task_ids='run_job', key='job_id') }}",
            poke_interval=0.1,
        )
        run_job >> sense_job
        (
            HfCreateInferenceEndpointOperator(task_id="create_ep", repository="alice/model", **endpoint)
            >> HfInferenceEndpointSensor(task_id="sense_ep", name="ep", poke_interval=0.1)
            >> HfUpdateInferenceEndpointOperator(task_id="update_ep", max_replica=2, **endpoint)
            >> HfPauseInferenceEndpointOperator(task_id="pause_ep", **endpoint)
            >> HfResumeInferenceEndpointOperator(task_id="resume_ep", **endpoint)
            >> HfScaleToZeroInferenceEndpointOperator(task_id="zero_ep", **endpoint)
            >> HfDeleteInferenceEndpointOperator(task_id="delete_ep", name="ep")
        )
        (
            S3ToHfHubOperator(
                task_id="s3_to_hub",
                s3_bucket="bucket",
                s3_prefix="in/",
                repo_id="alice/mirror",
                create_repo=True,
            )
            >> HfHubToS3Operator(
                task_id="hub_to_s3", repo_id="alice/mirror", s3_bucket="bucket", s3_prefix="out"
            )
        )

    # A new operator class that declares a link gets a task above.
    classes = {type(task) for task in dag.tasks}
    assert {c for c in provider_operator_classes() if c.operator_extra_links} <= classes

    dag_run = run_dag(dag)
    assert set(states_of(dag_run).values()) == {"success"}, states_of(dag_run)

    links = links_of(dag_run)
    declared = {task.task_id: {link.name for link in task.operator_extra_links} for task in dag.tasks}
    for (task_id, _), resolved in links.items():
        assert set(resolved) == declared[task_id]
        assert all(resolved.values()), (task_id, resolved)  # every declared link was set
    url = hub_connection.url
    assert links["create_repo", -1] == {REPO_LINK: f"{url}/{repo}"}
    assert links["tag", -1][COMMIT_LINK] == links["commit", -1][COMMIT_LINK]
    assert links["commit", -1][COMMIT_LINK].startswith(f"{url}/{repo}/commit/")
    assert links["triage", -1] == {REPO_LINK: f"{url}/alice/gated"}
    assert links["run_job", -1][JOB_LINK] == links["sense_job", -1][JOB_LINK]
    assert links["run_job", -1][JOB_LINK].startswith(f"{url}/jobs/alice/")
    assert links["delete_ep", -1] == {}  # a deleted Endpoint has no page
    assert len({links[t, -1][ENDPOINT_LINK] for t in ("create_ep", "sense_ep", "update_ep", "zero_ep")}) == 1
    assert links["s3_to_hub", -1][REPO_LINK] == links["hub_to_s3", -1][REPO_LINK] == f"{url}/alice/mirror"
    pr_page = xcom_value(dag_run, "open_pr")["url"]
    assert pr_page.startswith(f"{url}/{repo}/discussions/")
    assert {links[t, -1][DISCUSSION_LINK] for t in ("open_pr", "merge", "sense_pr")} == {pr_page}
    assert links["comment", -1][DISCUSSION_LINK].startswith(f"{pr_page}#")
    assert links["close", -1][DISCUSSION_LINK] == xcom_value(dag_run, "open_question")["url"]
    space_page = f"{url}/spaces/alice/space"
    spaces = ("update_space", "restart_space", "sense_space", "pause_space")
    assert {links[t, -1][SPACE_LINK] for t in spaces} == {space_page}

"""The pull request operators in real DAG runs against the emulator: open, push, comment, merge, close;
each change once under lost answers; bad input refused before any request."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG
from huggingface_hub import HfApi

from airflow_provider_hub.operators.discussions import (
    HfChangeDiscussionStatusOperator,
    HfCommentDiscussionOperator,
    HfCreatePullRequestOperator,
    HfMergePullRequestOperator,
)
from airflow_provider_hub.operators.repo import HfUploadFolderOperator
from tests.helpers import task_states, xcom_value

NUM = "{{ ti.xcom_pull(task_ids='open_review')['num'] }}"


def logged(capfd) -> str:
    """What the DAG run printed (task logs go to the console under dag.test)."""
    out, err = capfd.readouterr()
    return out + err


@pytest.fixture
def api(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/m")
    return api


def review_dag(dag_id: str, folder, *, merge: bool = True) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        opened = HfCreatePullRequestOperator(
            task_id="open_review", repo_id="alice/m", title="Candidate {{ dag_run.run_after | ds }}"
        )
        push = HfUploadFolderOperator(
            task_id="push",
            repo_id="alice/m",
            folder_path=str(folder),
            revision="{{ ti.xcom_pull(task_ids='open_review')['git_reference'] }}",
            commit_message="Candidate weights",
        )
        comment = HfCommentDiscussionOperator(
            task_id="report", repo_id="alice/m", discussion_num=NUM, comment="accuracy: 0.93"
        )
        if merge:
            decide = HfMergePullRequestOperator(task_id="decide", repo_id="alice/m", discussion_num=NUM)
        else:
            decide = HfChangeDiscussionStatusOperator(
                task_id="decide", repo_id="alice/m", discussion_num=NUM, comment="Below the bar"
            )
        opened >> push >> comment >> decide
    return dag


def test_a_reviewed_candidate_is_pushed_commented_and_merged(api, hub_connection, run_dag, tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0weights")
    run = run_dag(review_dag("review_merge", tmp_path))
    assert set(task_states(run).values()) == {"success"}
    opened = xcom_value(run, "open_review")
    assert opened["git_reference"] == f"refs/pr/{opened['num']}"
    assert opened["url"] == f"{hub_connection.url}/alice/m/discussions/{opened['num']}"
    comment = xcom_value(run, "report")
    assert comment["url"] == f"{opened['url']}#{comment['comment_id']}"
    merged = xcom_value(run, "decide")
    assert merged == {
        "num": opened["num"],
        "status": "merged",
        "merge_commit_oid": api.model_info("alice/m").sha,
    }
    assert "model.bin" in api.list_repo_files("alice/m")
    details = api.get_discussion_details("alice/m", opened["num"])
    assert details.title.startswith("Candidate ")
    comments = [e.content for e in details.events if e.type == "comment"]
    assert len(comments) == 2 and comments[1].startswith("accuracy: 0.93")
    assert xcom_value(run, "decide", key="hf_discussion_url") == opened["url"]


def test_a_rejected_candidate_is_closed_and_main_keeps_its_files(api, run_dag, tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0weights")
    run = run_dag(review_dag("review_close", tmp_path, merge=False))
    assert set(task_states(run).values()) == {"success"}
    num = xcom_value(run, "open_review")["num"]
    assert xcom_value(run, "decide") == {"num": num, "status": "closed"}
    assert api.list_repo_files("alice/m") == [".gitattributes"]
    assert [d.num for d in api.get_repo_discussions("alice/m", discussion_status="closed")] == [num]


def test_lost_answers_do_not_open_comment_or_merge_twice(api, hub_connection, run_dag, tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\0weights")
    for route in ("/api/models/alice/m/discussions", "/api/models/alice/m/discussions/*/comment",
                  "/api/models/alice/m/discussions/*/merge"):  # fmt: skip
        hub_connection.inject_fault(route, status=502, method="POST", after_apply=True, times=1)
    run = run_dag(review_dag("review_lost_answers", tmp_path))
    assert set(task_states(run).values()) == {"success"}
    [pr] = api.get_repo_discussions("alice/m")
    assert pr.status == "merged"
    comments = [e for e in api.get_discussion_details("alice/m", pr.num).events if e.type == "comment"]
    assert len(comments) == 2  # the description, and one report


def test_merging_a_merged_pull_request_succeeds_and_a_closed_one_fails(api, run_dag):
    merged = api.create_pull_request("alice/m", title="Done").num
    api.merge_pull_request("alice/m", merged)
    closed = api.create_pull_request("alice/m", title="Dropped").num
    api.change_discussion_status("alice/m", closed, "closed")
    with DAG("merge_twice", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfMergePullRequestOperator(task_id="again", repo_id="alice/m", discussion_num=merged)
        HfMergePullRequestOperator(task_id="closed", repo_id="alice/m", discussion_num=closed)
        HfChangeDiscussionStatusOperator(task_id="close_again", repo_id="alice/m", discussion_num=closed)
    run = run_dag(dag)
    assert task_states(run) == {"again": "success", "closed": "failed", "close_again": "success"}
    assert xcom_value(run, "again")["status"] == "merged"
    closing_events = [
        e for e in api.get_discussion_details("alice/m", closed).events if e.type == "status-change"
    ]
    assert len(closing_events) == 1  # closing a closed PR changed nothing


@pytest.mark.parametrize(
    ("operator", "field"),
    [
        (
            lambda: HfCommentDiscussionOperator(
                task_id="t", repo_id="alice/m", discussion_num="abc", comment="x"
            ),
            "discussion_num",
        ),
        (
            lambda: HfCommentDiscussionOperator(
                task_id="t", repo_id="alice/m", discussion_num=1, comment="  "
            ),
            "comment",
        ),
        (
            lambda: HfMergePullRequestOperator(task_id="t", repo_id="alice/m", discussion_num=0),
            "discussion_num",
        ),
        (
            lambda: HfChangeDiscussionStatusOperator(
                task_id="t", repo_id="alice/m", discussion_num=1, new_status="merged"
            ),
            "new_status",
        ),
        (lambda: HfCreatePullRequestOperator(task_id="t", repo_id="alice/m", title=""), "title"),
        (lambda: HfCreatePullRequestOperator(task_id="t", repo_id="not a repo", title="x"), "repo_id"),
    ],
)
def test_bad_input_fails_naming_the_field_before_any_request(
    api, hub_connection, run_dag, operator, field, capfd
):
    with DAG(f"bad_{field}", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        operator()
    hub_connection.reset_counts()
    run = run_dag(dag)
    assert task_states(run) == {"t": "failed"}
    assert hub_connection.request_count("/api/models/alice/*/discussions*") == 0
    assert field in logged(capfd)


def test_upload_with_create_pr_returns_the_pr_and_a_lost_answer_opens_one(
    api, hub_connection, run_dag, tmp_path
):
    (tmp_path / "a.txt").write_text("a")
    hub_connection.inject_fault(
        "/api/models/alice/m/commit/*", status=502, method="POST", after_apply=True, times=1
    )
    with DAG("upload_pr", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        HfUploadFolderOperator(task_id="upload", repo_id="alice/m", folder_path=str(tmp_path), create_pr=True)
    run = run_dag(dag)
    assert task_states(run) == {"upload": "success"}
    result = xcom_value(run, "upload")
    [pr] = api.get_repo_discussions("alice/m")
    assert (result["pr_num"], result["pr_url"], result["recovered"]) == (pr.num, pr.url, True)
    assert "a.txt" in api.list_repo_files("alice/m", revision=pr.git_reference)
    # The same upload again (a retried task) finds that pull request instead of opening another.
    again = run_dag(dag)
    assert xcom_value(again, "upload")["pr_num"] == pr.num
    assert len(list(api.get_repo_discussions("alice/m"))) == 1

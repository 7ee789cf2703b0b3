"""Repo lifecycle and hygiene operators in real DAG runs against the emulator: settings, branches, delete,
squash, LFS storage clean-up (dry run first), and the revision sensor; bad input refused before any request."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pendulum
import pytest
from airflow.sdk import DAG
from huggingface_hub import HfApi

from airflow_provider_hub.operators.repo import (
    HfCreateBranchOperator,
    HfDeleteBranchOperator,
    HfDeleteLfsFilesOperator,
    HfDeleteRepoOperator,
    HfSquashHistoryOperator,
    HfUpdateRepoSettingsOperator,
)
from airflow_provider_hub.sensors.repo import HfRevisionSensor
from tests.helpers import task_states, xcom_value


@pytest.fixture
def api(hub_connection):
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/m", private=True)
    return api


def one_task_dag(dag_id: str, operator) -> DAG:
    with DAG(dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        operator()
    return dag


def test_release_makes_the_repo_public_and_gated_then_branches_and_cleans_up(api, run_dag):
    with DAG("lifecycle", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        (
            HfUpdateRepoSettingsOperator(task_id="publish", repo_id="alice/m", private=False, gated="auto")
            >> HfCreateBranchOperator(task_id="branch", repo_id="alice/m", branch="release")
            >> HfCreateBranchOperator(task_id="branch_again", repo_id="alice/m", branch="release")
            >> HfDeleteBranchOperator(task_id="drop", repo_id="alice/m", branch="release")
            >> HfDeleteBranchOperator(task_id="drop_again", repo_id="alice/m", branch="release")
        )
    run = run_dag(dag)
    assert set(task_states(run).values()) == {"success"}
    assert xcom_value(run, "publish") == {
        "repo_id": "alice/m",
        "repo_type": "model",
        "private": False,
        "gated": "auto",
    }
    head = api.model_info("alice/m").sha
    assert (
        xcom_value(run, "branch")
        == xcom_value(run, "branch_again")
        == {
            "repo_id": "alice/m",
            "branch": "release",
            "commit_oid": head,
        }
    )
    assert (xcom_value(run, "drop")["deleted"], xcom_value(run, "drop_again")["deleted"]) == (True, False)
    assert [b.name for b in api.list_repo_refs("alice/m").branches] == ["main"]
    info = api.model_info("alice/m")
    assert (info.private, info.gated) == (False, "auto")


def test_deleting_a_repo_twice_is_fine_unless_asked_otherwise(api, run_dag):
    run = run_dag(one_task_dag("delete_repo", lambda: HfDeleteRepoOperator(task_id="t", repo_id="alice/m")))
    assert xcom_value(run, "t")["deleted"] is True and not api.repo_exists("alice/m")
    run = run_dag(one_task_dag("delete_gone", lambda: HfDeleteRepoOperator(task_id="t", repo_id="alice/m")))
    assert xcom_value(run, "t")["deleted"] is False
    strict = run_dag(
        one_task_dag(
            "delete_strict", lambda: HfDeleteRepoOperator(task_id="t", repo_id="alice/m", missing_ok=False)
        )
    )
    assert task_states(strict) == {"t": "failed"}


def test_squash_leaves_one_commit_and_the_tags_and_repeats_safely(api, hub_connection, run_dag):
    for index in range(4):
        api.upload_file(path_or_fileobj=str(index).encode(), path_in_repo=f"{index}.txt", repo_id="alice/m")
    api.create_tag("alice/m", tag="v1")
    tagged = api.model_info("alice/m").sha
    hub_connection.inject_fault(
        "/api/models/alice/m/super-squash/*", status=502, method="POST", after_apply=True, times=1
    )
    squash = lambda: HfSquashHistoryOperator(task_id="t", repo_id="alice/m", commit_message="Snapshot")  # noqa: E731
    run = run_dag(one_task_dag("squash", squash))
    assert task_states(run) == {"t": "success"}
    commits = api.list_repo_commits("alice/m")
    assert [c.title for c in commits] == ["Snapshot"] and xcom_value(run, "t")["head_oid"] == commits[
        0
    ].commit_id
    assert sorted(api.list_repo_files("alice/m")) == [".gitattributes", "0.txt", "1.txt", "2.txt", "3.txt"]
    assert [t.target_commit for t in api.list_repo_refs("alice/m").tags] == [tagged]


def test_lfs_clean_up_frees_only_unreferenced_old_files_after_a_dry_run(api, run_dag):
    api.upload_file(path_or_fileobj=b"\0old snapshot", path_in_repo="snapshots/2025.bin", repo_id="alice/m")
    api.delete_file("snapshots/2025.bin", "alice/m")
    api.upload_file(path_or_fileobj=b"\0tagged weights", path_in_repo="model.bin", repo_id="alice/m")
    api.create_tag("alice/m", tag="v1")
    api.upload_file(
        path_or_fileobj=b"\0current", path_in_repo="model.bin", repo_id="alice/m"
    )  # v1 keeps the old
    api.upload_file(path_or_fileobj=b"\0scratch", path_in_repo="scratch/x.bin", repo_id="alice/m")
    api.delete_file("scratch/x.bin", "alice/m")
    sizes = {f.filename: f.size for f in api.list_lfs_files("alice/m")}

    def clean(dry_run: bool):
        return lambda: HfDeleteLfsFilesOperator(
            task_id="t", repo_id="alice/m", patterns=["snapshots/*"], older_than=timedelta(0), dry_run=dry_run
        )

    dry = run_dag(one_task_dag("lfs_dry", clean(True)))
    assert xcom_value(dry, "t") == {
        "dry_run": True,
        "files": 1,
        "bytes": sizes["snapshots/2025.bin"],
        "deleted": 0,
    }
    assert len(list(api.list_lfs_files("alice/m"))) == 4
    real = run_dag(one_task_dag("lfs_real", clean(False)))
    assert xcom_value(real, "t") == {
        "dry_run": False,
        "files": 1,
        "bytes": sizes["snapshots/2025.bin"],
        "deleted": 1,
    }
    left = sorted(f.filename for f in api.list_lfs_files("alice/m"))
    assert left == ["model.bin", "model.bin", "scratch/x.bin"]  # the tagged and current weights, the scratch
    again = run_dag(one_task_dag("lfs_again", clean(False)))
    assert xcom_value(again, "t")["files"] == 0
    # Without patterns, everything unreferenced goes (the scratch file); a future cutoff keeps all.
    everything = run_dag(
        one_task_dag(
            "lfs_all", lambda: HfDeleteLfsFilesOperator(task_id="t", repo_id="alice/m", dry_run=False)
        )
    )
    assert xcom_value(everything, "t")["deleted"] == 1
    assert sorted(f.filename for f in api.list_lfs_files("alice/m")) == ["model.bin", "model.bin"]


@pytest.mark.parametrize(
    ("operator", "field"),
    [
        (lambda: HfUpdateRepoSettingsOperator(task_id="t", repo_id="alice/m", gated="yes"), "gated"),
        (lambda: HfUpdateRepoSettingsOperator(task_id="t", repo_id="alice/m"), "nothing to change"),
        (lambda: HfCreateBranchOperator(task_id="t", repo_id="alice/m", branch="has space"), "branch"),
        (lambda: HfDeleteBranchOperator(task_id="t", repo_id="alice/m", branch="main"), "main"),
        (
            lambda: HfDeleteLfsFilesOperator(task_id="t", repo_id="alice/m", older_than="last week"),
            "older_than",
        ),
        (lambda: HfSquashHistoryOperator(task_id="t", repo_id="alice/m", branch="a..b"), "branch"),
    ],
)
def test_bad_input_fails_naming_the_field_before_any_request(
    api, hub_connection, run_dag, operator, field, capfd
):
    hub_connection.reset_counts()
    run = run_dag(one_task_dag(f"bad_{abs(hash(field))}", operator))
    assert task_states(run) == {"t": "failed"}
    assert hub_connection.request_count() == 0
    out, err = capfd.readouterr()
    assert field in out + err


@pytest.mark.parametrize("deferrable", [False, True])
def test_revision_sensor_waits_for_a_tag(api, run_dag, deferrable):
    def tag_later() -> None:
        time.sleep(0.5)
        api.create_tag("alice/m", tag="v2")

    tagging = threading.Thread(target=tag_later)
    tagging.start()
    run = run_dag(
        one_task_dag(
            f"wait_tag_{deferrable}",
            lambda: HfRevisionSensor(
                task_id="t",
                repo_id="alice/m",
                revision="v2",
                poke_interval=0.1,
                deferrable=deferrable,
                timeout=30,
            ),
        )
    )
    tagging.join()
    assert task_states(run) == {"t": "success"}
    assert xcom_value(run, "t") == {"revision": "v2", "commit_oid": api.model_info("alice/m").sha}


@pytest.mark.parametrize("deferrable", [False, True])
def test_revision_sensor_times_out_on_a_revision_that_never_comes(api, run_dag, deferrable):
    run = run_dag(
        one_task_dag(
            f"wait_never_{deferrable}",
            lambda: HfRevisionSensor(
                task_id="t",
                repo_id="alice/m",
                revision="v9",
                poke_interval=0.1,
                deferrable=deferrable,
                timeout=1,
            ),
        )
    )
    assert task_states(run) == {"t": "failed"}

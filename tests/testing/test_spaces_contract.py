"""Contract tests of the emulator's Spaces area (runtime, restart, pause, hardware, sleep time, dev mode,
volumes, secrets, variables and the runtime plans), driven by the real ``huggingface_hub`` client."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import httpx
import pytest
from huggingface_hub import HfApi, SpaceRuntime, Volume
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RepositoryNotFoundError

from airflow_provider_hub.testing import HubEmulator

SPACE = "alice/demo"
#: Short plans: long enough to be seen by a poll, short enough for the suite.
FAST = [("BUILDING", 0.15), ("RUNNING", None)]


@pytest.fixture
def running(api: HfApi) -> str:
    """A Gradio Space that has finished its first build."""
    api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
    assert api.wait_for_space(SPACE, timeout=5, poll_interval=0.05).stage == "RUNNING"
    return SPACE


def _stages_until(
    read: Callable[[], SpaceRuntime], done: Callable[[SpaceRuntime], bool], timeout: float = 5
) -> tuple[list[str], SpaceRuntime]:
    """Poll ``read`` until ``done``; the distinct stages seen, in order, and the last runtime."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        runtime = read()
        if not seen or seen[-1] != runtime.stage:
            seen.append(runtime.stage)
        if done(runtime):
            return seen, runtime
        assert time.monotonic() < deadline, f"still {runtime.stage} after {timeout}s (seen {seen})"
        time.sleep(0.02)


def _in_order(seen: list[str], plan: list[str]) -> None:
    """``seen`` walked ``plan`` from its first stage to its last, in order (a poll may miss a short step)."""
    assert seen[0] == plan[0] and seen[-1] == plan[-1], seen
    assert [stage for stage in plan if stage in seen] == seen, seen


def _forbidden(call: Callable[[], object]) -> HfHubHTTPError:
    with pytest.raises(HfHubHTTPError) as raised:
        call()
    assert raised.value.response.status_code == 403
    assert raised.value.response.headers["X-Error-Message"]
    return raised.value


# -- runtime and the default plan --------------------------------------------------------------------
def test_a_new_space_builds_then_runs_and_reports_the_runtime_fields(api: HfApi) -> None:
    api.create_repo(SPACE, repo_type="space", space_sdk="gradio")
    first = api.get_space_runtime(SPACE)
    # As on the Hub: a new Space is building, on no hardware yet, with the free hardware requested.
    assert first.stage == "BUILDING"
    assert first.hardware is None and first.requested_hardware == "cpu-basic"
    assert first.sleep_time == 48 * 3600 and first.storage is None and first.dev_mode is False
    assert first.volumes is None and "errorMessage" not in first.raw
    assert first.raw["domains"] == [{"domain": "alice-demo.hf.space", "stage": "READY"}]

    seen, last = _stages_until(lambda: api.get_space_runtime(SPACE), lambda r: r.stage == "RUNNING")
    _in_order(seen, ["BUILDING", "APP_STARTING", "RUNNING"])
    assert last.hardware == "cpu-basic" and last.raw["replicas"] == {"current": 1, "requested": 1}
    assert api.wait_for_space(SPACE, timeout=2, poll_interval=0.05).stage == "RUNNING"


def test_space_info_and_list_spaces_carry_the_runtime(api: HfApi, running: str) -> None:
    assert api.space_info(running).runtime.stage == "RUNNING"
    info = api.space_info(running, expand=["runtime"])
    assert info.runtime.stage == "RUNNING" and info.runtime.hardware == "cpu-basic"
    listed = list(api.list_spaces(author="alice", expand=["runtime"]))
    assert [(s.id, s.runtime.stage) for s in listed] == [(running, "RUNNING")]
    api.pause_space(running)
    assert api.space_info(running).runtime.stage == "PAUSED"


def test_a_seeded_space_has_a_runtime_too(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("acme/seeded", repo_type="space")
    runtime = api.get_space_runtime("acme/seeded")
    assert runtime.stage in ("BUILDING", "APP_STARTING", "RUNNING")
    assert api.wait_for_space("acme/seeded", timeout=5, poll_interval=0.05).hardware == "cpu-basic"


# -- plans ---------------------------------------------------------------------------------------
def test_a_plan_applies_from_the_next_restart_and_each_one_after(
    api: HfApi, hub_connection: HubEmulator, running: str
) -> None:
    hub_connection.set_space_plan(running, [("BUILDING", 0.3), ("RUNNING_BUILDING", 0.3), ("RUNNING", None)])
    assert api.get_space_runtime(running).stage == "RUNNING"  # not before the next start
    assert api.restart_space(running).stage == "BUILDING"
    seen, _ = _stages_until(lambda: api.get_space_runtime(running), lambda r: r.stage == "RUNNING")
    assert seen == ["BUILDING", "RUNNING_BUILDING", "RUNNING"]
    # A factory reboot replays the plan too.
    assert api.restart_space(running, factory_reboot=True).stage == "BUILDING"
    seen, _ = _stages_until(lambda: api.get_space_runtime(running), lambda r: r.stage == "RUNNING")
    _in_order(seen, ["BUILDING", "RUNNING_BUILDING", "RUNNING"])


def test_a_plan_set_before_the_space_exists_is_its_first_build(
    api: HfApi, hub_connection: HubEmulator
) -> None:
    hub_connection.set_space_plan("alice/later", [("BUILDING", 0.1), ("NO_APP_FILE", None)])
    api.create_repo("alice/later", repo_type="space", space_sdk="docker")
    final = api.wait_for_space("alice/later", timeout=5, poll_interval=0.05)
    assert final.stage == "NO_APP_FILE" and final.raw["errorMessage"]


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ("BUILD_ERROR", "ERROR: Could not find a version that satisfies the requirement torch==9.9"),
        ("RUNTIME_ERROR", None),
        ("CONFIG_ERROR", None),
        ("NO_APP_FILE", None),
    ],
)
def test_an_error_stage_carries_the_spaces_message(
    api: HfApi, hub_connection: HubEmulator, running: str, stage: str, message: str | None
) -> None:
    hub_connection.set_space_plan(running, [("BUILDING", 0.1), (stage, None)], error_message=message)
    api.restart_space(running)
    final = api.wait_for_space(running, timeout=5, poll_interval=0.05)  # an error stage is terminal
    assert final.stage == stage
    if message is None:
        assert isinstance(final.raw["errorMessage"], str) and final.raw["errorMessage"]
    else:
        assert final.raw["errorMessage"] == message
    # Never built on it: the hardware is the one it ran on before.
    assert final.hardware == "cpu-basic" and final.raw["replicas"]["current"] == 0


def test_a_commit_on_main_applies_the_plan_and_other_branches_do_not(
    api: HfApi, hub_connection: HubEmulator, running: str
) -> None:
    hub_connection.set_space_plan(
        running, [("BUILDING", 0.3), ("RUNTIME_ERROR", None)], error_message="ModuleNotFoundError: gradio_x"
    )
    api.create_branch(running, repo_type="space", branch="dev")
    api.upload_file(
        path_or_fileobj=b"print(1)\n",
        path_in_repo="app.py",
        repo_id=running,
        repo_type="space",
        revision="dev",
    )
    assert api.get_space_runtime(running).stage == "RUNNING"

    api.upload_file(
        path_or_fileobj=b"import gradio_x\n", path_in_repo="app.py", repo_id=running, repo_type="space"
    )
    seen, final = _stages_until(lambda: api.get_space_runtime(running), lambda r: r.stage == "RUNTIME_ERROR")
    assert seen == ["BUILDING", "RUNTIME_ERROR"]
    assert final.raw["errorMessage"] == "ModuleNotFoundError: gradio_x"


def test_without_a_plan_a_commit_rebuilds_while_the_app_keeps_running(api: HfApi, running: str) -> None:
    api.upload_file(path_or_fileobj=b"print(2)\n", path_in_repo="app.py", repo_id=running, repo_type="space")
    seen, final = _stages_until(lambda: api.get_space_runtime(running), lambda r: r.stage == "RUNNING")
    _in_order(seen, ["RUNNING_BUILDING", "RUNNING_APP_STARTING", "RUNNING"])
    assert final.hardware == "cpu-basic"


def test_the_plan_is_seeded_over_http_too(api: HfApi, hub_connection: HubEmulator, running: str) -> None:
    answer = httpx.post(
        f"{hub_connection.url}/_emulator/set_space_plan",
        json={
            "repo_id": running,
            "transitions": [["BUILDING", 0.1], ["BUILD_ERROR", None]],
            "error_message": "boom",
        },
    )
    assert answer.status_code == 200 and answer.json() == {"result": None}
    api.restart_space(running)
    final = api.wait_for_space(running, timeout=5, poll_interval=0.05)
    assert (final.stage, final.raw["errorMessage"]) == ("BUILD_ERROR", "boom")

    unknown = httpx.post(
        f"{hub_connection.url}/_emulator/set_space_plan",
        json={"repo_id": running, "transitions": [["LAUNCHING", None]]},
    )
    assert unknown.status_code == 400 and "LAUNCHING" in unknown.json()["error"]
    with pytest.raises(ValueError, match="only the last"):
        hub_connection.set_space_plan(running, [("BUILDING", None), ("RUNNING", None)])


# -- pause, hardware, sleep time, dev mode, volumes ------------------------------------------------
def test_pause_holds_the_space_until_it_is_restarted(
    api: HfApi, hub_connection: HubEmulator, running: str
) -> None:
    paused = api.pause_space(running)
    assert paused.stage == "PAUSED" and paused.hardware is None and paused.requested_hardware == "cpu-basic"
    # A commit and a hardware request do not wake it.
    api.upload_file(path_or_fileobj=b"print(3)\n", path_in_repo="app.py", repo_id=running, repo_type="space")
    assert api.request_space_hardware(running, "t4-small").stage == "PAUSED"
    assert api.get_space_runtime(running).stage == "PAUSED"

    hub_connection.set_space_plan(running, FAST)
    restarted = api.restart_space(running)
    assert restarted.stage == "BUILDING" and restarted.requested_hardware == "t4-small"
    final = api.wait_for_space(running, timeout=5, poll_interval=0.05)
    assert final.stage == "RUNNING" and final.hardware == "t4-small"


def test_a_hardware_request_restarts_the_space_on_it(
    api: HfApi, hub_connection: HubEmulator, running: str
) -> None:
    hub_connection.set_space_plan(running, FAST)
    asked = api.request_space_hardware(running, "a10g-small", sleep_time=3600)
    # Requested at once; the Space still runs on its old hardware until the new build is up.
    assert asked.stage == "BUILDING"
    assert (asked.requested_hardware, asked.hardware, asked.sleep_time) == ("a10g-small", "cpu-basic", 3600)
    final = api.wait_for_space(running, timeout=5, poll_interval=0.05)
    assert (final.stage, final.hardware, final.requested_hardware) == ("RUNNING", "a10g-small", "a10g-small")

    with pytest.raises(BadRequestError):
        api.request_space_hardware(running, "quantum-x1")


def test_the_sleep_time_is_set_on_upgraded_hardware_and_fixed_on_the_free_one(
    api: HfApi, hub_connection: HubEmulator, running: str
) -> None:
    with pytest.warns(UserWarning, match="cpu-basic"):
        free = api.set_space_sleep_time(running, 600)
    assert free.sleep_time == 48 * 3600 and free.stage == "RUNNING"  # not a restart

    hub_connection.set_space_plan(running, FAST)
    assert api.request_space_hardware(running, "t4-medium").sleep_time is None  # never sleeps by default
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert api.set_space_sleep_time(running, 900).sleep_time == 900
        assert api.set_space_sleep_time(running, -1).sleep_time == -1
    with pytest.raises(BadRequestError):
        api.set_space_sleep_time(running, 0)


def test_dev_mode_is_switched_on_and_off(api: HfApi, running: str) -> None:
    assert api.enable_space_dev_mode(running).dev_mode is True
    assert api.get_space_runtime(running).dev_mode is True
    assert api.disable_space_dev_mode(running).dev_mode is False


def test_volumes_are_set_shown_and_deleted(api: HfApi, running: str) -> None:
    api.set_space_volumes(
        running,
        [
            Volume(type="model", source="alice/weights", mount_path="/weights"),
            Volume(type="bucket", source="alice/b", mount_path="/data"),
        ],
    )
    volumes = api.get_space_runtime(running).volumes
    assert [(v.type, v.source, v.mount_path) for v in volumes] == [
        ("model", "alice/weights", "/weights"),
        ("bucket", "alice/b", "/data"),
    ]
    api.delete_space_volumes(running)
    assert api.get_space_runtime(running).volumes is None
    with pytest.raises(BadRequestError):  # the Hub answers 400 when there are none
        api.delete_space_volumes(running)


def test_a_static_space_always_runs_and_refuses_runtime_changes(api: HfApi) -> None:
    api.create_repo("alice/site", repo_type="space", space_sdk="static")
    runtime = api.get_space_runtime("alice/site")
    assert runtime.stage == "RUNNING" and runtime.hardware is None and runtime.requested_hardware is None
    for change in (
        lambda: api.restart_space("alice/site"),
        lambda: api.pause_space("alice/site"),
        lambda: api.request_space_hardware("alice/site", "t4-small"),
        lambda: api.enable_space_dev_mode("alice/site"),
    ):
        with pytest.raises(BadRequestError, match="static"):
            change()
    assert "K" in api.add_space_variable("alice/site", "K", "v")


def test_create_repo_applies_the_space_arguments(api: HfApi) -> None:
    api.create_repo(
        "alice/gpu",
        repo_type="space",
        space_sdk="docker",
        space_hardware="t4-small",
        space_sleep_time=1800,
        space_secrets=[{"key": "TOKEN", "value": "s3cr3t", "description": "API token"}],
        space_variables=[{"key": "MODEL", "value": "alice/model"}],
    )
    runtime = api.get_space_runtime("alice/gpu")
    assert (runtime.requested_hardware, runtime.hardware, runtime.sleep_time) == ("t4-small", None, 1800)
    assert api.wait_for_space("alice/gpu", timeout=5, poll_interval=0.05).hardware == "t4-small"
    assert api.get_space_variables("alice/gpu")["MODEL"].value == "alice/model"
    assert api.get_space_secrets("alice/gpu")["TOKEN"].description == "API token"
    with pytest.raises(BadRequestError):
        api.create_repo("alice/bad", repo_type="space", space_sdk="gradio", space_hardware="quantum-x1")
    assert not api.repo_exists("alice/bad", repo_type="space")  # refused before it was created


# -- secrets and variables ----------------------------------------------------------------------
def test_secret_values_are_never_returned(api: HfApi, hub_connection: HubEmulator, running: str) -> None:
    api.add_space_secret(running, "HF_TOKEN", "hf_value_one", description="to push results")
    api.add_space_secret(running, "DB_PASSWORD", "value-two")
    api.add_space_secret(running, "DB_PASSWORD", "value-three")  # an update, not a second entry
    secrets = api.get_space_secrets(running)
    assert sorted(secrets) == ["DB_PASSWORD", "HF_TOKEN"]
    assert secrets["HF_TOKEN"].description == "to push results" and secrets["HF_TOKEN"].updated_at is not None
    raw = httpx.get(
        f"{hub_connection.url}/api/spaces/{running}/secrets", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert raw.status_code == 200 and all("value" not in entry for entry in raw.json().values())
    assert not any(value in raw.text for value in ("hf_value_one", "value-two", "value-three"))
    assert "hf_value_one" not in str(api.get_space_runtime(running).raw)

    api.delete_space_secret(running, "NEVER_SET")  # a missing key is no error
    api.delete_space_secret(running, "DB_PASSWORD")
    assert list(api.get_space_secrets(running)) == ["HF_TOKEN"]


def test_variables_answer_the_full_map(api: HfApi, running: str) -> None:
    assert list(api.add_space_variable(running, "A", "1")) == ["A"]
    api.add_space_variable(running, "B", "2", description="second")
    answer = api.add_space_variable(running, "C", "3")
    assert {key: v.value for key, v in answer.items()} == {"A": "1", "B": "2", "C": "3"}
    updated = api.add_space_variable(running, "A", "one")
    assert updated["A"].value == "one" and len(updated) == 3
    assert updated["B"].description == "second"

    # Deleting a key that never existed isn't an error and changes nothing (huggingface_hub's own test).
    assert len(api.delete_space_variable(running, "NEVER_SET")) == 3
    remaining = api.delete_space_variable(running, "B")
    assert {key: v.value for key, v in remaining.items()} == {"A": "one", "C": "3"}
    assert {key: v.value for key, v in api.get_space_variables(running).items()} == {"A": "one", "C": "3"}


# -- permissions and missing Spaces ----------------------------------------------------------------
def test_only_writers_of_the_namespace_change_a_space(
    api: HfApi, hub_connection: HubEmulator, running: str
) -> None:
    api.add_space_variable(running, "VISIBLE", "yes")
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    # Reading the runtime and the variables of a public Space is open; its secrets' names are not.
    assert bob.get_space_runtime(running).stage == "RUNNING"
    assert bob.get_space_variables(running)["VISIBLE"].value == "yes"
    _forbidden(lambda: bob.get_space_secrets(running))
    for change in (
        lambda: bob.restart_space(running),
        lambda: bob.restart_space(running, factory_reboot=True),
        lambda: bob.pause_space(running),
        lambda: bob.request_space_hardware(running, "t4-small"),
        lambda: bob.set_space_sleep_time(running, 600),
        lambda: bob.enable_space_dev_mode(running),
        lambda: bob.add_space_secret(running, "K", "v"),
        lambda: bob.delete_space_secret(running, "K"),
        lambda: bob.add_space_variable(running, "K", "v"),
        lambda: bob.delete_space_variable(running, "VISIBLE"),
        lambda: bob.set_space_volumes(running, [Volume(source="alice/m", mount_path="/m")]),
    ):
        error = _forbidden(change)
        assert "alice/demo" in error.server_message
    assert api.get_space_runtime(running).stage == "RUNNING"
    assert list(api.get_space_variables(running)) == ["VISIBLE"]

    # A read token of the owner cannot change it either; an org member with write access can.
    reader = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice", role="read"))
    _forbidden(lambda: reader.pause_space(running))
    hub_connection.add_repo("acme/team", repo_type="space")
    carol = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("carol", orgs=["acme"]))
    assert carol.pause_space("acme/team").stage == "PAUSED"

    anonymous = HfApi(endpoint=hub_connection.url, token=False)
    with pytest.raises(HfHubHTTPError) as unauthenticated:
        anonymous.restart_space(running)
    assert unauthenticated.value.response.status_code == 401


def test_a_private_space_is_hidden_from_others(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/secret-space", repo_type="space", space_sdk="gradio", private=True)
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    for call in (
        lambda: bob.get_space_runtime("alice/secret-space"),
        lambda: bob.restart_space("alice/secret-space"),
        lambda: bob.get_space_variables("alice/secret-space"),
    ):
        with pytest.raises(RepositoryNotFoundError):
            call()
    assert api.get_space_runtime("alice/secret-space").stage in ("BUILDING", "APP_STARTING", "RUNNING")


def test_a_missing_space_or_another_repo_type_is_repo_not_found(api: HfApi) -> None:
    api.create_repo("alice/a-model")
    api.create_repo("alice/a-dataset", repo_type="dataset")
    for repo_id in ("alice/nope", "alice/a-model", "alice/a-dataset"):
        for call in (
            api.get_space_runtime,
            api.restart_space,
            api.pause_space,
            lambda r: api.request_space_hardware(r, "t4-small"),
            lambda r: api.add_space_secret(r, "K", "v"),
            api.get_space_variables,
            lambda r: api.delete_space_variable(r, "K"),
        ):
            with pytest.raises(RepositoryNotFoundError):
                call(repo_id)
    # A one-segment id names no Space either.
    with pytest.raises(RepositoryNotFoundError):
        api.restart_space("gpt2")
    with pytest.raises(RepositoryNotFoundError):
        api.get_space_runtime("gpt2")


def test_the_runtime_follows_a_moved_space_and_a_deleted_one_starts_afresh(api: HfApi, running: str) -> None:
    api.add_space_secret(running, "KEY", "v")
    api.enable_space_dev_mode(running)
    api.move_repo(running, "alice/renamed", repo_type="space")
    moved = api.get_space_runtime("alice/renamed")
    assert moved.dev_mode is True and list(api.get_space_secrets("alice/renamed")) == ["KEY"]

    api.delete_repo("alice/renamed", repo_type="space")
    api.create_repo("alice/renamed", repo_type="space", space_sdk="gradio")
    fresh = api.get_space_runtime("alice/renamed")
    assert fresh.stage == "BUILDING" and fresh.dev_mode is False
    assert api.get_space_secrets("alice/renamed") == {}

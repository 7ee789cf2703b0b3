"""Triggerer scale: 1,000 and 10,000 concurrent waits in one asyncio event loop against the emulator, a
quarter each ``HfJobTrigger``, ``HfInferenceEndpointTrigger``, ``HfSpaceTrigger`` and ``HfPullRequestTrigger``.

The emulator runs in its own process; the triggers run in a child process of their own (as in a
triggerer), so its resident memory and CPU time are the triggers' alone. The objects are seeded through the
emulator's HTTP API, interleaved by kind, each changing state ``--change-after`` seconds after it was created:
Jobs reach COMPLETED, Endpoints running and Spaces RUNNING by their plans; the benchmark opens each draft pull
request (``PRS_PER_REPO`` per repo) at its time. Until then every trigger polls every ``--poll`` seconds (5 s
by default, to keep the run short). That steady window gives the CPU time per poll cycle, extrapolated to a
30 s poll as a share of one core, and the Hub requests per interval (the emulator's request counters). Each
event's time minus its object's change time is the detection latency.

The triggers of one process share one poll per (connection, kind, namespace or repo, interval)
(``airflow_provider_hub/hooks/shared_polls.py``): the requests per interval are those of the listings, plus a
single read for each object a listing does not show. "before" is one request per wait per interval, what
every trigger made on its own until then.

``--starts``: in "staggered", trigger starts are spread over one poll interval, as tasks deferring at
different moments would be; in "same-instant", all start in the same instant: the worst case.

Targets: 10,000 waits <= 250 MB RSS for the triggers (growth of the process over its imports; the total is
reported too) and <= 10% of a core at a 30 s poll; 1,000 waits <= 100 MB and <= 2% of a core; every change
seen within poll + 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import headline, median, memory_kib, save, start_emulator, stop_emulator, table

#: Waits up to this many: (RSS of the triggers in MB, share of a core at a 30 s poll).
TARGETS = {1000: (100, 0.02), 10000: (250, 0.10)}
PRODUCTION_POLL = 30.0
#: ``--starts`` choices: are the trigger starts spread over one poll interval?
STARTS = {"staggered": True, "same-instant": False}
KINDS = ("job", "endpoint", "space", "pr")
#: Pull requests per repo: a pipeline opening PRs on a few repos (the listing of a repo's open PRs is shared).
PRS_PER_REPO = 100
#: Seeding time budgeted per object when ``--change-after`` is not given.
SEED_SECONDS_PER_OBJECT = 0.005
#: Emulator request-counter globs of each kind's reads (listings and single reads).
ROUTES = {
    "job": "/api/jobs/alice*",
    "endpoint": "/v2/endpoint/alice*",
    "space": "/api/spaces*",
    "pr": "/api/models/alice/scale-prs-*/discussions*",
}


def targets_for(waits: int) -> tuple[int, float]:
    return next((TARGETS[size] for size in sorted(TARGETS) if waits <= size), TARGETS[max(TARGETS)])


# -- the trigger process ---------------------------------------------------------------------------------
def run_triggers(spec_path: str, result_path: str) -> None:
    """Child process: start every trigger in one event loop, record events, CPU and memory over time."""
    import gc
    import logging

    spec = json.loads(Path(spec_path).read_text())
    logging.basicConfig(filename=spec["log_file"], level=logging.INFO)
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook
    from airflow_provider_hub.hooks.shared_polls import running_polls
    from airflow_provider_hub.triggers.discussions import HfPullRequestTrigger
    from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
    from airflow_provider_hub.triggers.jobs import HfJobTrigger
    from airflow_provider_hub.triggers.spaces import HfSpaceTrigger

    gc.collect()
    baseline_kib, _ = memory_kib()
    poll = spec["poll"]
    build = {
        "job": lambda key: HfJobTrigger(job_id=key, namespace="alice", poll_interval=poll),
        "endpoint": lambda key: HfInferenceEndpointTrigger(name=key, namespace="alice", poll_interval=poll),
        "space": lambda key: HfSpaceTrigger(repo_id=key, poll_interval=poll),
        "pr": lambda key: HfPullRequestTrigger(
            repo_id=key.split("#")[0],
            num=int(key.split("#")[1]),
            target_statuses=["open"],
            poll_interval=poll,
        ),
    }
    triggers = [(key, build[kind](key)) for key, kind in spec["objects"]]

    events: dict[str, dict[str, Any]] = {}
    samples: list[tuple[float, float, int]] = []

    async def watch(key: str, trigger: Any, delay: float) -> None:
        await asyncio.sleep(delay)
        async for event in trigger.run():
            events[key] = {"at": time.time(), "status": event.payload["status"]}
            return

    async def sample(stop: asyncio.Event) -> None:
        while not stop.is_set():
            samples.append((time.time(), time.process_time(), memory_kib()[0]))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)

    async def main() -> tuple[float, int]:
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample(stop))
        started = time.time()
        # Tasks defer at different moments, so a triggerer's polls are spread over the interval; the
        # same-instant run starts all of them (and so keeps them polling) together: the worst case.
        spread = poll if spec["stagger"] else 0.0
        watchers = [
            asyncio.create_task(watch(key, trigger, spread * index / len(triggers)))
            for index, (key, trigger) in enumerate(triggers)
        ]
        await asyncio.wait(watchers, timeout=spec["timeout"])
        for watcher in watchers:
            watcher.cancel()
        # Every poll ends at its second tick in a row without a subscriber.
        await asyncio.sleep(2 * poll + 1)
        left = len(running_polls())
        stop.set()
        await sampler
        await HfHubAsyncHook.aclose_shared_clients()
        return started, left

    started, polls_left = asyncio.run(main())
    Path(result_path).write_text(
        json.dumps(
            {
                "started": started,
                "baseline_kib": baseline_kib,
                "peak_kib": memory_kib()[1],
                "samples": samples,
                "events": events,
                "polls_left": polls_left,
            }
        )
    )


# -- the benchmark ---------------------------------------------------------------------------------------
ENDPOINT_BODY = {
    "type": "protected",
    "model": {"repository": "alice/scale-model", "framework": "pytorch", "image": {"huggingface": {}}},
    "compute": {
        "accelerator": "cpu",
        "instanceType": "intel-icl",
        "instanceSize": "x2",
        "scaling": {"minReplica": 1, "maxReplica": 1},
    },
    "provider": {"vendor": "aws", "region": "us-east-1"},
}


def seed(client: Any, waits: int, change_after: float) -> tuple[dict[str, str], dict[str, float]]:
    """Create ``waits`` objects, a quarter of each kind, interleaved; return ``{key: kind}`` and
    ``{key: time its state changes}`` (pull requests: when the benchmark opens them)."""
    per_kind = waits // len(KINDS)
    client.post("/api/repos/create", json={"name": "scale-model", "organization": "alice"}).raise_for_status()
    for repo in range((per_kind + PRS_PER_REPO - 1) // PRS_PER_REPO):
        client.post(
            "/api/repos/create", json={"name": f"scale-prs-{repo:03d}", "organization": "alice"}
        ).raise_for_status()
    # SCHEDULING for 0.5 s, then RUNNING until change_after, then COMPLETED.
    client.post(
        "/_emulator/set_job_plan", json={"durations": [0.5, change_after - 0.5], "logs": ["working"]}
    ).raise_for_status()
    kinds: dict[str, str] = {}
    changes: dict[str, float] = {}
    for index in range(per_kind):
        requested = time.time()  # the change time counts from before the request: a conservative latency
        response = client.post(
            "/api/jobs/alice",
            json={"dockerImage": "python:3.12", "command": ["python", "work.py"], "flavor": "cpu-basic"},
        )
        response.raise_for_status()
        kinds[response.json()["id"]], changes[response.json()["id"]] = "job", requested + change_after

        name = f"scale-endpoint-{index:05d}"
        client.post(
            "/_emulator/set_endpoint_plan",
            json={"name": name, "transitions": [["initializing", change_after], ["running", None]]},
        ).raise_for_status()
        requested = time.time()
        client.post("/v2/endpoint/alice", json={"name": name, **ENDPOINT_BODY}).raise_for_status()
        kinds[f"{name}"], changes[name] = "endpoint", requested + change_after

        space = f"alice/scale-space-{index:05d}"
        client.post(
            "/_emulator/set_space_plan",
            json={"repo_id": space, "transitions": [["BUILDING", change_after], ["RUNNING", None]]},
        ).raise_for_status()
        requested = time.time()
        client.post(
            "/api/repos/create",
            json={"name": space.split("/")[1], "organization": "alice", "type": "space", "sdk": "gradio"},
        ).raise_for_status()
        kinds[space], changes[space] = "space", requested + change_after

        repo = f"alice/scale-prs-{index // PRS_PER_REPO:03d}"
        response = client.post(
            f"/api/models/{repo}/discussions", json={"title": f"change {index}", "pullRequest": True}
        )
        response.raise_for_status()
        key = f"{repo}#{response.json()['num']}"
        kinds[key], changes[key] = "pr", time.time() + change_after
    return kinds, changes


def open_pull_requests(client: Any, due: dict[str, float], opened: dict[str, float]) -> None:
    """Open each draft pull request at its time; ``opened`` gets the moment each request was sent."""
    for key, at in sorted(due.items(), key=lambda item: item[1]):
        time.sleep(max(0.0, at - time.time()))
        repo, num = key.split("#")
        opened[key] = time.time()
        client.post(
            f"/api/models/{repo}/discussions/{num}/status", json={"status": "open"}
        ).raise_for_status()


def count_requests(url: str, stop: threading.Event, samples: list[tuple[float, dict[str, int]]]) -> None:
    """Every 0.5 s, the emulator's request counters of each kind's routes."""
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.wait(0.5):
            counts = {
                kind: client.get("/_emulator/request_count", params={"route": route}).json()["result"]
                for kind, route in ROUTES.items()
            }
            samples.append((time.time(), counts))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(waits: int, poll: float, change_after: float, starts: str) -> dict[str, Any]:
    """One run on a fresh emulator: seed it, run the triggers in a child process, measure the steady window.

    Returns the table row, the target checks and the run's details for the JSON file.
    """
    import httpx

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    emulator, url = start_emulator()
    headers = {"authorization": f"Bearer {DEFAULT_TOKEN}"}
    request_samples: list[tuple[float, dict[str, int]]] = []
    stop_counting = threading.Event()
    counter = threading.Thread(target=count_requests, args=(url, stop_counting, request_samples), daemon=True)
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            seeding_started = time.time()
            kinds, changes = seed(client, waits, change_after)
            seeding_s = time.time() - seeding_started
            with tempfile.TemporaryDirectory(prefix="triggerer-scale-") as workdir:
                spec_path, result_path = Path(workdir, "spec.json"), Path(workdir, "result.json")
                spec_path.write_text(
                    json.dumps(
                        {
                            "objects": list(kinds.items()),
                            "poll": poll,
                            "stagger": STARTS[starts],
                            "timeout": max(changes.values()) - time.time() + 4 * poll + 60,
                            "log_file": str(Path(workdir, "triggers.log")),
                        }
                    )
                )
                env = {
                    **os.environ,
                    "AIRFLOW_HOME": workdir,
                    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                    "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": json.dumps(
                        {
                            "conn_type": "huggingface_hub",
                            "host": url,
                            "password": "hf_emulator_alice_write_token",
                            "extra": {"namespace": "alice", "inference_endpoints_url": f"{url}/v2"},
                        }
                    ),
                }
                counter.start()
                opened: dict[str, float] = {}
                opener = threading.Thread(
                    target=open_pull_requests,
                    args=(client, {k: t for k, t in changes.items() if kinds[k] == "pr"}, opened),
                    daemon=True,
                )
                opener.start()
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(spec_path), str(result_path)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                opener.join()
                if child.returncode:
                    raise RuntimeError(f"the trigger process failed:\n{child.stderr[-3000:]}")
                result = json.loads(result_path.read_text())
                changes.update(opened)
    finally:
        stop_counting.set()
        if counter.is_alive():
            counter.join()
        stop_emulator(emulator)

    events = result["events"]
    latencies = [events[key]["at"] - changes[key] for key in changes if key in events]
    statuses = sorted({event["status"] for event in events.values()})
    first_change = min(changes.values())
    started, samples = result["started"], result["samples"]
    # Steady state: from one full cycle after the start (every trigger has started and polled) to the last
    # whole cycle before the first change.
    window_start = started + poll
    cycles = int((first_change - window_start) // poll)
    if cycles < 1:
        raise RuntimeError("no whole poll cycle before the first change: raise --change-after")
    window_end = window_start + cycles * poll
    in_window = [s for s in samples if window_start <= s[0] <= window_end]
    cpu_s = in_window[-1][1] - in_window[0][1]
    cpu_per_cycle = cpu_s / ((in_window[-1][0] - in_window[0][0]) / poll)
    core_share_30s = cpu_per_cycle / PRODUCTION_POLL
    counted = [s for s in request_samples if window_start <= s[0] <= window_end]
    span_cycles = (counted[-1][0] - counted[0][0]) / poll
    requests_per_cycle = {kind: (counted[-1][1][kind] - counted[0][1][kind]) / span_cycles for kind in KINDS}
    peak_rss_mb = max(s[2] for s in samples) / 1024
    growth_mb = (max(s[2] for s in samples) - result["baseline_kib"]) / 1024
    max_latency = max(latencies) if latencies else float("inf")
    latency_by_kind = {
        kind: max(
            (events[key]["at"] - changes[key] for key in changes if kinds[key] == kind and key in events),
            default=None,
        )
        for kind in KINDS
    }
    rss_target, core_target = targets_for(len(changes))
    print(
        f"{len(changes)} waits, {starts}: seeded in {seeding_s:.1f} s; event statuses: {statuses}; "
        f"requests per interval by kind: { {k: round(v, 1) for k, v in requests_per_cycle.items()} }; "
        f"latency max by kind: { {k: v if v is None else round(v, 2) for k, v in latency_by_kind.items()} }",
        flush=True,
    )
    row = {
        "waits": len(changes),
        "events": len(events),
        "poll (s)": poll,
        "starts": starts,
        "RSS total (MB)": peak_rss_mb,
        "RSS of triggers (MB)": growth_mb,
        "CPU per cycle (s)": cpu_per_cycle,
        "core at 30 s poll": f"{core_share_30s:.2%}",
        "latency p50 (s)": median(latencies) if latencies else float("nan"),
        "latency max (s)": max_latency,
        "Hub requests/interval before": len(changes),
        "Hub requests/interval after": round(sum(requests_per_cycle.values()), 1),
    }
    checks = {
        f"RSS of triggers <= {rss_target} MB": growth_mb <= rss_target,
        f"<= {core_target:.0%} of a core at a 30 s poll": core_share_30s <= core_target,
        "every change seen within poll + 1 s": len(events) == len(changes) and max_latency <= poll + 1,
        "every event is a success": statuses == ["success"],
        "no shared poll left running": result["polls_left"] == 0,
    }
    details = {
        "seeding_s": seeding_s,
        "steady_cycles": cycles,
        "rss_baseline_mb": result["baseline_kib"] / 1024,
        "rss_peak_hwm_mb": result["peak_kib"] / 1024,
        "latency_p99_s": percentile(latencies, 0.99) if latencies else None,
        "requests_per_interval_by_kind": requests_per_cycle,
        "latency_max_by_kind_s": latency_by_kind,
        "checks": checks,
    }
    return {"row": row, "checks": checks, "details": details}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--triggers",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="waits per run, a quarter of each kind; one run per size (default: 1,000 and 10,000)",
    )
    parser.add_argument("--poll", type=float, default=5.0, help="poll interval of the run (seconds)")
    parser.add_argument(
        "--change-after",
        type=float,
        default=None,
        help="seconds from creation to the change (default: room for the seeding, the start and 3 cycles)",
    )
    parser.add_argument(
        "--starts",
        nargs="+",
        choices=list(STARTS),
        default=list(STARTS),
        help="how triggers start, one run each (default: both, staggered first)",
    )
    parser.add_argument("--child", nargs=2, metavar=("SPEC", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_triggers(*args.child)
        return

    runs: dict[str, dict[str, Any]] = {}
    for waits in args.triggers:
        # Long enough for seeding, the child's start and three full poll cycles before the first change.
        change_after = args.change_after or 30.0 + 4 * args.poll + SEED_SECONDS_PER_OBJECT * waits
        for starts in args.starts:
            runs[f"{waits} {starts}"] = measure(waits, args.poll, change_after, starts)
    rows = [run["row"] for run in runs.values()]
    print(table(rows))
    for name, run in runs.items():
        for check, ok in run["checks"].items():
            print(f"  {'met' if ok else 'NOT met'} ({name}): {check}")
    met = all(all(run["checks"].values()) for run in runs.values())
    labels = " / ".join(runs)
    figures = {
        f"RSS of triggers MB ({labels})": " / ".join(f"{row['RSS of triggers (MB)']:.1f}" for row in rows),
        "core at 30 s poll": " / ".join(row["core at 30 s poll"] for row in rows),
        "latency max s": " / ".join(f"{row['latency max (s)']:.2f}" for row in rows),
        "Hub requests/interval (before -> after)": " / ".join(
            f"{row['Hub requests/interval before']} -> {row['Hub requests/interval after']:g}" for row in rows
        ),
    }
    target = (
        f"{', '.join(f'{size:,}: <= {mb} MB, <= {core:.0%} core' for size, (mb, core) in TARGETS.items())}; "
        "poll + 1 s"
    )
    path = save(
        "triggerer_scale",
        rows,
        headline=headline(figures, target, met),
        poll_s=args.poll,
        runs={name: run["details"] for name, run in runs.items()},
        load_average=os.getloadavg(),
        note="RSS target judged on the growth over the process's imports (Airflow + provider), total also given",
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

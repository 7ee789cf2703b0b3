"""Triggerer scale: 1,000 concurrent triggers (500 ``HfJobTrigger`` + 500 ``HfInferenceEndpointTrigger``)
in one asyncio event loop against the emulator.

The emulator runs in its own process; the triggers run in a child process of their own (as in a
triggerer), so its resident memory and CPU time are the triggers' alone. 500 Jobs and 500 Endpoints are
seeded through the emulator's HTTP API with plans that change state (Job COMPLETED, Endpoint running) at a
known time ``--change-after`` seconds after each was created. Until then every trigger polls every
``--poll`` seconds (5 s by default, to keep the run short). That steady window gives the CPU time per poll
cycle (all 1,000 reads), extrapolated to a 30 s poll as a share of one core. Each event's time minus its
object's change time is the detection latency.

``--starts``: by default two runs, each on a fresh emulator, reported as two rows of one table. In
"staggered", trigger starts are spread over one poll interval, as tasks deferring at different moments
would be; in "same-instant", all 1,000 start (and keep polling) in the same instant: the worst case.

Targets: <= 100 MB RSS for the triggers (growth of the process over its imports; the total is reported
too), <= 5% of a core at a 30 s poll, every change seen within poll + 1 s.
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
import time
from pathlib import Path
from typing import Any

from _common import headline, median, memory_kib, save, start_emulator, stop_emulator, table

TARGET_RSS_MB = 100
TARGET_CORE_SHARE_AT_30S = 0.05
PRODUCTION_POLL = 30.0
#: ``--starts`` choices: are the trigger starts spread over one poll interval?
STARTS = {"staggered": True, "same-instant": False}


# -- the trigger process ---------------------------------------------------------------------------------
def run_triggers(spec_path: str, result_path: str) -> None:
    """Child process: start every trigger in one event loop, record events, CPU and memory over time."""
    import gc
    import logging

    spec = json.loads(Path(spec_path).read_text())
    logging.basicConfig(filename=spec["log_file"], level=logging.INFO)
    from airflow_provider_hub.hooks.hub import HfHubAsyncHook
    from airflow_provider_hub.triggers.endpoints import HfInferenceEndpointTrigger
    from airflow_provider_hub.triggers.jobs import HfJobTrigger

    gc.collect()
    baseline_kib, _ = memory_kib()
    poll = spec["poll"]
    triggers: list[tuple[str, Any]] = []
    for job_id in spec["jobs"]:
        triggers.append((job_id, HfJobTrigger(job_id=job_id, namespace="alice", poll_interval=poll)))
    for name in spec["endpoints"]:
        triggers.append((name, HfInferenceEndpointTrigger(name=name, namespace="alice", poll_interval=poll)))

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

    async def main() -> float:
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
        stop.set()
        await sampler
        await HfHubAsyncHook.aclose_shared_clients()
        return started

    started = asyncio.run(main())
    Path(result_path).write_text(
        json.dumps(
            {
                "started": started,
                "baseline_kib": baseline_kib,
                "peak_kib": memory_kib()[1],
                "samples": samples,
                "events": events,
            }
        )
    )


# -- the benchmark ---------------------------------------------------------------------------------------
def seed(url: str, count: int, change_after: float) -> tuple[dict[str, float], dict[str, float]]:
    """Create ``count`` Jobs and ``count`` Endpoints; return ``{id: time its state changes}`` for each."""
    import httpx

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    headers = {"authorization": f"Bearer {DEFAULT_TOKEN}"}
    jobs: dict[str, float] = {}
    endpoints: dict[str, float] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        client.post(
            "/api/repos/create", json={"name": "scale-model", "organization": "alice"}
        ).raise_for_status()
        # SCHEDULING for 0.5 s, then RUNNING until change_after, then COMPLETED.
        client.post(
            "/_emulator/set_job_plan", json={"durations": [0.5, change_after - 0.5], "logs": ["working"]}
        ).raise_for_status()
        for _ in range(count):
            requested = time.time()  # the change time counts from before the request: a conservative latency
            response = client.post(
                "/api/jobs/alice",
                json={"dockerImage": "python:3.12", "command": ["python", "work.py"], "flavor": "cpu-basic"},
            )
            response.raise_for_status()
            jobs[response.json()["id"]] = requested + change_after
        for index in range(count):
            name = f"scale-endpoint-{index:04d}"
            client.post(
                "/_emulator/set_endpoint_plan",
                json={"name": name, "transitions": [["initializing", change_after], ["running", None]]},
            ).raise_for_status()
            requested = time.time()
            client.post(
                "/v2/endpoint/alice",
                json={
                    "name": name,
                    "type": "protected",
                    "model": {
                        "repository": "alice/scale-model",
                        "framework": "pytorch",
                        "image": {"huggingface": {}},
                    },
                    "compute": {
                        "accelerator": "cpu",
                        "instanceType": "intel-icl",
                        "instanceSize": "x2",
                        "scaling": {"minReplica": 1, "maxReplica": 1},
                    },
                    "provider": {"vendor": "aws", "region": "us-east-1"},
                },
            ).raise_for_status()
            endpoints[name] = requested + change_after
    return jobs, endpoints


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(triggers: int, poll: float, change_after: float, starts: str) -> dict[str, Any]:
    """One run on a fresh emulator: seed it, run the triggers in a child process, measure the steady window.

    Returns the table row, the target checks and the run's details for the JSON file.
    """
    emulator, url = start_emulator()
    try:
        seeding_started = time.time()
        jobs, endpoints = seed(url, triggers // 2, change_after)
        seeding_s = time.time() - seeding_started
        with tempfile.TemporaryDirectory(prefix="triggerer-scale-") as workdir:
            spec_path, result_path = Path(workdir, "spec.json"), Path(workdir, "result.json")
            spec_path.write_text(
                json.dumps(
                    {
                        "jobs": list(jobs),
                        "endpoints": list(endpoints),
                        "poll": poll,
                        "stagger": STARTS[starts],
                        "timeout": change_after + 4 * poll + 60,
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
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(spec_path), str(result_path)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            if child.returncode:
                raise RuntimeError(f"the trigger process failed:\n{child.stderr[-3000:]}")
            result = json.loads(result_path.read_text())
    finally:
        stop_emulator(emulator)

    changes = {**jobs, **endpoints}
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
    peak_rss_mb = max(s[2] for s in samples) / 1024
    growth_mb = (max(s[2] for s in samples) - result["baseline_kib"]) / 1024
    max_latency = max(latencies) if latencies else float("inf")
    print(
        f"{starts}: seeded {len(jobs)} Jobs + {len(endpoints)} Endpoints in {seeding_s:.1f} s; "
        f"event statuses: {statuses}",
        flush=True,
    )
    row = {
        "triggers": len(changes),
        "events": len(events),
        "poll (s)": poll,
        "starts": starts,
        "RSS total (MB)": peak_rss_mb,
        "RSS of triggers (MB)": growth_mb,
        "CPU per cycle (s)": cpu_per_cycle,
        "core at 30 s poll": f"{core_share_30s:.2%}",
        "latency p50 (s)": median(latencies) if latencies else float("nan"),
        "latency p99 (s)": percentile(latencies, 0.99) if latencies else float("nan"),
        "latency max (s)": max_latency,
    }
    checks = {
        f"RSS of triggers <= {TARGET_RSS_MB} MB": growth_mb <= TARGET_RSS_MB,
        f"<= {TARGET_CORE_SHARE_AT_30S:.0%} of a core at a 30 s poll": core_share_30s
        <= TARGET_CORE_SHARE_AT_30S,
        "every change seen within poll + 1 s": len(events) == len(changes) and max_latency <= poll + 1,
        "every event is a success": statuses == ["success"],
    }
    details = {
        "seeding_s": seeding_s,
        "steady_cycles": cycles,
        "rss_baseline_mb": result["baseline_kib"] / 1024,
        "rss_peak_hwm_mb": result["peak_kib"] / 1024,
        "checks": checks,
    }
    return {"row": row, "checks": checks, "details": details}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triggers", type=int, default=1000, help="total; half Jobs, half Endpoints")
    parser.add_argument("--poll", type=float, default=5.0, help="poll interval of the run (seconds)")
    parser.add_argument(
        "--change-after", type=float, default=None, help="seconds from creation to the change"
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

    # Long enough for seeding, the child's start and three full poll cycles before the first change.
    change_after = args.change_after or 30.0 + 4 * args.poll
    runs = {starts: measure(args.triggers, args.poll, change_after, starts) for starts in args.starts}
    rows = [run["row"] for run in runs.values()]
    print(table(rows))
    for starts, run in runs.items():
        for name, ok in run["checks"].items():
            print(f"  {'met' if ok else 'NOT met'} ({starts}): {name}")
    met = all(all(run["checks"].values()) for run in runs.values())
    modes = " / ".join(runs)
    figures = {
        f"RSS of triggers MB ({modes})": " / ".join(f"{row['RSS of triggers (MB)']:.1f}" for row in rows),
        "core at 30 s poll": " / ".join(row["core at 30 s poll"] for row in rows),
        "latency max s": " / ".join(f"{row['latency max (s)']:.2f}" for row in rows),
    }
    target = f"<= {TARGET_RSS_MB} MB, <= {TARGET_CORE_SHARE_AT_30S:.0%} core, poll + 1 s"
    path = save(
        "triggerer_scale",
        rows,
        headline=headline(figures, target, met),
        change_after_s=change_after,
        runs={starts: run["details"] for starts, run in runs.items()},
        note="RSS target judged on the growth over the process's imports (Airflow + provider), total also given",
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

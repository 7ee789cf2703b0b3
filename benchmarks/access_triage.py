"""Access-request triage: ``HfAcceptAccessRequestsOperator`` vs. a plain sequential ``huggingface_hub`` loop.

One emulator (its own process, so it does not share the client's interpreter lock) holds two gated repos
seeded with the same ``--requests`` pending requests. Both sides apply the same policy (accept a team
glob, a partner e-mail domain, and research use declared in the gate form; reject the rest with a
reason): the operator through ``execute`` with ``--concurrency`` decisions in flight, the loop one
``accept_access_request`` / ``reject_access_request`` after the other.

The emulator answers on loopback in well under a millisecond, far faster than the Hub does across the
internet; ``--rtt-ms`` (default 10, a round trip within one cloud region) adds that round trip to every ``/api`` request as fault-injected
latency, so the comparison measures what it would on a real network. ``--rtt-ms 0`` shows the pure
CPU-bound case.

Checks: both repos end in the same state; every user is decided exactly once (the Hub-side count of
``handle`` requests equals the number of decisions, and no user is both accepted and rejected).
Target: the operator >= 5x faster than the loop.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from typing import Any

from _common import client_environment, headline, quiet_http_logs, save, stop_emulator, table

client_environment()
TARGET_SPEEDUP = 5.0
REJECTION_REASON = "Access is limited to research use; tell us about yours in the form."


def start_emulator() -> tuple[subprocess.Popen[str], str, str]:
    """The emulator process, its URL and the Airflow connection URI pointing at it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hub.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = conn = None
    for _ in range(4):
        line = process.stdout.readline()
        if match := re.search(r"serving on (http://\S+)", line):
            url = match.group(1)
        if match := re.search(r"AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT='(.*)'", line):
            conn = match.group(1)
    if url is None or conn is None:
        process.kill()
        raise RuntimeError("the emulator did not start")
    return process, url, conn


def control(url: str, method: str, **kwargs: Any) -> Any:
    request = urllib.request.Request(
        f"{url}/_emulator/{method}",
        data=json.dumps(kwargs).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)["result"]


def make_requests(count: int) -> list[dict[str, Any]]:
    """A realistic mix: ~10% team members, ~20% partner e-mails, ~35% research use, the rest rejected."""
    requests = []
    for i in range(count):
        user = f"team-{i:05d}" if i % 10 == 0 else f"user-{i:05d}"
        domain = "partner.com" if i % 5 == 1 else f"mail{i % 7}.example"
        requests.append(
            {
                "user": user,
                "email": f"{user}@{domain}",
                "fields": {"use": "research" if i % 3 == 0 else "commercial", "country": "FR"},
                "timestamp": 1_780_000_000 + i,
            }
        )
    return requests


def policy(fields: dict[str, Any]) -> str | None:
    return "accept" if fields.get("use") == "research" else None


def sequential_loop(url: str, token: str, repo_id: str) -> None:
    """What one would write by hand with ``huggingface_hub``: the same policy, one call after the other."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=url, token=token)
    for request in api.list_pending_access_requests(repo_id):
        email = request.email or ""
        if (
            request.username.startswith("team-")
            or email.endswith("@partner.com")
            or policy(request.fields or {}) == "accept"
        ):
            api.accept_access_request(repo_id, request.username)
        else:
            api.reject_access_request(repo_id, request.username, rejection_reason=REJECTION_REASON)


class _TaskInstance:
    def xcom_push(self, key: str, value: Any) -> None:
        """The extra link's URL; not needed here."""


def operator_run(repo_id: str, concurrency: int) -> dict[str, Any]:
    from airflow_provider_hub.operators.access import HfAcceptAccessRequestsOperator

    operator = HfAcceptAccessRequestsOperator(
        task_id="triage",
        repo_id=repo_id,
        allow_users=["team-*"],
        allow_email_domains=["partner.com"],
        accept_if=lambda request: policy(request.fields),
        reject_others=True,
        rejection_reason=REJECTION_REASON,
        max_concurrency=concurrency,
    )
    return operator.execute({"ti": _TaskInstance()})


def final_state(url: str, token: str, repo_id: str) -> dict[str, str]:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=url, token=token)
    state: dict[str, str] = {}
    for status in ("pending", "accepted", "rejected"):
        for request in getattr(api, f"list_{status}_access_requests")(repo_id):
            if request.username in state:
                raise AssertionError(f"{request.username} is both {state[request.username]} and {status}")
            state[request.username] = status
    return state


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000, help="pending requests per repo")
    parser.add_argument("--concurrency", type=int, default=32, help="the operator's max_concurrency")
    parser.add_argument("--rtt-ms", type=float, default=10.0, help="emulated network round trip per request")
    args = parser.parse_args()

    # Imported before timing: Airflow's own import (seconds) is not part of deciding requests.
    from airflow_provider_hub.operators import access  # noqa: F401

    quiet_http_logs()
    process, url, conn = start_emulator()
    os.environ["AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"] = conn
    os.environ["HF_ENDPOINT"] = url
    token = json.loads(conn)["password"]
    try:
        requests = make_requests(args.requests)
        repos = {"operator": "alice/triage-operator", "sequential loop": "alice/triage-loop"}
        started = time.perf_counter()
        for repo_id in repos.values():
            control(url, "add_access_requests", repo_id=repo_id, requests=requests)
        seeding = time.perf_counter() - started
        if args.rtt_ms:
            control(url, "inject_fault", route="/api/*", latency=args.rtt_ms / 1000)
        control(url, "reset_counts")

        timings: dict[str, float] = {}
        started = time.perf_counter()
        result = operator_run(repos["operator"], args.concurrency)
        timings["operator"] = time.perf_counter() - started
        started = time.perf_counter()
        sequential_loop(url, token, repos["sequential loop"])
        timings["sequential loop"] = time.perf_counter() - started
        control(url, "clear_faults")

        states = {side: final_state(url, token, repo_id) for side, repo_id in repos.items()}
        handles = {
            side: control(url, "request_count", route=f"/api/models/{repo_id}/user-access-request/handle")
            for side, repo_id in repos.items()
        }
    finally:
        stop_emulator(process)

    decided = len(result["accepted"]) + len(result["rejected"])
    same_state = states["operator"] == states["sequential loop"]
    all_decided = set(states["operator"].values()) <= {"accepted", "rejected"} and decided == args.requests
    double_decisions = handles["operator"] - decided
    speedup = timings["sequential loop"] / timings["operator"]
    rows = [
        {
            "side": side,
            "requests": args.requests,
            "wall s": timings[side],
            "requests/s": args.requests / timings[side],
            "handle calls": handles[side],
            "speedup": timings["sequential loop"] / timings[side],
        }
        for side in ("sequential loop", "operator")
    ]
    print(
        f"{args.requests} pending requests per repo (seeded in {seeding:.2f} s), emulated RTT {args.rtt_ms:g} ms, "
        f"operator max_concurrency={args.concurrency}"
    )
    print(table(rows))
    print(
        f"accepted {len(result['accepted'])}, rejected {len(result['rejected'])}, errors {len(result['errors'])}; "
        f"same final state on both repos: {same_state}; every request decided: {all_decided}; "
        f"double decisions: {double_decisions}"
    )
    ok = same_state and all_decided and double_decisions == 0 and not result["errors"]
    meets = speedup >= TARGET_SPEEDUP
    print(f"speedup {speedup:.1f}x (target >= {TARGET_SPEEDUP:g}x): {'met' if meets else 'NOT met'}")
    figures = {
        "speedup": f"{speedup:.1f}x",
        "double decisions": double_decisions,
        "same final state": same_state,
    }
    path = save(
        "access_triage",
        rows,
        # The speedup only counts when both sides decided the same requests, each once.
        headline=headline(figures, f">= {TARGET_SPEEDUP:g}x, every request decided once", ok and meets),
        requests=args.requests,
        concurrency=args.concurrency,
        rtt_ms=args.rtt_ms,
        speedup=speedup,
        target_speedup=TARGET_SPEEDUP,
        double_decisions=double_decisions,
        same_final_state=same_state,
        errors=len(result["errors"]),
    )
    print(f"results: {path}")
    # A missed target is in the results; a non-zero exit means the two sides did not do the same work.
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

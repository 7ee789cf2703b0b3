"""Job log latency: how long a line printed by a Job takes to reach the task log of ``HfRunJobOperator``.

The emulator runs in its own process with ``--jobs-mode subprocess``: each Job's command really runs on
this machine and its stdout is served by the Jobs log stream, as on the Hub. The Job prints ``--lines``
lines, each carrying the wall-clock time it was printed. ``HfRunJobOperator`` runs non-deferrable with
log following on (its default), and a structlog processor placed just before the renderer notes when each
``[job] ...`` line is written to the task log. Latency = written - printed (same machine clock).

Target: every line within 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from typing import Any

from _common import headline, median, save, start_emulator, stop_emulator, table

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench_airflow_home_"))
os.environ.update({"HF_HUB_DISABLE_TELEMETRY": "1", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
TARGET_S = 2.0
MARK = "log-latency-mark"

#: The Job: a line with its print time every ``interval`` seconds.
JOB_SOURCE = f"""
import sys, time
lines, interval = int(sys.argv[1]), float(sys.argv[2])
time.sleep(interval)
for index in range(lines):
    print("{MARK}", index, repr(time.time()), flush=True)
    time.sleep(interval)
"""


class _TaskInstance:
    dag_id, task_id, run_id, map_index, try_number = "job_log_latency", "job", "manual__bench", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def record_task_log_lines(written: list[tuple[float, str]]) -> None:
    """Note (time, rendered message) of every log event, at the moment it is rendered to the task log."""
    import structlog

    def recorder(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        written.append((time.time(), str(event_dict.get("event"))))
        return event_dict

    processors = list(structlog.get_config()["processors"])
    structlog.configure(processors=[*processors[:-1], recorder, processors[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between the Job's lines")
    parser.add_argument("--poll", type=float, default=30.0, help="the operator's status poll interval")
    args = parser.parse_args()

    from airflow_provider_hub.operators.jobs import HfRunJobOperator
    from airflow_provider_hub.testing import DEFAULT_TOKEN

    emulator, url = start_emulator("--jobs-mode", "subprocess")
    try:
        os.environ["AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"] = json.dumps(
            {
                "conn_type": "huggingface_hub",
                "host": url,
                "password": DEFAULT_TOKEN,
                "extra": {"namespace": "alice"},
            }
        )
        written: list[tuple[float, str]] = []
        record_task_log_lines(written)
        operator = HfRunJobOperator(
            task_id="job",
            image="python:3.12",
            command=["python", "-c", JOB_SOURCE, str(args.lines), str(args.interval)],
            poll_interval=args.poll,
            deferrable=False,
        )
        started = time.perf_counter()
        result = operator.execute({"ti": _TaskInstance()})
        run_s = time.perf_counter() - started
    finally:
        stop_emulator(emulator)

    pattern = re.compile(rf"\[job\] {MARK} (\d+) ([0-9.]+)")
    latencies = {}
    for at, message in written:
        match = pattern.search(message)
        if match:
            latencies[int(match.group(1))] = at - float(match.group(2))
    assert result["stage"] == "COMPLETED", result
    missing = sorted(set(range(args.lines)) - set(latencies))
    values = list(latencies.values())
    rows = [
        {
            "lines printed": args.lines,
            "lines in task log": len(latencies),
            "status poll (s)": args.poll,
            "latency median (s)": median(values) if values else float("nan"),
            "latency max (s)": max(values) if values else float("inf"),
            "task run (s)": run_s,
            "target": f"<= {TARGET_S} s",
        }
    ]
    print(table(rows))
    met = not missing and max(values) <= TARGET_S
    print(
        f"{'met' if met else 'NOT met'}: every line in the task log within {TARGET_S} s"
        + (f" (missing {missing})" if missing else "")
    )
    figures = {
        "latency median (s)": rows[0]["latency median (s)"],
        "max (s)": rows[0]["latency max (s)"],
        "lines missing": len(missing),
    }
    path = save(
        "job_log_latency",
        rows,
        headline=headline(figures, f"every line <= {TARGET_S:g} s", met),
        latencies_s=[latencies[k] for k in sorted(latencies)],
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

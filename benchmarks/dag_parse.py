"""DAG-parse cost: what our operators add to a DAG file's import, vs. importing huggingface_hub.

Each sample is a fresh interpreter that imports ``airflow.sdk`` (baseline), then executes the DAG
file; the figure is the DAG file's own import time, median over ``--runs`` processes.
Target: our modules add <= 20 ms over ``airflow.sdk``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import headline, median, save, table

DAGS = Path(__file__).parent / "dags"
TARGET_MS = 20
PROBE = """
import time, runpy, sys
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
runpy.run_path(sys.argv[1])
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def sample(dag_file: Path, runs: int) -> tuple[float, float]:
    sdk, dag = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(dag_file)], capture_output=True, text=True, check=True
        ).stdout.split()
        sdk.append(float(out[0]))
        dag.append(float(out[1]))
    return median(sdk), median(dag)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    variants = (
        ("plain Airflow tasks (baseline)", "dag_plain_airflow.py"),
        ("airflow-provider-hub operators", "dag_with_provider.py"),
        ("huggingface_hub at top level", "dag_with_hub_client.py"),
    )
    rows = []
    for label, name in variants:
        sdk_s, dag_s = sample(DAGS / name, args.runs)
        rows.append(
            {"DAG file": label, "airflow.sdk import (ms)": sdk_s * 1000, "DAG file (ms)": dag_s * 1000}
        )
    baseline = rows[0]["DAG file (ms)"]
    for row in rows:
        row["added over baseline (ms)"] = row["DAG file (ms)"] - baseline
    added = rows[1]["added over baseline (ms)"]
    print(table(rows))
    print(f"our modules add {added:.1f} ms over a plain airflow.sdk DAG (target <= {TARGET_MS} ms)")
    figures = {
        "our operators add (ms)": added,
        "top-level huggingface_hub adds (ms)": rows[2]["added over baseline (ms)"],
    }
    save(
        "dag_parse",
        rows,
        headline=headline(figures, f"operators add <= {TARGET_MS} ms", met=added <= TARGET_MS),
        runs=args.runs,
        target_ms=TARGET_MS,
    )


if __name__ == "__main__":
    main()

"""``make bench``: run the benchmarks one after the other, then print one table of their headline figures.

Each benchmark is a script in this folder that prints its own table and writes ``<results dir>/<name>.json``
with a ``headline`` (its key figures, the target, met or not). The runner hands every script the same run
id and results dir through environment variables, and the summary reads back only files stamped with this
run's id: a benchmark that failed shows as failed, never with the figures an earlier run left behind.

``--quick`` runs every benchmark at a small size (a smoke run of the plumbing, not figures to quote) and
writes to ``results/quick/`` so the full-size results stay as they are.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_RESULTS_DIR,
    RESULTS_DIR_ENV,
    RUN_ID_ENV,
    headline_text,
    load_result,
    table,
)

HERE = Path(__file__).parent
#: Every benchmark, in the order ``make bench`` runs them, with the options of its ``--quick`` run.
QUICK_OPTIONS: dict[str, list[str]] = {
    "dag_parse": ["--runs", "1"],
    "pytest_plugin_import": ["--runs", "2"],
    "emulator_lfs_upload": ["--size-mib", "64"],
    "upload_folder": ["--size-gib", "0.1", "--repeat", "2"],
    "republish": ["--size-gib", "0.1", "--repeat", "2"],
    "large_folder": ["--size-gib", "0.25", "--files", "100"],
    "download": ["--size-gib", "0.1", "--repeat", "1"],
    "triggerer_scale": ["--triggers", "40", "80", "--poll", "1", "--change-after", "12"],
    "webhook_ingestion": ["--deliveries", "500", "--receiver-deliveries", "300"],
    "access_triage": ["--requests", "300"],
    "job_log_latency": ["--lines", "3", "--interval", "0.2"],
}


def benchmark_names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(QUICK_OPTIONS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown benchmark(s) {unknown}; known: {', '.join(QUICK_OPTIONS)}")
    return names


def benchmark_options(value: str) -> tuple[str, list[str]]:
    name, separator, options = value.partition("=")
    if not separator or name not in QUICK_OPTIONS:
        raise argparse.ArgumentTypeError(
            f"expected NAME=OPTIONS with NAME one of {', '.join(QUICK_OPTIONS)}, e.g. upload_folder='--size-gib 0.5'"
        )
    return name, shlex.split(options)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", type=benchmark_names, metavar="NAME[,NAME...]", help="run only these benchmarks"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in a few minutes")
    parser.add_argument(
        "--options",
        type=benchmark_options,
        action="append",
        default=[],
        metavar="NAME=OPTIONS",
        help="more options for one benchmark, after the --quick ones (repeatable)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        help=f"where the JSON files go (default {DEFAULT_RESULTS_DIR.relative_to(HERE.parent)}/, "
        "or its quick/ subfolder with --quick)",
    )
    return parser.parse_args()


#: The columns of a benchmark without results from this run: no figures at all.
NO_FIGURES = {"headline": "-", "target": "-", "met": "-"}


def summary_row(name: str, exit_code: int, result: dict[str, Any] | None, seconds: float) -> dict[str, Any]:
    """One benchmark's line in the summary; figures only from a result file this run wrote."""
    if result is None:
        status = f"FAILED (exit {exit_code})" if exit_code else "FAILED (wrote no results)"
        return {"benchmark": name, "status": status, **NO_FIGURES, "seconds": seconds}
    headline = result["headline"]
    return {
        "benchmark": name,
        # A script that finished but exits non-zero (a failed check) still has figures worth showing.
        "status": "ok" if exit_code == 0 else f"exit {exit_code}",
        "headline": headline_text(headline["figures"]),
        "target": headline["target"],
        "met": "met" if headline["met"] else "NOT met",
        "seconds": seconds,
    }


def main() -> int:
    args = parse_args()
    default_dir = DEFAULT_RESULTS_DIR / "quick" if args.quick else DEFAULT_RESULTS_DIR
    results_dir = (args.results_dir or default_dir).resolve()
    run_id = uuid.uuid4().hex
    env = {**os.environ, RUN_ID_ENV: run_id, RESULTS_DIR_ENV: str(results_dir)}
    extra_options: dict[str, list[str]] = {}
    for name, options in args.options:
        extra_options.setdefault(name, []).extend(options)
    selected = args.only or list(QUICK_OPTIONS)

    rows = []
    succeeded = True
    for name in QUICK_OPTIONS:
        if name not in selected:
            rows.append({"benchmark": name, "status": "not run", **NO_FIGURES, "seconds": "-"})
            continue
        options = [*(QUICK_OPTIONS[name] if args.quick else []), *extra_options.get(name, [])]
        print(f"\n=== {name} {shlex.join(options)} ===", flush=True)
        started = time.perf_counter()
        exit_code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *options], env=env)
        seconds = time.perf_counter() - started
        row = summary_row(name, exit_code, load_result(results_dir, name, run_id), seconds)
        succeeded &= row["status"] == "ok"
        rows.append(row)

    print(f"\n=== summary ({'quick run, ' if args.quick else ''}results in {results_dir}) ===")
    print(table(rows))
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())

"""Shared plumbing for benchmark scripts: the emulator process, memory readings, result files and the table."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

DEFAULT_RESULTS_DIR = Path(__file__).parent / "results"
#: Set by ``run_all.py`` so every script of one run writes where it reads and stamps the same run id.
RESULTS_DIR_ENV = "HUB_BENCH_RESULTS_DIR"
RUN_ID_ENV = "HUB_BENCH_RUN_ID"
MiB = 1024 * 1024
GiB = 1024 * MiB


def client_environment(**extra: str) -> None:
    """The environment of a script that drives ``huggingface_hub`` (and Airflow) against the emulator: no Xet
    (the emulator speaks LFS), no telemetry or progress bars, no example DAGs, a throw-away ``AIRFLOW_HOME``
    unless one is given, a throw-away ``HF_HOME`` (the operators' hash caches live there, and a benchmark
    must neither read the user's nor leave its own); plus ``extra``. Call it before ``huggingface_hub`` or
    Airflow is imported."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench_airflow_home_"))
    os.environ.update(
        {
            "HF_HOME": tempfile.mkdtemp(prefix="bench_hf_home_"),
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **extra,
        }
    )


def quiet_http_logs() -> None:
    """Airflow logs every HTTP request of ``httpx2`` at INFO; thousands of such lines would drown the table."""
    logging.getLogger("httpx2").setLevel(logging.WARNING)


def size_arguments(
    doc: str | None, *, what: str, size_gib: float, repeat: int | None = None
) -> argparse.ArgumentParser:
    """A parser with ``--size-gib`` (of ``what``) and, given a default ``repeat``, ``--repeat`` (runs of each
    side; min and median are reported)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--size-gib", type=float, default=size_gib, help=f"{what} size (default {size_gib:g} GiB)"
    )
    if repeat is not None:
        parser.add_argument(
            "--repeat",
            type=int,
            default=repeat,
            help=f"runs of each side (default {repeat}); min and median are reported",
        )
    return parser


def results_dir() -> Path:
    return Path(os.environ.get(RESULTS_DIR_ENV) or DEFAULT_RESULTS_DIR)


def run_id() -> str:
    """The runner's id for this run; a script run alone gets its own, so its file never passes as the runner's."""
    return os.environ.get(RUN_ID_ENV) or uuid.uuid4().hex


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def headline(figures: dict[str, Any], target: str, met: bool) -> dict[str, Any]:
    """The key figure(s) of a benchmark against its target: one row of ``run_all.py``'s summary table."""
    return {"figures": figures, "target": target, "met": bool(met)}


def headline_text(figures: dict[str, Any]) -> str:
    """``label: value, ...`` with floats to 3 significant digits: a summary cell, not the raw figure."""
    return ", ".join(f"{label}: {_short(value)}" for label, value in figures.items())


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def save(name: str, rows: list[dict[str, Any]], *, headline: dict[str, Any], **extra: Any) -> Path:
    """Write ``<results dir>/<name>.json``: the rows, the ``headline`` (see :func:`headline`), the run id
    and the machine they came from. ``met`` is repeated at the top level, where readers always found it."""
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    data = {
        "benchmark": name,
        "run_id": run_id(),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "options": sys.argv[1:],
        "machine": machine(),
        "rows": rows,
        "headline": headline,
        "met": headline["met"],
        **extra,
    }
    # Written aside and renamed: a run killed mid-write leaves the previous file, never half a file.
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(data, indent=2))
    partial.replace(path)
    return path


def load_result(directory: Path, name: str, expected_run_id: str) -> dict[str, Any] | None:
    """``<directory>/<name>.json`` if the run ``expected_run_id`` wrote it, else None (absent or stale)."""
    try:
        data = json.loads((directory / f"{name}.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if data.get("run_id") == expected_run_id else None


def table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of ``rows`` (dicts with the same keys)."""
    if not rows:
        return "(no rows)"
    headers = list(rows[0])
    cells = [[_fmt(row.get(h)) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def median(values: list[float]) -> float:
    return statistics.median(values)


def start_emulator(*options: str) -> tuple[subprocess.Popen[str], str]:
    """An emulator process on a free port (``options`` as for ``python -m airflow_provider_hub.testing``) and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_hub.testing", "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"serving on (http://\S+)", line)
    if match is None:
        process.kill()
        raise RuntimeError(f"the emulator did not start: {line!r}")
    return process, match.group(1)


def stop_emulator(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=30)


def memory_kib(pid: int | str = "self") -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of a process in KiB: its resident set size now and at its peak."""
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)),
        int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)),
    )

"""``make bench``: run every benchmark in one go and print their tables side by side.

Each benchmark is a script in this folder that prints its own table and writes
``results/<name>.json``; this runner runs them in sequence and prints a summary of the
targets at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    ("dag_parse", []),
    ("emulator_lfs_upload", []),
    ("upload_folder", []),
    ("triggerer_scale", []),
    ("webhook_ingestion", []),
    ("access_triage", []),
    ("job_log_latency", []),
]


def main() -> int:
    failed = []
    for name, args in BENCHMARKS:
        script = HERE / f"{name}.py"
        print(f"\n=== {name} ===", flush=True)
        if not script.exists():
            print(f"(missing: {script.name})")
            failed.append(name)
            continue
        started = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *args], cwd=HERE)
        print(f"({name}: exit {rc}, {time.perf_counter() - started:.1f} s)", flush=True)
        if rc:
            failed.append(name)
    print("\n=== targets ===")
    for path in sorted((HERE / "results").glob("*.json")):
        data = json.loads(path.read_text())
        print(f"{data['benchmark']:<22} met={data.get('met', 'n/a')}")
    if failed:
        print(f"benchmarks that did not run to the end: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

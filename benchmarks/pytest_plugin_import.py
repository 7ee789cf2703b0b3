"""What the provider's pytest plugin adds to every pytest run in an environment where the provider is installed.

pytest loads every ``pytest11`` plugin at start-up, whether a test uses its fixtures or not. Each sample is a
fresh ``pytest`` process running one trivial test file, with the plugin and with ``-p no:airflow_provider_hub``;
the figure is the difference of the medians over ``--runs`` processes of each kind (alternated, so a busy
moment of the machine weighs on both). Target: the plugin adds <= 50 ms.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import headline, median, save, table

TARGET_MS = 50
TRIVIAL_TEST = "def test_nothing():\n    assert True\n"
#: The plugin's name, as registered under the ``pytest11`` entry points.
PLUGIN = "airflow_provider_hub"


def pytest_seconds(test_file: Path, *options: str) -> float:
    """Wall time of one ``pytest`` process running ``test_file``."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, str(test_file)],
        cwd=test_file.parent,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pytest_plugin_bench_") as folder:
        test_file = Path(folder) / "test_trivial.py"
        test_file.write_text(TRIVIAL_TEST)
        with_plugin, without_plugin = [], []
        for _ in range(args.runs):
            with_plugin.append(pytest_seconds(test_file))
            without_plugin.append(pytest_seconds(test_file, "-p", f"no:{PLUGIN}"))
    rows = [
        {"pytest run": f"-p no:{PLUGIN} (baseline)", "median wall time (ms)": median(without_plugin) * 1000},
        {"pytest run": "with the plugin", "median wall time (ms)": median(with_plugin) * 1000},
    ]
    added = rows[1]["median wall time (ms)"] - rows[0]["median wall time (ms)"]
    print(table(rows))
    print(f"the pytest plugin adds {added:.1f} ms to a pytest run (target <= {TARGET_MS} ms)")
    save(
        "pytest_plugin_import",
        rows,
        headline=headline(
            {"plugin adds (ms)": added}, f"plugin adds <= {TARGET_MS} ms", met=added <= TARGET_MS
        ),
        runs=args.runs,
        target_ms=TARGET_MS,
    )


if __name__ == "__main__":
    main()

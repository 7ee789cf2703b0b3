"""Re-publishing: ``HfUploadFolderOperator`` (with its hash cache) vs raw ``HfApi.upload_folder``.

The folder (default 5 GiB: four LFS ``*.safetensors`` files + 1,000 small JSON files, as in
``upload_folder.py``) is generated once and left for the hash cache's racy window (2 s), as a checkpoint
written by an earlier task would be: files changed within it are hashed on every run. Each side, in each repeat, gets a fresh emulator process (its own
data dir on ``/dev/shm`` when there is one) and its own repo, warms up on a tiny folder, then times:

- first: the first upload of the folder (no hash cache yet for the operator: it is deleted before);
- one changed: one small file rewritten, then the folder published again (one commit);
- no change: the folder published again with nothing changed (no commit).

Raw ``upload_folder`` hashes every LFS byte again on each run to compare it with the Hub; the operator
reads only the changed file (the others' digests come from its hash cache, keyed by path, size, mtime,
ctime and inode). Both sides run ``--repeat`` times (an even count; the order alternates); min and median
are reported, the targets are judged on the medians.

Targets: one changed >= 10x faster than raw; no change >= 10x faster than raw; first <= 1.03x raw.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import (
    headline,
    median,
    quiet_http_logs,
    save,
    size_arguments,
    start_emulator,
    stop_emulator,
    table,
)

# upload_folder sets the same client environment (no Xet, no telemetry) and makes the same folder.
from upload_folder import (
    LFS_FILES,
    SMALL_FILES,
    STORE_ROOT,
    GiB,
    connection_uri,
    write_folder,
    write_warmup_folder,
)

from airflow_provider_hub.hooks.hash_cache import RACY_WINDOW_NS

TARGET_SPEEDUP = 10.0
TARGET_FIRST_RATIO = 1.03
RAW = "raw HfApi.upload_folder"
OPERATOR = "HfUploadFolderOperator"
STEPS = ("first", "one changed", "no change")
CHANGED_FILE = Path("small") / "file_0000.json"


class _TaskInstance:
    def xcom_push(self, key: str, value: object) -> None:
        pass


def raw_side(url: str, repo_id: str) -> Callable[[Path], dict[str, Any]]:
    from huggingface_hub import HfApi

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    api = HfApi(endpoint=url, token=DEFAULT_TOKEN)
    api.create_repo(repo_id)

    def publish(folder: Path) -> dict[str, Any]:
        info = api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="Publish")
        return {"commit": info.oid}

    return publish


def operator_side(url: str, repo_id: str) -> Callable[[Path], dict[str, Any]]:
    from huggingface_hub import HfApi

    from airflow_provider_hub.operators.repo import HfUploadFolderOperator
    from airflow_provider_hub.testing import DEFAULT_TOKEN

    os.environ["AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"] = connection_uri(url, DEFAULT_TOKEN)
    HfApi(endpoint=url, token=DEFAULT_TOKEN).create_repo(repo_id)

    def publish(folder: Path) -> dict[str, Any]:
        operator = HfUploadFolderOperator(
            task_id="publish", repo_id=repo_id, folder_path=str(folder), commit_message="Publish"
        )
        result = operator.execute({"ti": _TaskInstance()})
        return {"commit": result["commit_oid"], "added": result["files_added"]}

    return publish


SIDES = {RAW: raw_side, OPERATOR: operator_side}


def change_one_small_file(folder: Path, round_: int) -> None:
    path = folder / CHANGED_FILE
    path.write_text(json.dumps({"round": round_, "pad": "x" * 900}))


def run_side(name: str, url: str, folder: Path, warmup: Path, round_: int) -> dict[str, float]:
    """The three timed steps of one side on its own emulator."""
    from huggingface_hub import constants

    SIDES[name](url, "alice/warmup")(warmup)
    shutil.rmtree(Path(constants.HF_HOME, "airflow_provider_hub"), ignore_errors=True)  # a first upload
    publish = SIDES[name](url, "alice/published")
    seconds: dict[str, float] = {}
    for step in STEPS:
        if step == "one changed":
            change_one_small_file(folder, round_)
        started = time.perf_counter()
        outcome = publish(folder)
        seconds[step] = time.perf_counter() - started
        if name == OPERATOR:
            expected_added = {"first": LFS_FILES + SMALL_FILES, "one changed": 1, "no change": 0}[step]
            assert outcome["added"] == expected_added, (step, outcome)
            assert (outcome["commit"] is None) == (step == "no change"), (step, outcome)
    return seconds


def main() -> None:
    quiet_http_logs()
    parser = size_arguments(__doc__, what="folder", size_gib=5.0, repeat=6)
    args = parser.parse_args()

    samples: dict[str, dict[str, list[float]]] = {name: {step: [] for step in STEPS} for name in SIDES}
    with (
        tempfile.TemporaryDirectory(prefix="republish-bench-") as workdir,
        tempfile.TemporaryDirectory(prefix="republish-bench-store-", dir=STORE_ROOT) as storedir,
    ):
        work, store = Path(workdir), Path(storedir)
        size = write_folder(work / "folder", int(args.size_gib * GiB))
        write_warmup_folder(work / "warmup")
        # The folder's dirty pages written back now, not while the first rounds are timed.
        os.sync()
        time.sleep(RACY_WINDOW_NS / 1e9)
        round_ = 0
        for repeat in range(args.repeat):
            order = list(SIDES) if repeat % 2 == 0 else list(reversed(SIDES))
            for name in order:
                round_ += 1
                data_dir = store / f"hub-{repeat}-{order.index(name)}"
                process, url = start_emulator("--data-dir", str(data_dir))
                try:
                    seconds = run_side(name, url, work / "folder", work / "warmup", round_)
                finally:
                    stop_emulator(process)
                    shutil.rmtree(data_dir)
                for step, value in seconds.items():
                    samples[name][step].append(value)
                print(f"{name}: " + ", ".join(f"{s} {v:.2f} s" for s, v in seconds.items()), flush=True)
    shutil.rmtree(os.environ["HF_HOME"], ignore_errors=True)

    stats = {"min": min, "median": median}
    seconds = {
        stat: {(name, step): pick(samples[name][step]) for name in SIDES for step in STEPS}
        for stat, pick in stats.items()
    }
    rows = [
        {
            "step": step,
            f"{RAW} s (median)": seconds["median"][(RAW, step)],
            f"{OPERATOR} s (median)": seconds["median"][(OPERATOR, step)],
            "raw / operator (median)": seconds["median"][(RAW, step)] / seconds["median"][(OPERATOR, step)],
            "raw / operator (min)": seconds["min"][(RAW, step)] / seconds["min"][(OPERATOR, step)],
        }
        for step in STEPS
    ]
    speedup = {row["step"]: row["raw / operator (median)"] for row in rows}
    first_ratio = 1 / speedup["first"]
    met = (
        speedup["one changed"] >= TARGET_SPEEDUP
        and speedup["no change"] >= TARGET_SPEEDUP
        and first_ratio <= TARGET_FIRST_RATIO
    )
    print(
        f"folder: {size / GiB:.2f} GiB ({LFS_FILES} LFS files + {SMALL_FILES} small files), {args.repeat} runs each"
    )
    print(table(rows))
    print(
        f"one changed: {speedup['one changed']:.1f}x faster, no change: {speedup['no change']:.1f}x faster "
        f"(target >= {TARGET_SPEEDUP:.0f}x); first upload: operator/raw = {first_ratio:.3f} "
        f"(target <= {TARGET_FIRST_RATIO}); judged on the medians: {'met' if met else 'NOT met'}"
    )
    figures = {
        "one changed (x faster)": speedup["one changed"],
        "no change (x faster)": speedup["no change"],
        "first upload operator/raw": first_ratio,
    }
    path = save(
        "republish",
        rows,
        headline=headline(
            figures,
            f">= {TARGET_SPEEDUP:.0f}x faster changed and unchanged, first <= {TARGET_FIRST_RATIO}x raw (medians)",
            met,
        ),
        folder_bytes=size,
        repeats=args.repeat,
        samples_s=samples,
        lfs_files=LFS_FILES,
        small_files=SMALL_FILES,
        speedup=speedup,
        first_over_raw=first_ratio,
        targets={
            "one changed": f">= {TARGET_SPEEDUP}x",
            "no change": f">= {TARGET_SPEEDUP}x",
            "first": f"<= {TARGET_FIRST_RATIO}x raw",
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

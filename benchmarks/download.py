"""Download: ``HfDownloadOperator`` vs raw ``snapshot_download`` + copy, to a local folder and to S3.

A model repo (default 2 GiB: four LFS ``*.safetensors`` files + 100 small JSON files) is uploaded once to an
emulator process (its store on ``/dev/shm`` when there is one). S3 is moto's server in its own process on
loopback. Each measured download runs in a fresh child process that first downloads a tiny warm-up repo
the same way (imports, the connection lookup, HTTP pools), then resets its peak RSS
(``/proc/self/clear_refs``) and downloads the model:

- raw: ``huggingface_hub.snapshot_download(repo_id, revision=sha, local_dir=staging)`` (its own 8 threads),
  then every file copied to the destination: ``shutil.copyfile`` to the local folder, the destination's own
  fsspec filesystem (``ObjectStoragePath(...).fs.put_file``, s3fs) to S3.
- operator: ``HfDownloadOperator.execute`` (the code path of a task) to the same kind of destination.

Memory growth is the child's peak RSS during the download minus its RSS just before it. Each side runs
``--repeat`` times per destination (the order alternates); medians are judged.

Targets: operator >= 80% of raw's speed (raw seconds / operator seconds) on each destination; memory growth
<= 100 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    GiB,
    MiB,
    client_environment,
    headline,
    median,
    quiet_http_logs,
    save,
    size_arguments,
    start_emulator,
    stop_emulator,
    table,
)

client_environment(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
LFS_FILES = 4
SMALL_FILES = 100
SMALL_FILE_BYTES = 1024
TARGET_SHARE = 0.80
TARGET_MEMORY_MB = 100
RAW = "raw snapshot_download + copy"
OPERATOR = "HfDownloadOperator"
REPO = "alice/model"
WARMUP_REPO = "alice/warmup"
BUCKET = "models"
STORE_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") else None


def write_folder(folder: Path, total_bytes: int) -> int:
    """The model folder; returns its size. Content never repeats, so nothing dedups."""
    folder.mkdir(parents=True)
    for index in range(SMALL_FILES):
        (folder / f"config_{index:03d}.json").write_bytes(os.urandom(SMALL_FILE_BYTES // 2).hex().encode())
    lfs_bytes = max(total_bytes - SMALL_FILES * SMALL_FILE_BYTES, LFS_FILES * MiB) // LFS_FILES
    block = os.urandom(8 * MiB)
    counter = 0
    for index in range(LFS_FILES):
        with open(folder / f"model-{index:05d}.safetensors", "wb") as handle:
            written = 0
            while written < lfs_bytes:
                chunk = (hashlib.sha256(counter.to_bytes(8, "big")).digest() + block[32:])[
                    : lfs_bytes - written
                ]
                handle.write(chunk)
                written += len(chunk)
                counter += 1
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def start_s3() -> tuple[subprocess.Popen[bytes], str]:
    """moto's S3 server in its own process (its memory is not the client's) and its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto's server did not start")


def child_environment(url: str, s3_url: str) -> dict[str, str]:
    from airflow_provider_hub.testing import DEFAULT_TOKEN

    hub = {"conn_type": "huggingface_hub", "host": url, "password": DEFAULT_TOKEN}
    aws = {"conn_type": "aws", "extra": {"region_name": "us-east-1", "endpoint_url": s3_url}}
    return {
        **os.environ,
        "HF_ENDPOINT": url,
        "HF_TOKEN": DEFAULT_TOKEN,
        "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": json.dumps(hub),
        "AIRFLOW_CONN_BENCH_S3": json.dumps(aws),
    }


# -- one measured download, in a child process -----------------------------------------------------------


class _TaskInstance:
    def __init__(self, run_id: str) -> None:
        self.dag_id, self.task_id, self.run_id, self.map_index, self.try_number = "bench", "dl", run_id, -1, 1

    def xcom_push(self, key: str, value: object) -> None:
        pass


def download_raw(repo_id: str, revision: str, destination: str, staging: Path) -> None:
    from huggingface_hub import snapshot_download

    local = Path(snapshot_download(repo_id, revision=revision, local_dir=staging))
    files = [p for p in local.rglob("*") if p.is_file() and ".cache" not in p.relative_to(local).parts]
    if destination.startswith("s3://"):
        from airflow.sdk import ObjectStoragePath

        root = ObjectStoragePath(destination, conn_id="bench_s3")
        for path in files:
            root.fs.put_file(str(path), f"{root.path}/{path.relative_to(local).as_posix()}")
    else:
        for path in files:
            target = Path(destination) / path.relative_to(local)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    shutil.rmtree(staging)


def download_operator(repo_id: str, revision: str, destination: str, run_id: str) -> None:
    from airflow_provider_hub.operators.repo import HfDownloadOperator

    operator = HfDownloadOperator(
        task_id="dl",
        repo_id=repo_id,
        revision=revision,
        destination=destination,
        storage_conn_id="bench_s3" if destination.startswith("s3://") else None,
    )
    result = operator.execute({"ti": _TaskInstance(run_id)})
    assert result["files"] and not result["files_unchanged"], result


def rss_kib() -> tuple[int, int]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def child(side: str, destination: str, warmup_destination: str, revision: str, work: Path) -> None:
    import logging

    quiet_http_logs()
    logging.getLogger("airflow").setLevel(logging.WARNING)

    def run(repo_id: str, rev: str | None, dest: str, tag: str) -> None:
        if side == "raw":
            download_raw(repo_id, rev or "main", dest, work / f"staging-{tag}")
        else:
            download_operator(repo_id, rev or "main", dest, f"bench__{tag}")

    run(WARMUP_REPO, None, warmup_destination, "warmup")
    Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from now
    before, _ = rss_kib()
    started = time.perf_counter()
    run(REPO, revision, destination, "measured")
    elapsed = time.perf_counter() - started
    _, peak = rss_kib()
    print(json.dumps({"seconds": elapsed, "memory_growth_mb": (peak - before) * 1024 / 1e6}))


def measure(
    side: str, destination: str, warmup: str, revision: str, env: dict[str, str], work: Path
) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", side, destination, warmup, revision, str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{side} to {destination} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def clear_destination(destination: str, s3: Any) -> None:
    if destination.startswith("s3://"):
        prefix = destination.removeprefix(f"s3://{BUCKET}/")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})
    else:
        shutil.rmtree(destination, ignore_errors=True)


def main() -> None:
    parser = size_arguments(__doc__, what="repo", size_gib=2.0, repeat=2)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, destination, warmup, revision, work = args.child
        child(side, destination, warmup, revision, Path(work))
        return

    import boto3
    from huggingface_hub import HfApi

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    with (
        tempfile.TemporaryDirectory(prefix="download-bench-") as workdir,
        tempfile.TemporaryDirectory(prefix="download-bench-store-", dir=STORE_ROOT) as storedir,
    ):
        work, store = Path(workdir), Path(storedir)
        emulator, url = start_emulator("--data-dir", str(store / "hub"))
        s3_process, s3_url = start_s3()
        try:
            api = HfApi(endpoint=url, token=DEFAULT_TOKEN)
            size = write_folder(work / "folder", int(args.size_gib * GiB))
            api.create_repo(REPO)
            revision = api.upload_folder(
                repo_id=REPO, folder_path=work / "folder", commit_message="Model"
            ).oid
            shutil.rmtree(work / "folder")
            api.create_repo(WARMUP_REPO)
            api.upload_file(
                path_or_fileobj=os.urandom(64 * 1024), path_in_repo="tiny.safetensors", repo_id=WARMUP_REPO
            )
            s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=s3_url)
            s3.create_bucket(Bucket=BUCKET)
            env = child_environment(url, s3_url)
            destinations = {"local folder": str(work / "out" / "model"), "S3 (moto)": f"s3://{BUCKET}/model"}
            warmups = {"local folder": str(work / "out" / "warmup"), "S3 (moto)": f"s3://{BUCKET}/warmup"}
            samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for where, destination in destinations.items():
                for repeat in range(args.repeat):
                    sides = ["raw", "operator"] if repeat % 2 == 0 else ["operator", "raw"]
                    for side in sides:
                        clear_destination(destination, s3)
                        clear_destination(warmups[where], s3)
                        sample = measure(side, destination, warmups[where], revision, env, work)
                        samples.setdefault((where, side), []).append(sample)
                        print(
                            f"{where} {side}: {sample['seconds']:.2f} s, +{sample['memory_growth_mb']:.0f} MB",
                            flush=True,
                        )
                clear_destination(destination, s3)
        finally:
            stop_emulator(emulator)
            s3_process.terminate()
            s3_process.wait(timeout=30)

    rows, shares, growths = [], {}, []
    for where in destinations:
        raw_s = median([s["seconds"] for s in samples[(where, "raw")]])
        operator_s = median([s["seconds"] for s in samples[(where, "operator")]])
        shares[where] = raw_s / operator_s
        for side, name, seconds in (("raw", RAW, raw_s), ("operator", OPERATOR, operator_s)):
            growth = max(s["memory_growth_mb"] for s in samples[(where, side)])
            if side == "operator":
                growths.append(growth)
            rows.append(
                {
                    "destination": where,
                    "run": name,
                    "seconds (median)": seconds,
                    "MB/s (median)": size / seconds / 1e6,
                    "share of raw speed": raw_s / seconds,
                    "memory growth MB (max)": growth,
                }
            )
    print(
        f"repo: {size / GiB:.2f} GiB ({LFS_FILES} LFS files + {SMALL_FILES} small files), {args.repeat} runs each"
    )
    print(table(rows))
    memory = max(growths)
    met = all(share >= TARGET_SHARE for share in shares.values()) and memory <= TARGET_MEMORY_MB
    print(
        "operator share of raw speed: "
        + ", ".join(f"{where} {share:.0%}" for where, share in shares.items())
        + f" (target >= {TARGET_SHARE:.0%}); memory growth {memory:.0f} MB (target <= {TARGET_MEMORY_MB} MB): "
        + ("met" if met else "NOT met")
    )
    figures = {f"{where} share of raw": f"{share:.0%}" for where, share in shares.items()}
    figures["memory growth"] = f"{memory:.0f} MB"
    path = save(
        "download",
        rows,
        headline=headline(
            figures, f">= {TARGET_SHARE:.0%} of raw speed, <= {TARGET_MEMORY_MB} MB growth", met
        ),
        repo_bytes=size,
        repeats=args.repeat,
        samples={f"{where} / {side}": values for (where, side), values in samples.items()},
        share_of_raw=shares,
        memory_growth_mb=memory,
        targets={"share_of_raw": f">= {TARGET_SHARE}", "memory_growth_mb": f"<= {TARGET_MEMORY_MB}"},
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

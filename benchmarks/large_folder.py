"""Large folder: ``HfUploadLargeFolderOperator`` vs the floor and raw ``upload_folder``, and a killed run retried.

The folder (default 20 GiB in 2,000 LFS files, 100 per subfolder) is generated on disk once; content never
repeats, so nothing dedups. Each measured upload gets a fresh emulator process (its own data dir: its blob
store is content-addressed and would otherwise find the bytes of an earlier run).

- operator: ``HfUploadLargeFolderOperator.execute`` (several commits of at most 1,000 files) into a new repo.
- raw: ``HfApi.upload_folder`` (one commit: 2,000 LFS files fit in the Hub's 25k per commit).
- floor: sha256 over every byte + streaming every byte over loopback to a process writing them to disk
  (``upload_folder.py``'s floor): what any upload of these bytes costs at least, one after the other.
- killed + retried: the operator in a worker process is ``SIGKILL``-ed once the emulator has received about
  half the folder's bytes, then run again to the end in this process; the emulator's byte counters
  (``bytes_received``: LFS transfer bodies, cut-off ones included, and commit bodies) give what both tries
  sent together.

Targets: operator >= 60% of the floor's speed (floor seconds / operator seconds); killed + retried sends
<= 1.1x the folder's size in total. Where the blob store lives: ``/dev/shm`` when the folder takes at most a
quarter of it, else the temporary directory's disk (then disk writeback weighs on both the floor and the uploads).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import (
    GiB,
    MiB,
    client_environment,
    headline,
    quiet_http_logs,
    save,
    size_arguments,
    start_emulator,
    stop_emulator,
    table,
)
from upload_folder import connection_uri, floor

client_environment()
FILES_PER_FOLDER = 100
CHUNK = 8 * MiB
TARGET_FLOOR_SHARE = 0.60
TARGET_RESENT = 1.10
KILL_AT = 0.5
OPERATOR = "HfUploadLargeFolderOperator"
RAW = "raw HfApi.upload_folder"
FLOOR = "floor (sha256 + loopback copy)"
KILLED = "operator killed at ~50%, retried"

#: The killed try: the operator's execute in a worker process, as a task would run it.
WORKER = textwrap.dedent(
    """
    import json, logging, sys
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    from airflow_provider_hub.operators.repo import HfUploadLargeFolderOperator

    class TaskInstance:
        def xcom_push(self, key, value):
            pass

    HfUploadLargeFolderOperator(**json.loads(sys.argv[1])).execute({"ti": TaskInstance()})
    """
)


def write_folder(folder: Path, total_bytes: int, files: int) -> int:
    """``files`` ``.bin`` files (LFS per the default ``.gitattributes``) of ``total_bytes`` together."""
    size = total_bytes // files
    block = os.urandom(CHUNK)
    counter = 0
    for index in range(files):
        sub = folder / f"part-{index // FILES_PER_FOLDER:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        with open(sub / f"shard-{index:05d}.bin", "wb") as handle:
            written = 0
            while written < size:
                chunk = (hashlib.sha256(counter.to_bytes(8, "big")).digest() + block[32:])[: size - written]
                handle.write(chunk)
                written += len(chunk)
                counter += 1
    return size * files


def control(url: str, method: str, **kwargs: Any) -> Any:
    """Call the emulator's control API (``POST /_emulator/<method>``)."""
    request = urllib.request.Request(
        f"{url}/_emulator/{method}",
        data=json.dumps(kwargs).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["result"]


def create_repo(url: str, repo_id: str) -> None:
    from huggingface_hub import HfApi

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    HfApi(endpoint=url, token=DEFAULT_TOKEN).create_repo(repo_id, repo_type="dataset")


def operator_kwargs(folder: Path) -> dict[str, Any]:
    return {"task_id": "upload", "repo_id": "alice/large", "repo_type": "dataset", "folder_path": str(folder)}


class _TaskInstance:
    def xcom_push(self, key: str, value: object) -> None:
        pass


def upload_operator(url: str, folder: Path, repo_id: str = "alice/large") -> tuple[float, dict[str, Any]]:
    from airflow_provider_hub.operators.repo import HfUploadLargeFolderOperator
    from airflow_provider_hub.testing import DEFAULT_TOKEN

    os.environ["AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"] = connection_uri(url, DEFAULT_TOKEN)
    operator = HfUploadLargeFolderOperator(**{**operator_kwargs(folder), "repo_id": repo_id})
    started = time.perf_counter()
    result = operator.execute({"ti": _TaskInstance()})
    return time.perf_counter() - started, result


def upload_raw(url: str, folder: Path, repo_id: str = "alice/raw") -> float:
    from huggingface_hub import HfApi

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    create_repo(url, repo_id)
    started = time.perf_counter()
    HfApi(endpoint=url, token=DEFAULT_TOKEN).upload_folder(
        repo_id=repo_id, repo_type="dataset", folder_path=folder, commit_message="Upload"
    )
    return time.perf_counter() - started


def killed_and_retried(url: str, folder: Path, size: int, workdir: Path) -> dict[str, Any]:
    """Kill a worker's upload once about half the bytes arrived, retry it here; what was sent in all."""
    from airflow_provider_hub.testing import DEFAULT_TOKEN

    env = {**os.environ, "AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT": connection_uri(url, DEFAULT_TOKEN)}
    log_path = workdir / "killed-worker.log"
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, json.dumps(operator_kwargs(folder))],
            stdout=log,
            stderr=log,
            env=env,
        )
    while control(url, "bytes_received", kind="lfs") < KILL_AT * size:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker ended before the kill:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    killed_s = time.perf_counter() - started
    time.sleep(2)  # the emulator finishes reading what reached its sockets before the kill
    sent_by_killed = control(url, "bytes_received")
    retry_s, result = upload_operator(url, folder)
    total = control(url, "bytes_received")
    return {
        "killed_after_s": killed_s,
        "retry_s": retry_s,
        "sent_by_killed": sent_by_killed,
        "sent_by_retry": total - sent_by_killed,
        "sent_total": total,
        "retry_commits": len(result["commits"]),
        "retry_files": result["files"],
    }


def main() -> None:
    quiet_http_logs()
    parser = size_arguments(__doc__, what="folder", size_gib=20.0)
    parser.add_argument("--files", type=int, default=2000, help="files in the folder (default 2,000)")
    args = parser.parse_args()
    size_wanted = int(args.size_gib * GiB)
    shm = shutil.disk_usage("/dev/shm").free if os.path.isdir("/dev/shm") else 0
    store_root = "/dev/shm" if size_wanted * 4 <= shm else None

    with (
        tempfile.TemporaryDirectory(prefix="large-folder-bench-") as workdir,
        tempfile.TemporaryDirectory(prefix="large-folder-store-", dir=store_root) as storedir,
    ):
        work, store = Path(workdir), Path(storedir)
        folder = work / "folder"
        size = write_folder(folder, size_wanted, args.files)
        print(
            f"folder: {size / GiB:.2f} GiB in {args.files} files; store on {store_root or tempfile.gettempdir()}"
        )
        hash_s, copy_s = floor(folder, store / "sink.bin")
        (store / "sink.bin").unlink()
        seconds = {FLOOR: hash_s + copy_s}
        print(f"{FLOOR}: {seconds[FLOOR]:.2f} s (sha256 {hash_s:.2f} s + copy {copy_s:.2f} s)", flush=True)

        def fresh(name: str) -> tuple[subprocess.Popen[str], str, Path]:
            data_dir = store / name
            process, url = start_emulator("--data-dir", str(data_dir))
            return process, url, data_dir

        warmup = work / "warmup"
        write_folder(warmup, 2 * 64 * 1024, 2)

        process, url, data_dir = fresh("operator")
        try:
            # Steady state for both sides: imports, the connection lookup, HTTP pools, warmed on a tiny folder.
            upload_operator(url, warmup, repo_id="alice/warmup")
            control(url, "reset_counts")
            seconds[OPERATOR], result = upload_operator(url, folder)
            operator_sent = control(url, "bytes_received")
        finally:
            stop_emulator(process)
            shutil.rmtree(data_dir)
        print(f"{OPERATOR}: {seconds[OPERATOR]:.2f} s, {len(result['commits'])} commits", flush=True)

        process, url, data_dir = fresh("raw")
        try:
            upload_raw(url, warmup, repo_id="alice/warmup")
            seconds[RAW] = upload_raw(url, folder)
        finally:
            stop_emulator(process)
            shutil.rmtree(data_dir)
        print(f"{RAW}: {seconds[RAW]:.2f} s", flush=True)

        process, url, data_dir = fresh("killed")
        try:
            upload_operator(url, warmup, repo_id="alice/warmup")
            control(url, "reset_counts")
            create_repo(url, "alice/large")
            killed = killed_and_retried(url, folder, size, work)
        finally:
            stop_emulator(process)
            shutil.rmtree(data_dir)
        seconds[KILLED] = killed["killed_after_s"] + killed["retry_s"]
        print(f"{KILLED}: {json.dumps(killed)}", flush=True)

    sent = {OPERATOR: operator_sent, KILLED: killed["sent_total"], FLOOR: size}
    rows = [
        {
            "run": name,
            "seconds": seconds[name],
            "MB/s": size / seconds[name] / 1e6,
            "share of floor": seconds[FLOOR] / seconds[name],
            "x raw": seconds[name] / seconds[RAW],
            "bytes sent / folder": (sent[name] / size) if name in sent else "-",
        }
        for name in (FLOOR, OPERATOR, RAW, KILLED)
    ]
    print(table(rows))
    share = seconds[FLOOR] / seconds[OPERATOR]
    resent = killed["sent_total"] / size
    met = share >= TARGET_FLOOR_SHARE and resent <= TARGET_RESENT
    print(
        f"operator: {share:.0%} of the floor (target >= {TARGET_FLOOR_SHARE:.0%}), {seconds[OPERATOR] / seconds[RAW]:.2f}x "
        f"raw upload_folder; killed at ~{KILL_AT:.0%} + retried sent {resent:.3f}x the folder (target <= "
        f"{TARGET_RESENT}x; the retry sent {killed['sent_by_retry'] / size:.0%}): {'met' if met else 'NOT met'}"
    )
    path = save(
        "large_folder",
        rows,
        headline=headline(
            {"share of floor": f"{share:.0%}", "killed + retried sent": f"{resent:.3f}x"},
            f">= {TARGET_FLOOR_SHARE:.0%} of floor, <= {TARGET_RESENT}x sent after a kill",
            met,
        ),
        folder_bytes=size,
        files=args.files,
        seconds=seconds,
        floor_hash_s=hash_s,
        floor_copy_s=copy_s,
        operator_commits=len(result["commits"]),
        killed=killed,
        share_of_floor=share,
        resent_over_folder=resent,
        targets={"share_of_floor": f">= {TARGET_FLOOR_SHARE}", "resent_over_folder": f"<= {TARGET_RESENT}"},
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

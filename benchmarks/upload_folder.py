"""Upload: ``HfUploadFolderOperator`` vs raw ``HfApi.upload_folder`` on the same folder, and the floor.

The folder (default 2 GiB: four LFS ``*.safetensors`` files + 1,000 small JSON files) is generated on disk
once. Each measured upload gets a fresh emulator process (``python -m airflow_provider_hub.testing``, its
own data dir): the emulator's blob store is content-addressed, so a second upload of the same bytes to the
same emulator would skip the LFS transfer and flatter whichever ran second. The server runs outside this
process, so its CPU is not the client's.

- raw: ``HfApi.upload_folder(repo_id, folder_path)`` into a fresh repo.
- operator: ``HfUploadFolderOperator.execute`` (the same code path as in a task) into a fresh repo.
- floor: sha256 over every byte (what the client must do for LFS) + streaming every byte over a
  loopback TCP socket to a child process that writes them to disk (what storing an upload costs at least).

The emulator's store and the floor's sink live on ``/dev/shm`` when it exists, so disk writeback of earlier
runs does not slow later ones. Each side first uploads a tiny warm-up folder to its emulator, so one-time
costs (module imports, the Airflow connection lookup, HTTP connection pools) are not counted for either.

Each side runs ``--repeat`` times (default 10, an even count so each side goes first equally often; the order
alternates). A shared machine makes single runs noisy in both directions, so each side's min (its best
case) and median are both reported, and both ratios; the targets are judged on the medians.

Targets: operator <= 1.03x raw; operator >= 60% of the floor's speed (floor seconds / operator seconds).
"""

from __future__ import annotations

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

client_environment()
LFS_FILES = 4
SMALL_FILES = 1000
SMALL_FILE_BYTES = 1024
TARGET_RATIO = 1.03
TARGET_FLOOR_SHARE = 0.60
CHUNK = 8 * MiB
RAW = "raw HfApi.upload_folder"
OPERATOR = "HfUploadFolderOperator"
FLOOR = "floor (sha256 + loopback copy)"
#: Where the emulator stores blobs and the floor's sink writes: RAM when there is a tmpfs, so the figures
#: measure the upload path rather than this machine's disk writeback (which made runs vary 2x).
STORE_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") else None

#: The floor's receiving end: accept one connection, write everything it sends to a file, answer the size.
SINK = """
import socket, sys
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
received = 0
with open(sys.argv[1], "wb") as out:
    while chunk := conn.recv(8 << 20):
        out.write(chunk)
        received += len(chunk)
conn.sendall(str(received).encode())
conn.close()
"""


def write_folder(folder: Path, total_bytes: int) -> int:
    """The benchmark folder; returns its size in bytes. Content never repeats, so nothing dedups."""
    folder.mkdir(parents=True)
    small = folder / "small"
    small.mkdir()
    for index in range(SMALL_FILES):
        (small / f"file_{index:04d}.json").write_bytes(
            json.dumps({"index": index, "pad": os.urandom(SMALL_FILE_BYTES // 2).hex()}).encode()[
                :SMALL_FILE_BYTES
            ]
        )
    lfs_bytes = max(total_bytes - SMALL_FILES * SMALL_FILE_BYTES, LFS_FILES * MiB) // LFS_FILES
    block = os.urandom(CHUNK)
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


def connection_uri(url: str, token: str) -> str:
    return json.dumps(
        {"conn_type": "huggingface_hub", "host": url, "password": token, "extra": {"namespace": "alice"}}
    )


def upload_raw(url: str, folder: Path, repo_id: str = "alice/raw") -> float:
    from huggingface_hub import HfApi

    from airflow_provider_hub.testing import DEFAULT_TOKEN

    api = HfApi(endpoint=url, token=DEFAULT_TOKEN)
    api.create_repo(repo_id)
    started = time.perf_counter()
    api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="Upload")
    return time.perf_counter() - started


class _TaskInstance:
    def xcom_push(self, key: str, value: object) -> None:
        pass


def upload_operator(url: str, folder: Path, repo_id: str = "alice/operator") -> float:
    from huggingface_hub import HfApi, constants

    from airflow_provider_hub.operators.repo import HfUploadFolderOperator
    from airflow_provider_hub.testing import DEFAULT_TOKEN

    os.environ["AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"] = connection_uri(url, DEFAULT_TOKEN)
    HfApi(endpoint=url, token=DEFAULT_TOKEN).create_repo(repo_id)
    # Every run is a first publication, as raw upload_folder's: no digests remembered from the previous one.
    shutil.rmtree(Path(constants.HF_HOME, "airflow_provider_hub"), ignore_errors=True)
    operator = HfUploadFolderOperator(
        task_id="upload", repo_id=repo_id, folder_path=str(folder), commit_message="Upload"
    )
    started = time.perf_counter()
    result = operator.execute({"ti": _TaskInstance()})
    elapsed = time.perf_counter() - started
    assert result["commit_oid"] and not result["files_unchanged"], result
    return elapsed


def write_warmup_folder(folder: Path) -> None:
    """A tiny folder taking the same code paths (one LFS file, one small file)."""
    folder.mkdir(parents=True)
    (folder / "tiny.safetensors").write_bytes(os.urandom(64 * 1024))
    (folder / "tiny.json").write_text("{}")


def floor(folder: Path, sink_path: Path) -> tuple[float, float]:
    """Seconds to sha256 every file, and to stream every byte over loopback to a process writing them to disk."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    started = time.perf_counter()
    for path in files:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    hash_s = time.perf_counter() - started

    sink = subprocess.Popen([sys.executable, "-c", SINK, str(sink_path)], stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None
    port = int(sink.stdout.readline())
    total = 0
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        for path in files:
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    conn.sendall(chunk)
                    total += len(chunk)
        conn.shutdown(socket.SHUT_WR)
        received = int(conn.recv(64))
    copy_s = time.perf_counter() - started
    sink.wait(timeout=30)
    assert received == total, (received, total)
    return hash_s, copy_s


def main() -> None:
    quiet_http_logs()
    parser = size_arguments(__doc__, what="folder", size_gib=2.0, repeat=10)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="upload-bench-") as workdir,
        tempfile.TemporaryDirectory(prefix="upload-bench-store-", dir=STORE_ROOT) as storedir,
    ):
        work, store = Path(workdir), Path(storedir)
        size = write_folder(work / "folder", int(args.size_gib * GiB))
        write_warmup_folder(work / "warmup")
        methods = {RAW: upload_raw, OPERATOR: upload_operator}
        samples: dict[str, list[float]] = {name: [] for name in [*methods, FLOOR]}
        floor_parts: list[tuple[float, float]] = []
        for repeat in range(args.repeat):
            # Alternate the order so neither side always runs on a warmer (or busier) machine.
            order = list(methods) if repeat % 2 == 0 else list(reversed(methods))
            for name in order:
                data_dir = store / f"hub-{repeat}-{order.index(name)}"
                process, url = start_emulator("--data-dir", str(data_dir))
                try:
                    # Steady state for both: imports, connection lookup and HTTP pools warmed on a tiny folder.
                    methods[name](url, work / "warmup", repo_id="alice/warmup")
                    samples[name].append(methods[name](url, work / "folder"))
                finally:
                    stop_emulator(process)
                    shutil.rmtree(data_dir)
                print(f"{name}: {samples[name][-1]:.2f} s", flush=True)
            floor_parts.append(floor(work / "folder", store / "sink.bin"))
            (store / "sink.bin").unlink()
            samples[FLOOR].append(sum(floor_parts[-1]))
        hash_s = median([h for h, _ in floor_parts])
        copy_s = median([c for _, c in floor_parts])

    # {"min": {run: seconds}, "median": {run: seconds}}
    seconds = {
        stat: {name: pick(values) for name, values in samples.items()}
        for stat, pick in (("min", min), ("median", median))
    }
    over_raw = {stat: by_run[OPERATOR] / by_run[RAW] for stat, by_run in seconds.items()}
    floor_share = {stat: by_run[FLOOR] / by_run[OPERATOR] for stat, by_run in seconds.items()}
    rows = [
        {
            "run": name,
            "seconds (min)": seconds["min"][name],
            "seconds (median)": seconds["median"][name],
            "MB/s (median)": size / seconds["median"][name] / 1e6,
            "x raw (min)": seconds["min"][name] / seconds["min"][RAW],
            "x raw (median)": seconds["median"][name] / seconds["median"][RAW],
            "share of floor (min)": seconds["min"][FLOOR] / seconds["min"][name],
            "share of floor (median)": seconds["median"][FLOOR] / seconds["median"][name],
        }
        for name in samples
    ]
    print(
        f"folder: {size / GiB:.2f} GiB ({LFS_FILES} LFS files + {SMALL_FILES} small files), {args.repeat} runs each"
    )
    print(table(rows))
    print(f"floor split (medians): sha256 {hash_s:.2f} s + loopback copy {copy_s:.2f} s")
    met = over_raw["median"] <= TARGET_RATIO and floor_share["median"] >= TARGET_FLOOR_SHARE
    print(
        f"operator/raw = {over_raw['median']:.3f} median, {over_raw['min']:.3f} min (target <= {TARGET_RATIO}); "
        f"share of floor = {floor_share['median']:.0%} median, {floor_share['min']:.0%} min "
        f"(target >= {TARGET_FLOOR_SHARE:.0%}); judged on the medians: {'met' if met else 'NOT met'}"
    )
    figures = {
        "operator/raw (median / min)": f"{over_raw['median']:.3f}x / {over_raw['min']:.3f}x",
        "share of floor (median / min)": f"{floor_share['median']:.0%} / {floor_share['min']:.0%}",
    }
    path = save(
        "upload_folder",
        rows,
        headline=headline(
            figures, f"<= {TARGET_RATIO}x raw, >= {TARGET_FLOOR_SHARE:.0%} of floor (medians)", met
        ),
        folder_bytes=size,
        repeats=args.repeat,
        samples_s=samples,
        lfs_files=LFS_FILES,
        small_files=SMALL_FILES,
        floor_hash_s=hash_s,
        floor_copy_s=copy_s,
        operator_over_raw=over_raw["median"],
        share_of_floor=floor_share["median"],
        operator_over_raw_min=over_raw["min"],
        share_of_floor_min=floor_share["min"],
        targets={"operator_over_raw": f"<= {TARGET_RATIO}", "share_of_floor": f">= {TARGET_FLOOR_SHARE}"},
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()

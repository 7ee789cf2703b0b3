"""Copy a repo snapshot, pinned to one commit, to a destination: the one copy loop of the download operators.

:class:`SnapshotCopy` resolves the revision to a commit sha once per task instance (the pin is a small marker
at the destination, so every retry of the same task instance downloads the same commit), lists the files of
that commit, and for each file either finds it at the destination already (same size and same content hash
as the Hub's: sha256 for LFS files, the git blob id for the others) or downloads it with the hook
(``hf_hub_download``; :attr:`Destination.copies_at_once` files at a time) and moves it into place (a local
folder) or streams it there in chunks (an object store). Memory stays flat in the size of the files;
temporary disk use is bounded by the largest files in flight.

Destinations are :class:`Destination` objects: :class:`StoragePathDestination` writes anywhere Airflow's
``ObjectStoragePath`` can (a local folder, ``file://``, ``s3://``, ``gs://``...);
:class:`~airflow_provider_hub.transfers.hub_to_s3.HfHubToS3Operator` passes its own, on the Amazon provider's
``S3Hook``.

Example::

    destination = StoragePathDestination("s3://models/sentiment", conn_id="aws_default")
    outcome = SnapshotCopy(hook, "acme/sentiment", destination, pin_key=task_instance_key(ti)).run()
    outcome.commit_oid, outcome.files, outcome.bytes
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol

from airflow_provider_hub.utils.progress import ProgressLog, TaskLogger

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_hub.hooks.hub import HfHubHook

#: Bytes per read of a copy or a hash.
CHUNK_BYTES = 1 << 20
#: Bytes an object store's file buffers before it uploads them as one part (S3's parts are >= 5 MiB).
PART_BYTES = 8 << 20
#: Where the pins live, relative to the destination: beside ``huggingface_hub``'s own ``local_dir`` metadata
#: (``.cache/huggingface/``), a folder no repo can have (the Hub refuses ``.cache`` paths).
PIN_FOLDER = ".cache/huggingface/airflow"
#: Filesystems whose rename is atomic and cheap: a file is downloaded beside the destination, then renamed.
_RENAMING_PROTOCOLS = frozenset({"", "file", "local"})


class Destination(Protocol):
    """Where a snapshot is copied to; paths are relative to its root, ``/``-separated."""

    #: Files copied at once. Each copy in flight holds the client's 10 MiB download chunks, and an object
    #: store's file its part buffer too: to a local folder two overlap the downloads' round trips within the
    #: memory target, to an object store one already keeps up with a raw copy (``benchmarks/download.py``).
    copies_at_once: int

    def __str__(self) -> str: ...

    def stored_sizes(self) -> dict[str, int]:
        """``{path: size}`` of every file stored under the root (one listing, not a request per file)."""

    def open_stored(self, path: str) -> IO[bytes]:
        """Read what is stored at ``path``."""

    def staging_folder(self, name: str) -> str | None:
        """A local folder ``name`` on the destination's own filesystem to download into, so that storing a
        file is a rename (created; kept across tries); ``None``: the destination is not local."""

    def store(self, path: str, local_file: str) -> None:
        """Move or copy ``local_file`` to ``path`` (in chunks); never leaves a partial file under ``path``."""

    def read_text(self, path: str) -> str | None:
        """The small text at ``path`` (a pin), ``None`` when there is none."""

    def write_text(self, path: str, text: str) -> None: ...

    def delete(self, path: str) -> None:
        """Delete ``path``; nothing there is fine."""


class StoragePathDestination:
    """A destination on Airflow's ``ObjectStoragePath``: a local path or any object-storage URI it supports.

    Example::

        StoragePathDestination("/data/models/sentiment")
        StoragePathDestination("s3://models/sentiment", conn_id="aws_default")

    On a local filesystem a file is downloaded into a staging folder under the destination
    (``.cache/huggingface/airflow/``) and renamed into place; on an object store an object appears only once
    its upload completed (and an upload that fails is aborted, not completed).
    """

    def __init__(self, url: str, conn_id: str | None = None) -> None:
        from airflow.sdk import ObjectStoragePath

        self.root: ObjectStoragePath = ObjectStoragePath(url, conn_id=conn_id)
        self.renames = self.root.protocol in _RENAMING_PROTOCOLS
        self.copies_at_once = 2 if self.renames else 1

    def __str__(self) -> str:
        return str(self.root)

    def _path(self, path: str) -> ObjectStoragePath:
        return self.root.joinpath(*path.split("/"))

    def stored_sizes(self) -> dict[str, int]:
        fs, root = self.root.fs, self.root.path.rstrip("/")
        fs.invalidate_cache(
            root
        )  # an object store's client may hold an older listing: list what is there now
        if not fs.exists(root):
            return {}
        return {
            path[len(root) + 1 :]: int(info["size"])
            for path, info in fs.find(root, detail=True).items()
            if info.get("type") == "file" and path.startswith(root + "/")
        }

    def open_stored(self, path: str) -> IO[bytes]:
        return self._path(path).open("rb")

    def staging_folder(self, name: str) -> str | None:
        if not self.renames:
            return None
        folder = self._path(f"{PIN_FOLDER}/{name}")
        folder.mkdir(parents=True, exist_ok=True)
        return folder.path

    def store(self, path: str, local_file: str) -> None:
        target = self._path(path)
        if self.renames:
            # The download was staged on this filesystem: a rename puts the whole file in place at once.
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(local_file, target.path)
            return
        out = target.open("wb", block_size=PART_BYTES)
        try:
            with open(local_file, "rb") as source:
                shutil.copyfileobj(source, out, CHUNK_BYTES)
        except BaseException:
            # An object store publishes whatever was written when the file closes: abort the upload instead.
            out.discard()
            out.closed = True
            raise
        out.close()
        os.remove(local_file)

    def read_text(self, path: str) -> str | None:
        try:
            return self._path(path).read_text()
        except FileNotFoundError:
            return None

    def write_text(self, path: str, text: str) -> None:
        target = self._path(path)
        if self.renames:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def delete(self, path: str) -> None:
        target = self._path(path)
        try:
            target.unlink()
        except FileNotFoundError:
            return


@dataclass(frozen=True)
class SnapshotFile:
    """A file of the pinned commit: its path in the repo, at the destination, its size and content hash."""

    path_in_repo: str
    path: str
    size: int
    sha256: str | None
    blob_id: str

    def matches(self, stored: IO[bytes]) -> bool:
        """Whether ``stored`` has this file's content (read in chunks): sha256 for LFS, git's blob id otherwise."""
        if self.sha256 is not None:
            digest, expected = hashlib.sha256(), self.sha256
        else:
            digest, expected = hashlib.sha1(f"blob {self.size}\0".encode()), self.blob_id
        for chunk in iter(lambda: stored.read(CHUNK_BYTES), b""):
            digest.update(chunk)
        return digest.hexdigest() == expected


@dataclass(frozen=True)
class SnapshotOutcome:
    """What a copy did: the commit, every file of the snapshot, and those already at the destination."""

    commit_oid: str
    files: int
    bytes: int
    files_unchanged: int
    bytes_unchanged: int


class SnapshotCopy:
    """Copy the files of ``repo_id`` at one commit (those under ``subfolder`` matching the patterns) to
    ``destination``, pinned per task instance (see the module's docstring).

    :param pin_key: what identifies the task instance across its tries
        (:func:`~airflow_provider_hub.operators.base.task_instance_key`).
    :param subfolder: copy only this folder of the repo; paths at the destination and the patterns are
        relative to it.
    """

    def __init__(
        self,
        hook: HfHubHook,
        repo_id: str,
        destination: Destination,
        *,
        pin_key: str,
        repo_type: str = "model",
        revision: str | None = None,
        subfolder: str = "",
        allow_patterns: Sequence[str] | None = None,
        ignore_patterns: Sequence[str] | None = None,
        progress_interval: float = 10.0,
        logger: TaskLogger,
    ) -> None:
        self.hook = hook
        self.repo_id = repo_id
        self.destination = destination
        self.pin_path = f"{PIN_FOLDER}/{pin_key}.json"
        self.staging_name = f"{pin_key}.staging"
        self.repo_type = repo_type
        self.revision = revision or "main"
        self.subfolder = subfolder
        self.allow_patterns = list(allow_patterns) if allow_patterns else None
        self.ignore_patterns = list(ignore_patterns) if ignore_patterns else None
        self.progress_interval = progress_interval
        self.log = logger

    def run(self) -> SnapshotOutcome:
        commit = self.pinned_commit()
        files = self.files_at(commit)
        progress = ProgressLog(
            "Downloading", len(files), sum(f.size for f in files), self.progress_interval, self.log
        )
        stored = self.destination.stored_sizes()
        unchanged: list[SnapshotFile] = []
        # Staged at a local destination (kept across tries, so a retry resumes a file cut short), else in a
        # temporary folder.
        local_staging = self.destination.staging_folder(self.staging_name)
        lock = threading.Lock()

        def copy_one(snapshot_file: SnapshotFile, staging: str) -> None:
            kept = stored.get(snapshot_file.path) == snapshot_file.size and self.already_there(snapshot_file)
            if not kept:
                self.copy(snapshot_file, commit, staging)
            with lock:
                if kept:
                    unchanged.append(snapshot_file)
                progress.advance(1, snapshot_file.size)

        with (
            tempfile.TemporaryDirectory(prefix="hf_download_") as temporary,
            ThreadPoolExecutor(self.destination.copies_at_once, thread_name_prefix="hf_download") as pool,
        ):
            staging = local_staging or temporary
            # Largest first: the long copies start at once instead of trailing at the end.
            ordered = sorted(files, key=lambda f: f.size, reverse=True)
            copies = [pool.submit(copy_one, snapshot_file, staging) for snapshot_file in ordered]
            try:
                for copy in copies:
                    copy.result()
            except BaseException:
                for copy in copies:
                    copy.cancel()
                raise
        if local_staging:
            shutil.rmtree(local_staging)
        progress.finish()
        if unchanged:
            self.log.info(
                "%d file(s) were at %s already with the same content", len(unchanged), self.destination
            )
        # The pin served this try's retries; a later clear of the task resolves the revision anew.
        self.destination.delete(self.pin_path)
        return SnapshotOutcome(
            commit_oid=commit,
            files=len(files),
            bytes=sum(f.size for f in files),
            files_unchanged=len(unchanged),
            bytes_unchanged=sum(f.size for f in unchanged),
        )

    def pinned_commit(self) -> str:
        """The commit an earlier try of this task instance pinned, else ``revision`` resolved now and pinned."""
        request = {"repo_id": self.repo_id, "repo_type": self.repo_type, "revision": self.revision}
        text = self.destination.read_text(self.pin_path)
        if text is not None:
            try:
                pin = json.loads(text)
            except ValueError:
                pin = None
            if isinstance(pin, dict) and all(pin.get(k) == v for k, v in request.items()):
                commit = pin.get("commit_oid")
                if isinstance(commit, str) and commit:
                    self.log.info(
                        "Retry: %s@%s stays pinned to %s, as the first try resolved it",
                        self.repo_id,
                        self.revision,
                        commit,
                    )
                    return commit
        commit = self.hook.repo_head(self.repo_id, repo_type=self.repo_type, revision=self.revision)
        self.destination.write_text(self.pin_path, json.dumps({**request, "commit_oid": commit}))
        self.log.info("%s %s@%s is commit %s", self.repo_type, self.repo_id, self.revision, commit)
        return commit

    def files_at(self, commit: str) -> list[SnapshotFile]:
        from huggingface_hub.utils import filter_repo_objects

        prefix = f"{self.subfolder}/" if self.subfolder else ""
        entries = {
            entry.path[len(prefix) :]: entry
            for entry in self.hook.list_repo_tree(
                self.repo_id, repo_type=self.repo_type, revision=commit, path_in_repo=self.subfolder or None
            )
            if entry.path.startswith(prefix)
        }
        chosen = filter_repo_objects(
            entries, allow_patterns=self.allow_patterns, ignore_patterns=self.ignore_patterns
        )
        files = [
            SnapshotFile(
                path_in_repo=entry.path,
                path=path,
                size=entry.size,
                sha256=entry.lfs.sha256 if entry.lfs is not None else None,
                blob_id=entry.blob_id,
            )
            for path in chosen
            for entry in (entries[path],)
        ]
        if not files:
            where = f"{self.repo_type} {self.repo_id}@{self.revision}" + (
                f" under subfolder {self.subfolder!r}" if self.subfolder else ""
            )
            raise ValueError(
                f"No file of {where} matches allow_patterns={self.allow_patterns!r} "
                f"ignore_patterns={self.ignore_patterns!r}"
            )
        return files

    def already_there(self, snapshot_file: SnapshotFile) -> bool:
        """Whether the file stored under its path (of the right size) has its content."""
        with self.destination.open_stored(snapshot_file.path) as stored:
            return snapshot_file.matches(stored)

    def copy(self, snapshot_file: SnapshotFile, commit: str, staging: str) -> None:
        local = self.hook.download_file(
            self.repo_id,
            snapshot_file.path_in_repo,
            repo_type=self.repo_type,
            revision=commit,
            local_dir=staging,
        )
        try:
            self.destination.store(snapshot_file.path, local)
        finally:
            if os.path.exists(local):
                os.remove(local)

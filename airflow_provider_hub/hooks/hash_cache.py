"""The content-hash cache of a local folder or an S3 bucket: a file unchanged since the last run is not read
again, an object unchanged since the last run is not downloaded again.

Publishing a folder compares each file with the repo's head by its content digest (the sha256 for an LFS
file, the git blob oid for a regular one), which means reading every byte. The cache remembers the digests
of each file keyed the way git's index is, by its ``(path, size, mtime_ns, ctime_ns, inode)``: when all of
them are as recorded, the recorded digests are used and the file is not opened. ``ctime`` cannot be set
back by a program (``os.utime`` sets ``mtime`` and ``atime`` only) and any write moves it, so a changed file
whose size and ``mtime`` were restored is still seen as changed.

**Racy entries** (git's racy-git rule, https://git-scm.com/docs/racy-git): a write in the same timestamp
tick as the stat that was recorded leaves every field as it was. An entry is therefore written only when
the file's ``mtime`` and ``ctime`` are strictly older than the moment its stat was taken, by more than
:data:`RACY_WINDOW_NS` (the coarsest timestamp granularity of a common filesystem, FAT's 2 s); a file
written just before a run is hashed again on the next one, as git smudges racily clean entries.

**Never trusted blindly**: the cache is one JSON file per folder, written to a temporary file and renamed
over the old one (a reader sees a whole file or none), with a format version, the folder's real path and
a sha256 checksum of its content. A missing, unreadable, corrupt, truncated, foreign (another folder) or
other-version file is ignored: every file is hashed and a valid cache is written. Two tasks publishing the
same folder at once each write a whole file; the last rename wins, and each one keeps the other's entries
for files it did not list while those files are unchanged.

**Where**: ``$HF_HOME/airflow_provider_hub/hash_cache/<sha256 of the folder's real path>.json``
(:func:`cache_path`), so a read-only folder works and nothing is added to the folder that is published.

**S3 objects** (``S3ToHfHubOperator``) are keyed by ``(key, size, ETag, LastModified)`` instead, in one cache
file per bucket and S3 endpoint (:meth:`HashCache.load_objects`). The operator stages objects in a fresh
temporary folder, where no file's stat is ever seen twice, so the staged files cannot be the key; the ETag
changes with the content and any rewrite moves ``LastModified``, so an object whose three are as recorded
holds the recorded content (there is no racy window: nothing here is a timestamp of our own stat). Such an
object is compared with the head by its recorded digests and downloaded only if the head lacks them
(:class:`FetchedAddition`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd

    from airflow_provider_hub.utils.progress import TaskLogger

log = logging.getLogger(__name__)

#: What a cache file says it is; a file saying anything else is not ours to trust.
CACHE_FORMAT = "airflow-provider-hub/hash-cache"
#: Bumped whenever the meaning of an entry changes; a file of another version is ignored.
CACHE_VERSION = 1
#: An entry whose file changed less than this before its stat was taken is not written (a racy entry).
RACY_WINDOW_NS = 2_000_000_000
_DIGEST_PATTERNS = {"sha256": re.compile("[0-9a-f]{64}"), "git_oid": re.compile("[0-9a-f]{40}")}


def cache_path(folder: str | os.PathLike[str]) -> Path:
    """Where the hash cache of ``folder`` lives: under ``HF_HOME``, named by the folder's real path."""
    return _cache_file(os.path.realpath(folder))


def _cache_file(source: str) -> Path:
    from huggingface_hub import constants

    name = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()
    return Path(constants.HF_HOME) / "airflow_provider_hub" / "hash_cache" / f"{name}.json"


def file_sha256(path: str) -> str:
    """The sha256 of a local file, computed as ``huggingface_hub`` does for an LFS upload (streamed)."""
    from huggingface_hub.utils.sha import sha_fileobj

    with open(path, "rb") as file:
        return sha_fileobj(file).hex()


def git_blob_oid(path_or_bytes: str | bytes) -> str:
    """The git blob sha1 of a local file or of bytes: what the Hub reports as ``oid`` of a non-LFS file."""
    if isinstance(path_or_bytes, bytes):
        digest = hashlib.sha1(b"blob %d\0" % len(path_or_bytes))
        digest.update(path_or_bytes)
        return digest.hexdigest()
    digest = hashlib.sha1(b"blob %d\0" % os.path.getsize(path_or_bytes))
    with open(path_or_bytes, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileStat:
    """The fields of a file's stat that the cache is keyed by (with its path)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileStat:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    def racy(self, stat_at_ns: int) -> bool:
        """Whether a write after a stat taken at ``stat_at_ns`` could have left these fields unchanged."""
        return max(self.mtime_ns, self.ctime_ns) >= stat_at_ns - RACY_WINDOW_NS


@dataclass(frozen=True)
class ObjectStat:
    """What identifies one version of an S3 object (with its key)."""

    size: int
    etag: str
    last_modified_ns: int

    def racy(self, stat_at_ns: int) -> bool:
        """Never: the ETag changes with the content, so a rewrite cannot leave these fields as they were."""
        return False


@dataclass(frozen=True)
class _Entry:
    stat: FileStat | ObjectStat
    sha256: str | None
    git_oid: str | None


class LocalFileAddition:
    """A local file to add at ``path_in_repo``: what ``HfHubHook.commit_exactly_once`` takes in place of a
    ``CommitOperationAdd`` for a file of a cached folder.

    Its digests come from the cache when the file's stat is as recorded, and are computed (once) otherwise;
    its ``CommitOperationAdd``, which reads the start of the file, is built only when the head does not
    already hold the content. An unchanged file the head has is therefore never opened.

    Example::

        cache = HashCache.load("/data/ckpt")
        additions = [cache.addition("config.json", "ckpt/config.json", "/data/ckpt/config.json")]
        outcome = hook.commit_exactly_once("alice/m", additions, commit_message="Nightly")
        cache.save(additions)
    """

    def __init__(self, relative: str, path_in_repo: str, local_path: str, cached: _Entry | None) -> None:
        self.relative = relative
        self.path_in_repo = path_in_repo
        self._local_path = local_path
        self.stat_at_ns = time.time_ns()
        self.stat: FileStat | ObjectStat = FileStat.of(local_path)
        self.cached = cached is not None and cached.stat == self.stat
        self._sha256 = cached.sha256 if cached is not None and self.cached else None
        self._git_oid = cached.git_oid if cached is not None and self.cached else None
        self._operation: CommitOperationAdd | None = None

    @property
    def local_path(self) -> str:
        return self._local_path

    @property
    def size(self) -> int:
        return self.stat.size

    @property
    def has_sha256(self) -> bool:
        return self._sha256 is not None or (
            self._operation is not None and self._operation.upload_info.is_hashed
        )

    def sha256(self) -> str:
        """The sha256 of the content (read only when not cached or hashed already)."""
        if self._sha256 is None:
            if self._operation is not None:
                self._sha256 = self._operation.upload_info.sha256.hex()
            else:
                self._sha256 = file_sha256(self.local_path)
        return self._sha256

    def git_oid(self) -> str:
        """The git blob oid of the content (read only when not cached)."""
        if self._git_oid is None:
            self._git_oid = git_blob_oid(self.local_path)
        return self._git_oid

    def operation(self) -> CommitOperationAdd:
        """The ``CommitOperationAdd`` of this file, built once, with the sha256 already known passed on."""
        from huggingface_hub import CommitOperationAdd

        if self._operation is None:
            self._operation = CommitOperationAdd(
                path_in_repo=self.path_in_repo, path_or_fileobj=self.local_path
            )
            if self._sha256 is not None:
                self._operation.upload_info.sha256 = bytes.fromhex(self._sha256)
        return self._operation

    def entry(self) -> _Entry | None:
        """The cache entry this file leaves: its recorded stat and the digests known by now; ``None`` for a
        racy file or when no digest is known."""
        if self.stat.racy(self.stat_at_ns):
            return None
        op = self._operation
        if op is not None and self._sha256 is None and op.upload_info.is_hashed:
            self._sha256 = op.upload_info.sha256.hex()
        if op is not None and self._git_oid is None and op._upload_mode == "regular":
            # Sent as a regular file: the next run compares its git oid. It is small (the Hub stores larger
            # files in LFS), and reading it now spares the next run from opening it.
            with contextlib.suppress(OSError):  # gone or unreadable since: the next run hashes it
                self._git_oid = git_blob_oid(self.local_path)
        if self._sha256 is None and self._git_oid is None:
            return None
        return _Entry(self.stat, self._sha256, self._git_oid)


class FetchedAddition(LocalFileAddition):
    """An S3 object to add at ``path_in_repo`` whose digests the cache holds (it is unchanged since the run
    that recorded them): compared with the head by those digests, and downloaded by ``fetch`` (which returns
    the local file's path) only when its content must be read or sent, because the head does not hold it.

    Example::

        addition = cache.fetched_addition("exports/a.parquet", "data/a.parquet", stat, fetch=download_a)
        # None: not cached (download it as usual); else an addition the commit engine takes as it is
    """

    def __init__(
        self, key: str, path_in_repo: str, stat: ObjectStat, cached: _Entry, fetch: Callable[[], str]
    ) -> None:
        self.relative = key
        self.path_in_repo = path_in_repo
        self.stat_at_ns = 0
        self.stat = stat
        self.cached = True
        self._sha256, self._git_oid = cached.sha256, cached.git_oid
        self._operation = None
        self._fetch = fetch
        self._fetched: str | None = None

    @property
    def fetched(self) -> bool:
        """Whether the object was downloaded (its content was needed)."""
        return self._fetched is not None

    @property
    def local_path(self) -> str:
        if self._fetched is None:
            self._fetched = self._fetch()
        return self._fetched


class HashCache:
    """The digests of one folder's files from its last publication; see the module's docstring.

    Example::

        cache = HashCache.load(folder)          # or HashCache.disabled()
        additions = [cache.addition(rel, rel, str(Path(folder, rel))) for rel in files]
        try:
            hook.commit_exactly_once(repo_id, additions, commit_message="Publish")
        finally:
            cache.save(additions)
    """

    def __init__(self, source: str | None, path: Path | None, entries: dict[str, _Entry]) -> None:
        #: The folder's real path, or ``s3://bucket at endpoint``: what the cache file must say it is for.
        self.source = source
        self.path = path
        self.entries = entries

    @classmethod
    def disabled(cls) -> HashCache:
        """A cache that remembers nothing and writes nothing (``hash_cache=False``)."""
        return cls(None, None, {})

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, logger: TaskLogger | None = None) -> HashCache:
        """The cache of ``folder``; empty when there is none or when it cannot be trusted."""
        real = os.path.realpath(folder)
        path = cache_path(real)
        return cls(real, path, _read(path, real, FileStat, logger or log))

    @classmethod
    def load_objects(cls, bucket: str, endpoint_url: str, *, logger: TaskLogger | None = None) -> HashCache:
        """The cache of the objects of S3 ``bucket`` at ``endpoint_url``; empty when there is none or when it
        cannot be trusted."""
        source = f"s3://{bucket} at {endpoint_url}"
        path = _cache_file(source)
        return cls(source, path, _read(path, source, ObjectStat, logger or log))

    def fetched_addition(
        self, key: str, path_in_repo: str, stat: ObjectStat, fetch: Callable[[], str]
    ) -> FetchedAddition | None:
        """The addition of the object ``key`` by its recorded digests, if it is as recorded; else ``None``."""
        entry = self.entries.get(key)
        if entry is None or entry.stat != stat:
            return None
        return FetchedAddition(key, path_in_repo, stat, entry, fetch)

    def addition(self, relative: str, path_in_repo: str, local_path: str) -> LocalFileAddition:
        """The addition of the file ``relative`` (to the folder) at ``path_in_repo``; stats the file."""
        return LocalFileAddition(relative, path_in_repo, local_path, self.entries.get(relative))

    def save(self, additions: Sequence[LocalFileAddition], *, logger: TaskLogger | None = None) -> None:
        """Write the digests known after a run (atomically); a failure to write is logged, not raised."""
        logger = logger or log
        if self.path is None or self.source is None:
            return
        hits = sum(a.cached for a in additions)
        logger.info(
            "Hash cache: %d of %d file(s) unchanged since the last run, their digests not computed again (%s)",
            hits,
            len(additions),
            self.path,
        )
        self._write({a.relative: entry for a in additions if (entry := a.entry()) is not None}, logger)

    def save_objects(self, entries: dict[str, _Entry], *, logger: TaskLogger | None = None) -> None:
        """Write the digests of S3 objects known after a run (see :func:`object_entry`), atomically."""
        if self.path is not None:
            self._write(entries, logger or log)

    def _write(self, entries: dict[str, _Entry], logger: TaskLogger) -> None:
        assert self.path is not None and self.source is not None
        # Another task may have written entries for files or objects this run did not list (other patterns,
        # another prefix): keep those, so neither evicts the other; a file's only while it is as recorded (an
        # object's identity is checked when it is used).
        stat_type = ObjectStat if self.source.startswith("s3://") else FileStat
        for name, entry in _read(self.path, self.source, stat_type, None).items():
            if name not in entries and (
                stat_type is ObjectStat or _unchanged(Path(self.source, name), entry.stat)
            ):
                entries[name] = entry
        try:
            _write(self.path, self.source, entries)
        except OSError as exc:
            logger.warning(
                "Could not write the hash cache %s (%s): the next run hashes every file", self.path, exc
            )


def object_entry(stat: ObjectStat, operation: CommitOperationAdd) -> _Entry | None:
    """The cache entry of an S3 object staged and pre-uploaded as ``operation``: its sha256, and the git
    oid of a regular file (read now, while the staged file is still on disk); ``None`` if neither is known."""
    sha256 = operation.upload_info.sha256.hex() if operation.upload_info.is_hashed else None
    git_oid = None
    if operation._upload_mode == "regular" and isinstance(operation.path_or_fileobj, str):
        with contextlib.suppress(OSError):
            git_oid = git_blob_oid(operation.path_or_fileobj)
    if sha256 is None and git_oid is None:
        return None
    return _Entry(stat, sha256, git_oid)


def _unchanged(path: Path, stat: FileStat | ObjectStat) -> bool:
    try:
        return FileStat.of(path) == stat
    except OSError:
        return False


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _write(path: Path, source: str, entries: dict[str, _Entry]) -> None:
    body = {
        "format": CACHE_FORMAT,
        "version": CACHE_VERSION,
        "source": source,
        "entries": [[name, *astuple(e.stat), e.sha256, e.git_oid] for name, e in sorted(entries.items())],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name per writer, renamed over the cache: concurrent writers never mix their bytes.
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump({**body, "checksum": _checksum(body)}, file, separators=(",", ":"))
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


def _read(
    path: Path, source: str, stat_type: type[FileStat | ObjectStat], logger: TaskLogger | None
) -> dict[str, _Entry]:
    """The entries of the cache file at ``path`` if it is whole, ours, this version's and ``source``'s;
    why not is logged to ``logger`` (if any)."""
    try:
        return _parse(path.read_text(), source, stat_type)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        if logger is not None:
            logger.warning("Ignoring the hash cache %s (%s): hashing every file", path, exc)
        return {}


def _parse(text: str, source: str, stat_type: type[FileStat | ObjectStat]) -> dict[str, _Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a hash cache")
    checksum = data.pop("checksum", None)
    if data.get("format") != CACHE_FORMAT:
        raise ValueError("not a hash cache")
    if data.get("version") != CACHE_VERSION:
        raise ValueError(f"format version {data.get('version')!r}, not {CACHE_VERSION}")
    if checksum != _checksum(data):
        raise ValueError("checksum mismatch: corrupt or partly written")
    if data.get("source") != source:
        raise ValueError(f"written for another source, {data.get('source')!r}")
    if not isinstance(data.get("entries"), list):
        raise ValueError("no entry list")
    return dict(_entry(row, stat_type) for row in data["entries"])


def _entry(row: Any, stat_type: type[FileStat | ObjectStat]) -> tuple[str, _Entry]:
    stat_fields = fields(stat_type)
    if not (isinstance(row, list) and len(row) == len(stat_fields) + 3 and isinstance(row[0], str)):
        raise ValueError(f"malformed entry {row!r}")
    name, *values, sha256, git_oid = row
    for field, value in zip(stat_fields, values, strict=True):
        well_formed = (
            isinstance(value, str) and bool(value)
            if field.type == "str"
            else isinstance(value, int) and not isinstance(value, bool) and value >= 0
        )
        if not well_formed:
            raise ValueError(f"malformed entry {row!r}")
    for kind, digest in (("sha256", sha256), ("git_oid", git_oid)):
        if digest is not None and not (isinstance(digest, str) and _DIGEST_PATTERNS[kind].fullmatch(digest)):
            raise ValueError(f"malformed {kind} in entry {row!r}")
    return name, _Entry(stat_type(*values), sha256, git_oid)

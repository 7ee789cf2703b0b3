"""Git-like objects of the emulator's repos: an on-disk content-addressed blob store and git hashes.

Every file's bytes live once on disk under their sha256, whether the file is stored as a regular git
blob or through LFS; the git ids (blob sha1, LFS pointer sha1, tree and commit sha1) are computed the
way git computes them, so oids look and behave like the Hub's.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024
LFS_POINTER_TEMPLATE = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"


def git_blob_oid(data: bytes) -> str:
    """The git blob id of ``data`` (``sha1("blob <size>\\0" + data)``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return LFS_POINTER_TEMPLATE.format(oid=sha256, size=size).encode()


@dataclass(frozen=True)
class FileEntry:
    """One file of a tree: its size, content sha256, git blob id and whether it is stored through LFS.

    For an LFS file the git blob is the LFS pointer, so ``blob_id`` is the pointer's blob id.
    """

    size: int
    sha256: str
    blob_id: str
    lfs: bool

    @classmethod
    def regular(cls, data: bytes, sha256: str) -> FileEntry:
        return cls(size=len(data), sha256=sha256, blob_id=git_blob_oid(data), lfs=False)

    @classmethod
    def large(cls, sha256: str, size: int) -> FileEntry:
        return cls(size=size, sha256=sha256, blob_id=git_blob_oid(lfs_pointer(sha256, size)), lfs=True)

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    @property
    def oid(self) -> str:
        """The oid the client compares against for no-op detection: sha256 for LFS, git blob id otherwise."""
        return self.sha256 if self.lfs else self.blob_id


def tree_oids(tree: dict[str, FileEntry]) -> dict[str, str]:
    """The git tree id of every directory of ``tree`` (``""`` is the root), as git computes them."""
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path in tree:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent, directory = "/".join(parts[: depth - 1]), "/".join(parts[:depth])
            children.setdefault(directory, {})
            children.setdefault(parent, {})[parts[depth - 1]] = ("dir", directory)
    oids: dict[str, str] = {}

    def visit(directory: str) -> str:
        entries = []
        for name, (kind, full) in children[directory].items():
            if kind == "dir":
                entries.append((name + "/", b"40000 " + name.encode() + b"\0" + bytes.fromhex(visit(full))))
        prefix = f"{directory}/" if directory else ""
        for path, entry in tree.items():
            if path.startswith(prefix) and "/" not in path[len(prefix) :]:
                name = path[len(prefix) :]
                entries.append((name, b"100644 " + name.encode() + b"\0" + bytes.fromhex(entry.blob_id)))
        body = b"".join(raw for _, raw in sorted(entries))
        oid = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
        oids[directory] = oid
        return oid

    visit("")
    return oids


def commit_oid(*, tree: str, parents: list[str], author: str, timestamp: int, message: str) -> str:
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
    identity = f"{author} <{author}@users.noreply.huggingface.co> {timestamp} +0000"
    body = (
        "\n".join([*lines, f"author {identity}", f"committer {identity}"]) + "\n\n" + message + "\n"
    ).encode()
    return hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()


@dataclass
class PendingUpload:
    """A multipart LFS upload: parts are written in place into a pre-sized temp file."""

    path: Path
    size: int
    chunk_size: int
    parts: set[int] = field(default_factory=set)


class BlobStore:
    """File contents on disk, addressed by sha256, streamed in and out in chunks."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return len(sha256) == 64 and self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except OSError:
            return None

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has(sha256):
            fd, tmp = tempfile.mkstemp(dir=self.tmp)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            self._install(Path(tmp), sha256)
        return sha256

    def read_bytes(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def delete(self, sha256: str) -> None:
        """Free a blob's disk space. The store is shared by every repo: the caller checks no repo needs it."""
        self.path(sha256).unlink(missing_ok=True)

    def new_temp(self) -> tuple[BinaryIO, Path]:
        fd, tmp = tempfile.mkstemp(dir=self.tmp)
        return os.fdopen(fd, "wb"), Path(tmp)

    def install(self, tmp: Path, sha256: str) -> None:
        """Move a fully written temp file into the store under ``sha256``."""
        if self.has(sha256):
            tmp.unlink(missing_ok=True)
        else:
            self._install(tmp, sha256)

    def _install(self, tmp: Path, sha256: str) -> None:
        target = self.path(sha256)
        target.parent.mkdir(exist_ok=True)
        os.replace(tmp, target)

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``[start, end)`` of a blob, in chunks (sync: Starlette runs it in a thread)."""
        with open(self.path(sha256), "rb") as handle:
            handle.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = handle.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk


class BackgroundHasher:
    """sha256 of a stream, computed on a thread while the caller writes the same chunks to disk.

    Hashing and writing both release the GIL, so they overlap on two cores. The queue is bounded:
    a caller that gets ahead of the hasher blocks, which holds back the sender through TCP.
    """

    def __init__(self, max_pending_chunks: int = 32) -> None:
        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max_pending_chunks)
        self._thread = threading.Thread(target=self._run, name="lfs-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._digest.update(chunk)

    def feed(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        """Wait for every fed chunk, then return the digest (call it once)."""
        self._queue.put(None)
        self._thread.join()
        return self._digest.hexdigest()


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def remove_tree(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)

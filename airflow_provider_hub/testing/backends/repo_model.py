"""The repos area's objects: repos, commits and discussions, the rules on names and refs, and their Hub JSON.

A repo is a git-like commit graph: commits with 40-hex oids computed as git computes them, trees of
:class:`~airflow_provider_hub.testing._git.FileEntry`, branches, tags and PR refs (``refs/pr/N``).
The JSON views here are the shapes the Hub answers with; the backend (:mod:`.repos`) owns the
state and every change to it.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import yaml

from airflow_provider_hub.testing._git import FileEntry

MiB = 1024 * 1024
REPO_TYPES = ("model", "dataset", "space", "kernel")
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/", "kernel": "kernels/"}
LFS_SIZE_THRESHOLD = 10 * MiB
REPO_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")
REF_NAME_RE = re.compile(r"^(?!refs/)(?!.*\.\.)(?!.*//)[A-Za-z0-9_.\-/]+$")
HEX_RE = re.compile(r"^[0-9a-fA-F]{5,40}$")
PR_REF_RE = re.compile(r"^refs/pr/(\d+)$")

_LFS_ATTRS = "filter=lfs diff=lfs merge=lfs -text"
_MODEL_LFS_PATTERNS = [
    "*.7z",
    "*.arrow",
    "*.bin",
    "*.bz2",
    "*.ckpt",
    "*.ftz",
    "*.gz",
    "*.h5",
    "*.joblib",
    "*.lfs.*",
    "*.mlmodel",
    "*.model",
    "*.msgpack",
    "*.npy",
    "*.npz",
    "*.onnx",
    "*.ot",
    "*.parquet",
    "*.pb",
    "*.pickle",
    "*.pkl",
    "*.pt",
    "*.pth",
    "*.rar",
    "*.safetensors",
    "saved_model/**/*",
    "*.tar.*",
    "*.tar",
    "*.tflite",
    "*.tgz",
    "*.wasm",
    "*.xz",
    "*.zip",
    "*.zst",
    "*tfevents*",
]
_DATASET_EXTRA_PATTERNS = [
    "*.lz4",
    "*.mds",
    "*.pcm",
    "*.sam",
    "*.raw",
    "*.aac",
    "*.flac",
    "*.mp3",
    "*.ogg",
    "*.wav",
    "*.bmp",
    "*.gif",
    "*.png",
    "*.tiff",
    "*.jpg",
    "*.jpeg",
    "*.webp",
]


#: The SDKs a Space can be created with.
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")


def space_readme(name: str, sdk: str) -> bytes:
    """The ``README.md`` the Hub writes into a new Space: its configuration as YAML front matter."""
    return (
        f"---\ntitle: {name}\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\nsdk: {sdk}\n"
        "app_file: app.py\npinned: false\n---\n\n"
        "Check out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n"
    ).encode()


def default_gitattributes(repo_type: str) -> bytes:
    """The ``.gitattributes`` the Hub writes into every new repo (LFS for the usual binary formats)."""
    patterns = _MODEL_LFS_PATTERNS + (_DATASET_EXTRA_PATTERNS if repo_type == "dataset" else [])
    return "".join(f"{pattern} {_LFS_ATTRS}\n" for pattern in patterns).encode()


def iso(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- objects ----------------------------------------------------------------------------------------
@dataclass
class LfsFile:
    """An LFS object the repo stores (its entry in ``list_lfs_files``), recorded by the first commit that
    brought it in: that commit's path for it (``filename``), time (``pushed_at``) and ref (``None`` when
    unknown: repos saved before the inventory existed)."""

    sha256: str
    size: int
    filename: str
    pushed_at: float
    ref: str | None


@dataclass
class Commit:
    oid: str
    parents: list[str]
    tree: dict[str, FileEntry]
    dirs: dict[str, str]
    title: str
    message: str
    author: str
    date: float
    seq: int


@dataclass
class Discussion:
    num: int
    title: str
    description: str
    author: str
    is_pull_request: bool
    created_at: float
    status: str = "open"
    base: str = "refs/heads/main"
    base_oid: str = ""
    merge_commit: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Repo:
    """One repo. ``gated`` is ``"auto"``, ``"manual"`` or ``False`` as on the Hub."""

    repo_type: str
    repo_id: str
    author: str
    private: bool = False
    gated: str | bool = False
    sdk: str | None = None
    uid: str = field(default_factory=lambda: secrets.token_hex(12))
    created_at: float = field(default_factory=time.time)
    last_modified: float = field(default_factory=time.time)
    commits: dict[str, Commit] = field(default_factory=dict)
    #: The LFS objects this repo stores, by sha256: what it may serve and what ``list_lfs_files`` lists.
    lfs_files: dict[str, LfsFile] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    tag_messages: dict[str, str] = field(default_factory=dict)
    prs: dict[int, str] = field(default_factory=dict)
    discussions: dict[int, Discussion] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/", 1)[0]

    @property
    def url_path(self) -> str:
        return f"{URL_PREFIX[self.repo_type]}{self.repo_id}"

    def head(self, revision: str = "main") -> str | None:
        """The commit oid ``revision`` (branch, tag, ``refs/...``, full or short oid) points at."""
        return self.resolve(revision)

    def resolve(self, revision: str) -> str | None:
        if revision.startswith("refs/heads/"):
            return self.branches.get(revision[len("refs/heads/") :])
        if revision.startswith("refs/tags/"):
            return self.tags.get(revision[len("refs/tags/") :])
        match = PR_REF_RE.match(revision)
        if match:
            return self.prs.get(int(match.group(1)))
        if revision in self.branches:
            return self.branches[revision]
        if revision in self.tags:
            return self.tags[revision]
        if HEX_RE.match(revision):
            lowered = revision.lower()
            if lowered in self.commits:
                return lowered
            candidates = [oid for oid in self.commits if oid.startswith(lowered)]
            if len(candidates) == 1:
                return candidates[0]
        return None

    def ancestors(self, oid: str) -> list[Commit]:
        """Every commit reachable from ``oid``, newest first (``git log`` order)."""
        seen: dict[str, Commit] = {}
        stack = [oid]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.commits:
                continue
            seen[current] = self.commits[current]
            stack.extend(self.commits[current].parents)
        return sorted(seen.values(), key=lambda c: c.seq, reverse=True)


def matches_any(path: str, patterns: list[str]) -> bool:
    """gitattributes / gitignore matching: a pattern without ``/`` matches the basename."""
    basename = path.rsplit("/", 1)[-1]
    for pattern in patterns:
        pattern = pattern.lstrip("/")
        if "/" not in pattern.rstrip("/"):
            if fnmatch.fnmatchcase(basename, pattern.rstrip("/")) or any(
                fnmatch.fnmatchcase(part, pattern.rstrip("/")) for part in path.split("/")[:-1]
            ):
                return True
        elif fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.replace("**/", "")):
            return True
    return False


# -- model cards ------------------------------------------------------------------------------------
def parse_front_matter(text: str) -> dict[str, Any] | None:
    """The YAML front matter of a README (``None`` when there is none); raises ``ValueError`` if invalid."""
    if not text.startswith("---"):
        return None
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    if match is None:
        return None
    # A copy: the parse is cached, and callers may change what they get.
    return copy.deepcopy(_parse_yaml_mapping(match.group(1)))


@functools.lru_cache(maxsize=4096)
def _parse_yaml_mapping(source: str) -> dict[str, Any]:
    """Parsed once per distinct front matter: a listing of thousands of Spaces reads every card (the SDK, the
    card data) for each page, and YAML parsing was nearly all of its time."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise ValueError(f"Invalid YAML in README.md metadata: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("README.md metadata must be a YAML mapping")
    return data


def card_tags(card: dict[str, Any] | None) -> list[str]:
    card = card or {}
    tags: list[str] = []

    def add(values: Any, prefix: str = "") -> None:
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and f"{prefix}{value}" not in tags:
                tags.append(f"{prefix}{value}")

    if card.get("library_name"):
        add(card["library_name"])
    add(card.get("tags") or [])
    if card.get("pipeline_tag"):
        add(card["pipeline_tag"])
    for key in ("datasets", "base_model"):
        if card.get(key):
            add(card[key], "dataset:" if key == "datasets" else "base_model:")
    if card.get("language"):
        add(card["language"])
    if card.get("license"):
        add(card["license"], "license:")
    add("region:us")
    return tags


def changed_paths(old: dict[str, FileEntry], new: dict[str, FileEntry]) -> set[str]:
    return {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}


# -- JSON views -------------------------------------------------------------------------------------
def commit_json(commit: Commit, formatted: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": commit.oid,
        "title": commit.title,
        "message": commit.message,
        "date": iso(commit.date),
        "authors": [{"user": commit.author, "avatar": f"/avatars/{commit.author}.svg"}],
    }
    if formatted:
        item["formatted"] = {"title": commit.title, "message": commit.message}
    return item


def lfs_file_json(lfs_file: LfsFile) -> dict[str, Any]:
    """One item of ``GET /api/{T}/{repo}/lfs-files``, as ``huggingface_hub.LFSFileInfo`` reads it.

    ``fileOid`` is the sha256 the client sends back to delete the object. The client documents ``oid``
    only as the "OID of the LFS object"; an LFS object's oid is its sha256 (the pointer's ``oid sha256:``
    line), so both carry it.
    """
    item: dict[str, Any] = {
        "fileOid": lfs_file.sha256,
        "oid": lfs_file.sha256,
        "size": lfs_file.size,
        "filename": lfs_file.filename,
        "pushedAt": iso(lfs_file.pushed_at),
    }
    if lfs_file.ref is not None:
        item["ref"] = lfs_file.ref
    return item


def _last_commit(repo: Repo, commit: Commit, path: str, is_dir: bool) -> dict[str, Any]:
    def version(c: Commit) -> Any:
        return c.dirs.get(path) if is_dir else c.tree.get(path)

    current, wanted = commit, version(commit)
    while current.parents and current.parents[0] in repo.commits:
        parent = repo.commits[current.parents[0]]
        if version(parent) != wanted:
            break
        current = parent
    return {"id": current.oid, "title": current.title, "date": iso(current.date)}


def entry_json(repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
    entry = commit.tree.get(path)
    if entry is None:
        item: dict[str, Any] = {"type": "directory", "oid": commit.dirs[path], "size": 0, "path": path}
    else:
        item = {"type": "file", "oid": entry.blob_id, "size": entry.size, "path": path}
        if entry.lfs:
            item["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": entry.pointer_size}
    if expand:
        item["lastCommit"] = _last_commit(repo, commit, path, entry is None)
        if entry is not None:
            item["securityFileStatus"] = {
                "status": "safe",
                "avScan": {"virusFound": False, "virusNames": None},
                "pickleImportScan": None,
            }
    return item


def discussion_json(repo: Repo, discussion: Discussion, base: str) -> dict[str, Any]:
    web = f"{base}/{repo.url_path}/discussions/{discussion.num}"
    return {
        "id": f"{repo.uid}-{discussion.num}",
        "num": discussion.num,
        "title": discussion.title,
        "status": discussion.status,
        "isPullRequest": discussion.is_pull_request,
        "author": {"id": discussion.author},
        "url": {
            "web": web,
            "api": f"{base}/api/{repo.repo_type}s/{repo.repo_id}/discussions/{discussion.num}",
        },
        "changes": {"base": discussion.base} if discussion.is_pull_request else None,
        "pinned": False,
    }


def discussion_summary(repo: Repo, discussion: Discussion) -> dict[str, Any]:
    return {
        "num": discussion.num,
        "title": discussion.title,
        "status": discussion.status,
        "createdAt": iso(discussion.created_at),
        "author": {"name": discussion.author},
        "repo": {"name": repo.repo_id, "type": repo.repo_type},
        "isPullRequest": discussion.is_pull_request,
        "pinned": False,
    }


def discussion_details_json(repo: Repo, discussion: Discussion) -> dict[str, Any]:
    details = {**discussion_summary(repo, discussion), "events": list(discussion.events)}
    if discussion.is_pull_request:
        details["changes"] = {"base": discussion.base}
        if discussion.merge_commit:
            details["changes"]["mergeCommitId"] = discussion.merge_commit
        details["filesWithConflicts"] = []
        details["diff"] = ""
    return details


def event(kind: str, author: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": secrets.token_hex(12),
        "type": kind,
        "createdAt": iso(time.time()),
        "author": {"name": author},
        "data": data,
    }


def comment_event(author: str, comment: str) -> dict[str, Any]:
    """A comment as the Hub shows it: its latest text (raw and rendered), its edits so far."""
    new = event("comment", author, {"edited": False, "hidden": False, "numEdits": 0, "history": []})
    new["data"]["latest"] = comment_version(author, comment, new["createdAt"])
    return new


def comment_version(author: str, text: str, at: str) -> dict[str, Any]:
    return {
        "raw": text,
        "html": f"<p>{html.escape(text)}</p>" if text else "",
        "updatedAt": at,
        "author": {"name": author},
    }


def edit_comment_event(comment: dict[str, Any], editor: str, text: str) -> None:
    """Replace a comment's text, keeping its id; the previous version goes to its history."""
    data = comment["data"]
    data["history"] = [data["latest"], *data.get("history", [])]
    data["latest"] = comment_version(editor, text, iso(time.time()))
    data["edited"], data["numEdits"] = True, data.get("numEdits", 0) + 1


def hide_comment_event(comment: dict[str, Any], by: str) -> None:
    """Hide a comment for good: its text and its history are gone."""
    data = comment["data"]
    data["hidden"], data["history"] = True, []
    data["latest"] = comment_version(by, "", iso(time.time()))

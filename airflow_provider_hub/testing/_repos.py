"""Emulator area: repositories, commits, history and downloads.

A repo is a git-like commit graph: commits with 40-hex oids computed as git computes them, trees of
:class:`~airflow_provider_hub.testing._git.FileEntry`, branches, tags and PR refs (``refs/pr/N``).
File bytes live on disk in a content-addressed :class:`~airflow_provider_hub.testing._git.BlobStore`
and are streamed in (LFS basic and multipart uploads) and out (``resolve``, with ``Range``) in
chunks, so memory does not grow with file size.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import itertools
import json
import math
import pickle
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from airflow_provider_hub.testing._core import (
    HubError,
    HubState,
    Principal,
    RepoChange,
    not_found,
    state_of,
    unquote_segment,
)
from airflow_provider_hub.testing._git import (
    BackgroundHasher,
    BlobStore,
    FileEntry,
    PendingUpload,
    commit_oid,
    remove_tree,
    sha256_of_file,
    tree_oids,
)

MiB = 1024 * 1024
REPO_TYPES = ("model", "dataset", "space")
PLURALS = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
LFS_SIZE_THRESHOLD = 10 * MiB
STALE_PARENT_MESSAGE = "The branch was updated since you opened this page. Please refresh and try again."
REPO_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")
REF_NAME_RE = re.compile(r"^(?!refs/)(?!.*\.\.)(?!.*//)[A-Za-z0-9_.\-/]+$")
HEX_RE = re.compile(r"^[0-9a-fA-F]{5,40}$")
PR_REF_RE = re.compile(r"^refs/pr/(\d+)$")
LFS_JSON = "application/vnd.git-lfs+json"

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


def default_gitattributes(repo_type: str) -> bytes:
    """The ``.gitattributes`` the Hub writes into every new repo (LFS for the usual binary formats)."""
    patterns = _MODEL_LFS_PATTERNS + (_DATASET_EXTRA_PATTERNS if repo_type == "dataset" else [])
    return "".join(f"{pattern} {_LFS_ATTRS}\n" for pattern in patterns).encode()


def iso(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- model ------------------------------------------------------------------------------------------
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


# -- store ------------------------------------------------------------------------------------------
class RepoStore:
    """All repos of one emulator, their blobs on disk, and the pending multipart LFS uploads.

    Tunables (set them on ``hub.repos`` in tests): ``lfs_multipart_threshold`` (files larger than this
    are uploaded in parts of ``lfs_chunk_size``), ``page_size`` (repo listings), ``tree_page_size``,
    ``commits_page_size``.
    """

    def __init__(self, hub: HubState) -> None:
        self.hub = hub
        if hub.data_dir:
            self.root = Path(hub.data_dir) / "repos"
            self.persistent = True
        else:
            self.root = Path(tempfile.mkdtemp(prefix="hub-emulator-repos-"))
            self.persistent = False
            root = self.root
            hub.on_close(lambda: remove_tree(root))
        self.blobs = BlobStore(self.root / "blobs")
        self.repos: dict[tuple[str, str], Repo] = {}
        self.pending: dict[str, PendingUpload] = {}
        self.lfs_multipart_threshold = 4 * 1024 * MiB
        self.lfs_chunk_size = 512 * MiB
        self.page_size = 1000
        self.tree_page_size = 1000
        self.commits_page_size = 50
        self._seq = itertools.count(1)
        self._load()

    # -- persistence --------------------------------------------------------------------------------
    @property
    def _state_file(self) -> Path:
        return self.root / "repos.pickle"

    def _load(self) -> None:
        if self.persistent and self._state_file.exists():
            with open(self._state_file, "rb") as handle:
                self.repos = pickle.load(handle)
            top = max((c.seq for r in self.repos.values() for c in r.commits.values()), default=0)
            self._seq = itertools.count(top + 1)

    def save(self) -> None:
        if not self.persistent:
            return
        tmp = self._state_file.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(self.repos, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self._state_file)

    # -- Python API ---------------------------------------------------------------------------------
    def get(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.repos.get((repo_type, repo_id))

    def ensure(
        self, repo_type: str, repo_id: str, *, private: bool = False, gated: str | bool = False
    ) -> Repo:
        """The repo with these settings, created (``.gitattributes``, initial commit) when missing."""
        _check_type(repo_type)
        if gated not in ("auto", "manual", False):
            raise ValueError(f"gated must be 'auto', 'manual' or False, got {gated!r}")
        with self.hub.lock:
            repo = self.get(repo_type, repo_id)
            if repo is None:
                repo = self.create(repo_type, repo_id, author=repo_id.split("/", 1)[0], private=private)
            repo.private, repo.gated = private, gated
            self.save()
        return repo

    def files(self, repo_type: str, repo_id: str, revision: str = "main") -> dict[str, int]:
        """``{path: size}`` of the files at ``revision`` (for test assertions)."""
        repo = self.get(repo_type, repo_id)
        oid = repo.resolve(revision) if repo else None
        if repo is None or oid is None:
            raise KeyError(f"no {repo_type} {repo_id} at {revision}")
        return {path: entry.size for path, entry in repo.commits[oid].tree.items()}

    def commit_files(
        self,
        repo_type: str,
        repo_id: str,
        files: dict[str, bytes],
        *,
        message: str = "Seed files",
        revision: str = "main",
        author: str | None = None,
    ) -> str:
        """Commit ``files`` (stored LFS per ``.gitattributes`` and size) on ``revision``; returns the oid.

        Publishes the change like a commit over HTTP, so webhooks and head watchers see it.
        """
        repo = self.get(repo_type, repo_id) or self.ensure(repo_type, repo_id)
        with self.hub.lock:
            parent = repo.branches.get(revision)
            if parent is None:
                raise KeyError(f"{repo_type} {repo_id} has no branch {revision!r}")
            tree = dict(repo.commits[parent].tree)
            patterns = self.lfs_patterns(tree)
            for path, data in files.items():
                sha256 = self.blobs.put_bytes(data)
                large = len(data) > LFS_SIZE_THRESHOLD or matches_any(path, patterns)
                tree[path] = FileEntry.large(sha256, len(data)) if large else FileEntry.regular(data, sha256)
            commit = self.new_commit(repo, [parent], tree, message, "", author or repo.namespace)
            repo.branches[revision] = commit.oid
            self.save()
        self.hub.publish(_content_change(repo, f"refs/heads/{revision}", parent, commit.oid))
        return commit.oid

    # -- graph --------------------------------------------------------------------------------------
    def create(
        self, repo_type: str, repo_id: str, *, author: str, private: bool, sdk: str | None = None
    ) -> Repo:
        repo = Repo(repo_type=repo_type, repo_id=repo_id, author=author, private=private, sdk=sdk)
        data = default_gitattributes(repo_type)
        tree = {".gitattributes": FileEntry.regular(data, self.blobs.put_bytes(data))}
        repo.branches["main"] = self.new_commit(repo, [], tree, "initial commit", "", author).oid
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def new_commit(
        self,
        repo: Repo,
        parents: list[str],
        tree: dict[str, FileEntry],
        title: str,
        message: str,
        author: str,
    ) -> Commit:
        dirs = tree_oids(tree)
        now = time.time()
        timestamp = int(now)
        full_message = f"{title}\n\n{message}" if message else title
        oid = commit_oid(
            tree=dirs[""], parents=parents, author=author, timestamp=timestamp, message=full_message
        )
        while oid in repo.commits:  # same tree, parent and second: git would collide, the Hub never does
            timestamp += 1
            oid = commit_oid(
                tree=dirs[""], parents=parents, author=author, timestamp=timestamp, message=full_message
            )
        commit = Commit(oid, parents, tree, dirs, title, message, author, now, next(self._seq))
        repo.commits[oid] = commit
        repo.last_modified = now
        return commit

    def lfs_patterns(self, tree: dict[str, FileEntry]) -> list[str]:
        entry = tree.get(".gitattributes")
        if entry is None or entry.size > MiB or not self.blobs.has(entry.sha256):
            return []
        patterns = []
        for line in self.blobs.read_bytes(entry.sha256).decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) > 1 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
                patterns.append(parts[0])
        return patterns

    def read_text(self, entry: FileEntry | None, limit: int = MiB) -> str | None:
        if entry is None or entry.size > limit:
            return None
        return self.blobs.read_bytes(entry.sha256).decode(errors="replace")


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


def _check_type(repo_type: str) -> None:
    if repo_type not in REPO_TYPES:
        raise ValueError(f"repo_type must be one of {REPO_TYPES}, got {repo_type!r}")


def attach(hub: HubState) -> None:
    """Create this area's store on ``hub`` (``hub.repos``)."""
    hub.repos = RepoStore(hub)  # type: ignore[attr-defined]


# -- request helpers --------------------------------------------------------------------------------
router = APIRouter()


def _store(request: Request) -> tuple[HubState, RepoStore]:
    hub = state_of(request)
    return hub, hub.repos  # type: ignore[attr-defined]


def _api_repo_type(request: Request) -> str:
    return PLURALS[request.scope["path"].split("/")[2]]


def _web_repo_type(request: Request) -> str:
    """Repo type of a web path (``/{ns}/{name}/...``, ``/datasets/{ns}/{name}/...``)."""
    segments = request.scope["path"].split("/")
    if segments[1] in ("datasets", "spaces") and len(segments) > 4 and segments[4] in ("resolve", "info"):
        return PLURALS[segments[1]]
    if segments[1] in ("datasets", "spaces") and len(segments) > 3 and segments[3].endswith(".git"):
        return PLURALS[segments[1]]
    return "model"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _shown(text: str) -> str:
    """``text`` made safe for the ``X-Error-Message`` header (latin-1), non-latin-1 characters escaped."""
    return text.encode("latin-1", "backslashreplace").decode("latin-1")


def repo_not_found() -> HubError:
    return not_found("RepoNotFound", "Repository not found")


def revision_not_found(revision: str) -> HubError:
    return not_found("RevisionNotFound", f"Invalid rev id: {_shown(revision)}")


def _readable(
    hub: HubState, store: RepoStore, repo_type: str, repo_id: str, principal: Principal | None
) -> Repo:
    repo = store.get(repo_type, repo_id)
    if repo is None or (repo.private and not hub.can_read_namespace(principal, repo.namespace)):
        raise repo_not_found()
    return repo


def _writable(
    hub: HubState, store: RepoStore, repo_type: str, repo_id: str, principal: Principal | None
) -> Repo:
    repo = _readable(hub, store, repo_type, repo_id, principal)
    if principal is None:
        raise HubError(401, "You must be authenticated to access this resource. Please provide a token.")
    if not hub.can_write_namespace(principal, repo.namespace):
        raise HubError(403, f"You don't have the rights to write to this {repo_type} repo ({repo_id}).")
    return repo


def _check_gate(hub: HubState, repo: Repo, principal: Principal | None, base: str) -> None:
    """GatedRepo for users who may not download from a gated repo (401 anonymous, 403 otherwise)."""
    if not repo.gated or (principal is not None and hub.can_read_namespace(principal, repo.namespace)):
        return
    has_access = getattr(getattr(hub, "access", None), "has_access", None)
    if (
        principal is not None
        and has_access is not None
        and has_access(repo.repo_type, repo.repo_id, principal.user)
    ):
        return
    if principal is None:
        raise HubError(
            401,
            f"Access to {repo.repo_type} {repo.repo_id} is restricted. You must have access to it and be "
            "authenticated to access it. Please log in.",
            code="GatedRepo",
        )
    raise HubError(
        403,
        f"Access to {repo.repo_type} {repo.repo_id} is restricted and you are not in the authorized list. "
        f"Visit {base}/{repo.url_path} to ask for access.",
        code="GatedRepo",
    )


def _commit_at(repo: Repo, revision: str) -> Commit:
    oid = repo.resolve(revision)
    if oid is None:
        raise revision_not_found(revision)
    return repo.commits[oid]


def _content_change(repo: Repo, ref: str, old: str | None, new: str | None) -> RepoChange:
    return RepoChange(
        repo_type=repo.repo_type,
        repo_id=repo.repo_id,
        scope="repo.content",
        action="update",
        private=repo.private,
        head_sha=repo.branches.get("main"),
        updated_refs=[{"ref": ref, "oldSha": old, "newSha": new}],
    )


def _discussion_json(repo: Repo, discussion: Discussion, base: str) -> dict[str, Any]:
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


def _open_discussion(
    repo: Repo,
    *,
    title: str,
    description: str,
    author: str,
    pull_request: bool,
    base_oid: str,
) -> Discussion:
    num = max(repo.discussions, default=0) + 1
    discussion = Discussion(num, title, description, author, pull_request, time.time())
    discussion.status = "draft" if pull_request else "open"
    repo.discussions[num] = discussion
    if pull_request:
        repo.prs[num] = base_oid
        discussion.base_oid = base_oid
    return discussion


def _discussion_change(repo: Repo, discussion: Discussion, base: str, action: str = "create") -> RepoChange:
    return RepoChange(
        repo_type=repo.repo_type,
        repo_id=repo.repo_id,
        scope="discussion",
        action=action,
        private=repo.private,
        head_sha=repo.branches.get("main"),
        discussion=_discussion_json(repo, discussion, base),
    )


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise HubError(400, f"Invalid JSON body: {exc}") from exc
    if not isinstance(body, dict):
        raise HubError(400, "The body must be a JSON object")
    return body


def _next_link(request: Request, key: str, value: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != key] + [(key, str(value))]
    raw_path = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
    return f'<{_base(request)}{raw_path.split("?", 1)[0]}?{urlencode(params)}>; rel="next"'


def _page(
    request: Request, items: list[Any], page_size: int, key: str = "cursor"
) -> tuple[list[Any], dict[str, str]]:
    try:
        start = max(int(request.query_params.get(key, "0")), 0)
    except ValueError as exc:
        raise HubError(400, f"Invalid {key}") from exc
    page = items[start : start + page_size]
    headers = {}
    if start + page_size < len(items):
        headers["Link"] = _next_link(request, key, start + page_size)
    return page, headers


def _is_true(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def repo_route(path: str, methods: list[str]) -> Any:
    """Register a handler under ``/api/{models|datasets|spaces}/{namespace}/{name}{path}``.

    One route per repo type (not a ``{plural}`` parameter), so other areas' ``/api/jobs/...`` and
    ``/api/settings/...`` routes are never shadowed.
    """

    def register(handler: Any) -> Any:
        for plural in PLURALS:
            router.add_api_route(f"/api/{plural}/{{namespace}}/{{name}}{path}", handler, methods=methods)
        return handler

    return register


def web_route(path: str, methods: list[str]) -> Any:
    """Register a handler under ``/{namespace}/{name}{path}`` and the ``datasets/`` / ``spaces/`` prefixes."""

    def register(handler: Any) -> Any:
        for prefix in ("", "/datasets", "/spaces"):
            router.add_api_route(f"{prefix}/{{namespace}}/{{name}}{path}", handler, methods=methods)
        return handler

    return register


# -- model cards ------------------------------------------------------------------------------------
def parse_front_matter(text: str) -> dict[str, Any] | None:
    """The YAML front matter of a README (``None`` when there is none); raises ``ValueError`` if invalid."""
    if not text.startswith("---"):
        return None
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    if match is None:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise ValueError(f"Invalid YAML in README.md metadata: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("README.md metadata must be a YAML mapping")
    return data


def _card(store: RepoStore, commit: Commit) -> dict[str, Any] | None:
    text = store.read_text(commit.tree.get("README.md"))
    if text is None:
        return None
    try:
        return parse_front_matter(text)
    except ValueError:
        return None


def _card_tags(repo: Repo, card: dict[str, Any] | None) -> list[str]:
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


def _provider_expand(hub: HubState, repo_id: str) -> dict[str, Any]:
    model_expand = getattr(getattr(hub, "providers", None), "model_expand", None)
    return dict(model_expand(repo_id) or {}) if model_expand is not None else {}


def repo_json(
    hub: HubState,
    store: RepoStore,
    repo: Repo,
    commit: Commit,
    *,
    expand: list[str] | None = None,
    blobs: bool = False,
    listing: bool = False,
    full: bool = True,
    card_data: bool = False,
) -> dict[str, Any]:
    """The Hub's info object of ``repo`` at ``commit`` (``model_info`` / ``dataset_info`` / ``space_info``)."""
    card = _card(store, commit)
    siblings = []
    for path in sorted(commit.tree):
        entry = commit.tree[path]
        sibling: dict[str, Any] = {"rfilename": path}
        if blobs:
            sibling.update(size=entry.size, blobId=entry.blob_id)
            if entry.lfs:
                sibling["lfs"] = {
                    "size": entry.size,
                    "sha256": entry.sha256,
                    "pointerSize": entry.pointer_size,
                }
        siblings.append(sibling)
    info: dict[str, Any] = {
        "_id": repo.uid,
        "id": repo.repo_id,
        "author": repo.namespace,
        "sha": commit.oid,
        "lastModified": iso(commit.date),
        "createdAt": iso(repo.created_at),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "downloads": 0,
        "downloadsAllTime": 0,
        "likes": 0,
        "trendingScore": 0,
        "tags": _card_tags(repo, card),
        "siblings": siblings,
        "usedStorage": sum(entry.size for entry in commit.tree.values()),
    }
    if card is not None:
        info["cardData"] = card
    if repo.repo_type == "model":
        info["modelId"] = repo.repo_id
        info["library_name"] = (card or {}).get("library_name")
        info["pipeline_tag"] = (card or {}).get("pipeline_tag")
    if repo.repo_type == "space":
        info["sdk"] = (card or {}).get("sdk", repo.sdk)
        info["runtime"] = {"stage": "RUNNING", "hardware": {"current": "cpu-basic", "requested": "cpu-basic"}}
    if expand:
        wanted = set(expand)
        if repo.repo_type == "model" and wanted & {"inference", "inferenceProviderMapping"}:
            extra = _provider_expand(hub, repo.repo_id)
            if extra.get("inference"):
                info["inference"] = extra["inference"]
            mapping = extra.get("inferenceProviderMapping")
            if mapping is not None:
                if listing and isinstance(mapping, dict):
                    mapping = [{"provider": name, **details} for name, details in mapping.items()]
                info["inferenceProviderMapping"] = mapping
        return {key: value for key, value in info.items() if key in ("_id", "id") or key in wanted}
    if listing and not full:
        keep = {"_id", "id", "modelId", "author", "likes", "trendingScore", "private", "downloads", "tags"}
        keep |= {"pipeline_tag", "library_name", "createdAt", "sdk", "gated", "lastModified"}
        if card_data:
            keep.add("cardData")
        return {key: value for key, value in info.items() if key in keep}
    return info


# -- create / delete / move / settings --------------------------------------------------------------
@router.post("/api/repos/create")
async def create_repo(request: Request) -> JSONResponse:
    hub, store = _store(request)
    principal = hub.require_principal(request)
    body = await _json_body(request)
    repo_type = body.get("type") or "model"
    if repo_type not in REPO_TYPES:
        raise HubError(400, f"Invalid repo type: {repo_type}")
    name = body.get("name") or ""
    namespace = body.get("organization") or principal.user
    if not REPO_NAME_RE.match(name) or "--" in name or ".." in name or name.endswith((".git", ".")):
        raise HubError(400, f"Invalid repo name: {_shown(repr(name))}")
    repo_id = f"{namespace}/{name}"
    private = body.get("visibility", "private" if body.get("private") else "public") == "private"
    url = f"{_base(request)}/{URL_PREFIX[repo_type]}{repo_id}"
    with hub.lock:
        if not hub.can_write_namespace(principal, namespace):
            raise HubError(
                403, f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"'
            )
        if store.get(repo_type, repo_id) is not None:
            raise HubError(409, f"You already created this {repo_type} repo", body={"url": url})
        repo = store.create(repo_type, repo_id, author=principal.user, private=private, sdk=body.get("sdk"))
        store.save()
    hub.publish(
        RepoChange(repo_type, repo_id, "repo", "create", private=private, head_sha=repo.branches["main"])
    )
    return JSONResponse({"url": url, "name": repo_id, "id": repo.uid})


def _repo_from_body(body: dict[str, Any], principal: Principal) -> tuple[str, str]:
    repo_type = body.get("type") or "model"
    if repo_type not in REPO_TYPES:
        raise HubError(400, f"Invalid repo type: {repo_type}")
    return repo_type, f"{body.get('organization') or principal.user}/{body.get('name')}"


@router.delete("/api/repos/delete")
async def delete_repo(request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.require_principal(request)
    repo_type, repo_id = _repo_from_body(await _json_body(request), principal)
    with hub.lock:
        repo = _writable(hub, store, repo_type, repo_id, principal)
        del store.repos[(repo_type, repo_id)]
        store.save()
    hub.publish(RepoChange(repo_type, repo_id, "repo", "delete", private=repo.private))
    return {}


@router.post("/api/repos/move")
async def move_repo(request: Request) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.require_principal(request)
    body = await _json_body(request)
    repo_type = body.get("type") or "model"
    source, target = str(body.get("fromRepo", "")), str(body.get("toRepo", ""))
    if repo_type not in REPO_TYPES or target.count("/") != 1:
        raise HubError(400, _shown(f"Invalid move request: {source!r} -> {target!r} ({repo_type})"))
    with hub.lock:
        repo = _writable(hub, store, repo_type, source, principal)
        if not hub.can_write_namespace(principal, target.split("/")[0]):
            raise HubError(
                403, f'You don\'t have the rights to create a {repo_type} under the namespace "{target}"'
            )
        if store.get(repo_type, target) is not None:
            raise HubError(409, f"A {repo_type} repository called {_shown(target)} already exists")
        del store.repos[(repo_type, source)]
        repo.repo_id = target
        store.repos[(repo_type, target)] = repo
        store.save()
    hub.publish(RepoChange(repo_type, source, "repo", "move", private=repo.private, moved_to=target))
    return {}


@repo_route("/settings", ["PUT"])
async def update_settings(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store = _store(request)
    repo_type = _api_repo_type(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    gated: str | bool = body.get("gated", False)
    if gated not in ("auto", "manual", False):
        raise HubError(400, f"Invalid gated value: {gated!r}; expected 'auto', 'manual' or false")
    visibility = body.get("visibility")
    if visibility is None and "private" in body:
        visibility = "private" if body["private"] else "public"
    if visibility not in (None, "public", "private"):
        raise HubError(400, f"Invalid visibility: {visibility!r}")
    with hub.lock:
        repo = _writable(hub, store, repo_type, f"{namespace}/{name}", principal)
        if "gated" in body:
            repo.gated = gated
        if visibility is not None:
            repo.private = visibility == "private"
        store.save()
    hub.publish(
        RepoChange(
            repo_type, repo.repo_id, "repo.config", "update", private=repo.private, head_sha=repo.head()
        )
    )
    return {"gated": repo.gated, "private": repo.private}


# -- info, listing ----------------------------------------------------------------------------------
async def _info(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        commit = _commit_at(repo, revision)
        expand = request.query_params.getlist("expand") + request.query_params.getlist("expand[]")
        return repo_json(
            hub, store, repo, commit, expand=expand, blobs=_is_true(request.query_params.get("blobs"))
        )


@repo_route("", ["GET"])
async def repo_info(request: Request, namespace: str, name: str) -> dict[str, Any]:
    return await _info(request, namespace, name, "main")


@repo_route("/revision/{revision}", ["GET"])
async def repo_info_at(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    return await _info(request, namespace, name, unquote_segment(revision))


@repo_route("/auth-check", ["GET"])
async def auth_check(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
    _check_gate(hub, repo, principal, _base(request))
    return {}


@repo_route("/auth-check/write", ["GET"])
async def auth_check_write(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store = _store(request)
    _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", hub.principal(request))
    return {}


def _served_by(hub: HubState, providers: list[str]) -> set[str] | None:
    """Repo ids served by any of ``providers`` (``None``: no filter)."""
    if not providers:
        return None
    served_by = getattr(getattr(hub, "providers", None), "models_served_by", None)
    if served_by is None:
        return set()
    result: set[str] = set()
    for provider in providers:
        result |= set(served_by(provider))
    return result


def _list_repos(request: Request, repo_type: str) -> Response:
    hub, store = _store(request)
    principal = hub.principal(request)
    params = request.query_params
    expand = params.getlist("expand") + params.getlist("expand[]")
    providers = [p for value in params.getlist("inference_provider") for p in value.split(",") if p]
    search = (params.get("search") or "").lower()
    tag_filters = [t for value in params.getlist("filter") for t in value.split(",") if t]
    with hub.lock:
        served = _served_by(hub, [p for p in providers if p != "all"])
        items = []
        for repo in store.repos.values():
            if repo.repo_type != repo_type:
                continue
            if repo.private and not hub.can_read_namespace(principal, repo.namespace):
                continue
            if params.get("author") and repo.namespace != params["author"]:
                continue
            if search and search not in repo.repo_id.lower():
                continue
            if params.get("gated") is not None and bool(repo.gated) != _is_true(params["gated"]):
                continue
            commit = repo.commits[repo.branches["main"]]
            if served is not None and repo.repo_id not in served:
                continue
            if "all" in providers and not _provider_expand(hub, repo.repo_id).get("inference"):
                continue
            full = repo_json(hub, store, repo, commit)
            if params.get("pipeline_tag") and full.get("pipeline_tag") != params["pipeline_tag"]:
                continue
            if any(tag not in full["tags"] for tag in tag_filters):
                continue
            items.append(
                (
                    full,
                    repo_json(
                        hub,
                        store,
                        repo,
                        commit,
                        expand=expand,
                        listing=True,
                        full=_is_true(params.get("full")),
                        card_data=_is_true(params.get("cardData")),
                    ),
                )
            )
    sort = params.get("sort")
    if sort:
        key = {
            "last_modified": "lastModified",
            "created_at": "createdAt",
            "trending_score": "trendingScore",
        }.get(sort, sort)
        reverse = params.get("direction", "-1") == "-1"
        items.sort(key=lambda pair: (pair[0].get(key) is None, pair[0].get(key) or 0), reverse=reverse)
    page_size = store.page_size
    if params.get("limit", "").isdigit():
        page_size = max(1, min(int(params["limit"]), page_size))
    page, headers = _page(request, [shown for _, shown in items], page_size)
    return JSONResponse(page, headers=headers)


@router.get("/api/models")
async def list_models(request: Request) -> Response:
    return _list_repos(request, "model")


@router.get("/api/datasets")
async def list_datasets(request: Request) -> Response:
    return _list_repos(request, "dataset")


@router.get("/api/spaces")
async def list_spaces(request: Request) -> Response:
    return _list_repos(request, "space")


@router.post("/api/validate-yaml")
async def validate_yaml(request: Request) -> JSONResponse:
    body = await _json_body(request)
    try:
        parse_front_matter(str(body.get("content", "")))
    except ValueError as exc:
        return JSONResponse({"errors": [{"message": str(exc)}], "warnings": []}, status_code=400)
    return JSONResponse({"errors": [], "warnings": []})


# -- preupload, LFS ---------------------------------------------------------------------------------
@repo_route("/preupload/{revision}", ["POST"])
async def preupload(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    with hub.lock:
        repo = _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        commit = _commit_at(repo, unquote_segment(revision))
        tree = commit.tree
        patterns = store.lfs_patterns(tree)
        gitignore = body.get("gitIgnore")
        if gitignore is None:
            gitignore = store.read_text(tree.get(".gitignore")) or ""
    ignore = [line.strip() for line in gitignore.splitlines() if line.strip() and not line.startswith("#")]
    answers = []
    for item in body.get("files") or []:
        path, size = str(item.get("path", "")), int(item.get("size") or 0)
        try:
            sample = base64.b64decode(item.get("sample") or "")
        except ValueError:
            sample = b""
        large = size > LFS_SIZE_THRESHOLD or matches_any(path, patterns) or b"\0" in sample
        existing = tree.get(path)
        answers.append(
            {
                "path": path,
                "uploadMode": "lfs" if large else "regular",
                "shouldIgnore": bool(ignore) and matches_any(path, ignore),
                "oid": existing.oid if existing is not None else None,
            }
        )
    return {"files": answers, "commitOid": commit.oid}


@web_route(".git/info/lfs/objects/batch", ["POST"])
async def lfs_batch(request: Request, namespace: str, name: str) -> JSONResponse:
    hub, store = _store(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    repo_type = _web_repo_type(request)
    if body.get("operation", "upload") != "upload":
        raise HubError(400, "The emulator's LFS batch API serves uploads only; download through /resolve")
    _writable(hub, store, repo_type, f"{namespace}/{name}", principal)
    base = _base(request)
    objects = []
    for obj in body.get("objects") or []:
        oid, size = str(obj.get("oid", "")).lower(), obj.get("size")
        if not re.fullmatch(r"[0-9a-f]{64}", oid) or not isinstance(size, int) or size < 0:
            objects.append(
                {"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid oid or size"}}
            )
            continue
        answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
        if store.blobs.size(oid) != size:
            verify = {"href": f"{base}/_lfs/verify/{oid}", "header": {}}
            if size > store.lfs_multipart_threshold:
                chunk = store.lfs_chunk_size
                parts = math.ceil(size / chunk)
                with hub.lock:
                    pending = store.pending.get(oid)
                    if pending is None or pending.size != size or pending.chunk_size != chunk:
                        handle, tmp = store.blobs.new_temp()
                        handle.truncate(size)
                        handle.close()
                        store.pending[oid] = PendingUpload(tmp, size, chunk)
                header: dict[str, str] = {"chunk_size": str(chunk)}
                header.update({str(n): f"{base}/_lfs/objects/{oid}/part/{n}" for n in range(1, parts + 1)})
                upload = {"href": f"{base}/_lfs/objects/{oid}/complete", "header": header}
            else:
                upload = {"href": f"{base}/_lfs/objects/{oid}?size={size}", "header": {}}
            answer["actions"] = {"upload": upload, "verify": verify}
        objects.append(answer)
    return JSONResponse({"transfer": "basic", "objects": objects}, media_type=LFS_JSON)


@router.put("/_lfs/objects/{oid}")
async def lfs_upload(request: Request, oid: str) -> Response:
    """Basic transfer: the whole object in one PUT, hashed and written to disk as it arrives."""
    _, store = _store(request)
    expected = int(request.query_params.get("size", "-1"))
    handle, tmp = store.blobs.new_temp()
    hasher, received = BackgroundHasher(), 0
    try:
        async for chunk in request.stream():
            hasher.feed(chunk)
            handle.write(chunk)
            received += len(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)  # the client went away mid-body: nothing to keep
        raise
    finally:
        handle.close()
        digest = await asyncio.to_thread(hasher.hexdigest)
    if digest != oid or (expected >= 0 and received != expected):
        tmp.unlink(missing_ok=True)
        raise HubError(
            400, f"The uploaded content does not match oid {oid} and size {expected} ({received} bytes)"
        )
    store.blobs.install(tmp, oid)
    return Response(status_code=200)


@router.put("/_lfs/objects/{oid}/part/{number}")
async def lfs_upload_part(request: Request, oid: str, number: int) -> Response:
    """Multipart transfer: part ``number`` is written in place at its offset."""
    hub, store = _store(request)
    pending = store.pending.get(oid)
    if pending is None:
        raise HubError(404, f"No multipart upload in progress for {oid}")
    offset = (number - 1) * pending.chunk_size
    length = min(pending.chunk_size, pending.size - offset)
    if number < 1 or length <= 0:
        raise HubError(400, f"Invalid part number {number}")
    received = 0
    with open(pending.path, "r+b") as handle:
        handle.seek(offset)
        async for chunk in request.stream():
            received += len(chunk)
            if received > length:
                raise HubError(400, f"Part {number} is larger than {length} bytes")
            handle.write(chunk)
    if received != length:
        raise HubError(400, f"Part {number} has {received} bytes, expected {length}")
    with hub.lock:
        pending.parts.add(number)
    return Response(status_code=200, headers={"ETag": f'"{oid[:20]}-{number}"'})


@router.post("/_lfs/objects/{oid}/complete")
async def lfs_complete(request: Request, oid: str) -> JSONResponse:
    hub, store = _store(request)
    body = await _json_body(request)
    pending = store.pending.get(oid)
    if pending is None:
        if store.blobs.has(oid):
            return JSONResponse({}, media_type=LFS_JSON)
        raise HubError(404, f"No multipart upload in progress for {oid}")
    expected_parts = set(range(1, math.ceil(pending.size / pending.chunk_size) + 1))
    listed = {int(part.get("partNumber", 0)) for part in body.get("parts") or []}
    if pending.parts != expected_parts or listed != expected_parts:
        raise HubError(400, f"Incomplete multipart upload for {oid}: parts {sorted(pending.parts)} received")
    digest = await asyncio.to_thread(sha256_of_file, pending.path)
    with hub.lock:
        store.pending.pop(oid, None)
    if digest != oid:
        pending.path.unlink(missing_ok=True)
        raise HubError(400, f"The uploaded parts do not hash to {oid}")
    store.blobs.install(pending.path, oid)
    return JSONResponse({}, media_type=LFS_JSON)


@router.post("/_lfs/verify/{oid}")
async def lfs_verify(request: Request, oid: str) -> JSONResponse:
    _, store = _store(request)
    body = await _json_body(request)
    size = store.blobs.size(oid)
    if size is None or ("size" in body and body["size"] != size):
        raise HubError(404, f"Object {oid} was not uploaded (or has another size)")
    return JSONResponse({"oid": oid, "size": size}, media_type=LFS_JSON)


# -- commits ----------------------------------------------------------------------------------------
def _apply_operations(store: RepoStore, tree: dict[str, FileEntry], operations: list[dict[str, Any]]) -> None:
    for line in operations:
        key, value = line.get("key"), line.get("value") or {}
        path = str(value.get("path", "")).strip("/")
        if key in ("file", "lfsFile", "deletedFile") and not path:
            raise HubError(400, f"Missing path in {key} operation")
        if key == "file":
            if value.get("encoding", "base64") != "base64":
                raise HubError(400, f"Unsupported encoding {value.get('encoding')!r} for {_shown(path)}")
            data = base64.b64decode(value.get("content") or "")
            tree[path] = FileEntry.regular(data, store.blobs.put_bytes(data))
        elif key == "lfsFile":
            oid = str(value.get("oid", "")).lower()
            size = store.blobs.size(oid) if len(oid) == 64 else None
            if size is None:
                raise HubError(
                    422,
                    f"Your push was rejected because an LFS pointer pointed to a file that does not exist: {_shown(path)}",
                )
            if value.get("size") is not None and int(value["size"]) != size:
                raise HubError(400, f"LFS object {oid} has size {size}, not {value['size']} ({_shown(path)})")
            tree[path] = FileEntry.large(oid, size)
        elif key == "deletedFile":
            if tree.pop(path, None) is None:
                raise not_found("EntryNotFound", f"A file with this name doesn't exist: {_shown(path)}")
        elif key == "deletedFolder":
            prefix = f"{path}/" if path else ""
            doomed = [p for p in tree if p.startswith(prefix)]
            if not doomed:
                raise not_found("EntryNotFound", f"A folder with this name doesn't exist: {_shown(path)}")
            for doomed_path in doomed:
                del tree[doomed_path]
        else:
            raise HubError(400, f"Unknown commit operation {key!r}")


@repo_route("/commit/{revision}", ["POST"])
async def create_commit(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    repo_type, repo_id = _api_repo_type(request), f"{namespace}/{name}"
    _writable(hub, store, repo_type, repo_id, principal)
    assert principal is not None
    try:
        lines = [json.loads(line) for line in (await request.body()).splitlines() if line.strip()]
    except ValueError as exc:
        raise HubError(400, f"Invalid NDJSON commit payload: {exc}") from exc
    if not lines or lines[0].get("key") != "header":
        raise HubError(400, "The first line of a commit payload must be the header")
    header = lines[0].get("value") or {}
    title = str(header.get("summary") or "").strip()
    if not title:
        raise HubError(400, "A commit needs a summary")
    parent_commit = header.get("parentCommit")
    revision = unquote_segment(revision)
    base = _base(request)
    changes: list[RepoChange] = []
    with hub.lock:
        repo = _writable(hub, store, repo_type, repo_id, principal)
        if _is_true(request.query_params.get("create_pr")):
            start = repo.resolve(parent_commit) if parent_commit else repo.resolve(revision)
            if start is None:
                raise revision_not_found(parent_commit or revision)
            tree = dict(repo.commits[start].tree)
            _apply_operations(store, tree, lines[1:])
            discussion = _open_discussion(
                repo,
                title=title,
                description=str(header.get("description") or ""),
                author=principal.user,
                pull_request=True,
                base_oid=start,
            )
            if not revision.startswith("refs/pr/") and revision in repo.branches:
                discussion.base = f"refs/heads/{revision}"
            discussion.status = "open"
            changes.append(_discussion_change(repo, discussion, base))
            ref, num = f"refs/pr/{discussion.num}", discussion.num
        else:
            num = None
            branch = revision[len("refs/heads/") :] if revision.startswith("refs/heads/") else revision
            pr = PR_REF_RE.match(revision)
            if pr and int(pr.group(1)) in repo.prs:
                ref, start = revision, repo.prs[int(pr.group(1))]
            elif branch in repo.branches:
                ref, start = f"refs/heads/{branch}", repo.branches[branch]
            else:
                raise revision_not_found(revision)
            if parent_commit and not start.startswith(str(parent_commit).lower()):
                raise HubError(412, STALE_PARENT_MESSAGE)
            tree = dict(repo.commits[start].tree)
            _apply_operations(store, tree, lines[1:])
        commit = store.new_commit(
            repo, [start], tree, title, str(header.get("description") or ""), principal.user
        )
        if ref.startswith("refs/pr/"):
            repo.prs[int(ref.rsplit("/", 1)[1])] = commit.oid
        else:
            repo.branches[ref[len("refs/heads/") :]] = commit.oid
        store.save()
        changes.append(_content_change(repo, ref, start, commit.oid))
    for change in changes:
        hub.publish(change)
    return {
        "success": True,
        "commitOid": commit.oid,
        "commitUrl": f"{base}/{repo.url_path}/commit/{commit.oid}",
        "hookOutput": "",
        "pullRequestUrl": f"{base}/{repo.url_path}/discussions/{num}" if num is not None else None,
    }


# -- discussions ------------------------------------------------------------------------------------
@repo_route("/discussions", ["POST"])
async def create_discussion(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.require_principal(request)
    body = await _json_body(request)
    title = str(body.get("title") or "").strip()
    if not title:
        raise HubError(400, "A discussion needs a title")
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        discussion = _open_discussion(
            repo,
            title=title,
            description=str(body.get("description") or ""),
            author=principal.user,
            pull_request=bool(body.get("pullRequest")),
            base_oid=repo.branches["main"],
        )
        store.save()
        payload = _discussion_json(repo, discussion, _base(request))
    hub.publish(_discussion_change(repo, discussion, _base(request)))
    return {**payload, "pullRequest": discussion.is_pull_request}


def _discussion_summary(repo: Repo, discussion: Discussion) -> dict[str, Any]:
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


DISCUSSIONS_PAGE_SIZE = 50


@repo_route("/discussions", ["GET"])
async def list_discussions(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store = _store(request)
    params = request.query_params
    wanted_type = {"pull_request": True, "discussion": False}.get(params.get("type", "all"))
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", hub.principal(request))
        matching = [
            _discussion_summary(repo, d)
            for d in sorted(repo.discussions.values(), key=lambda d: d.num, reverse=True)
            if (wanted_type is None or d.is_pull_request == wanted_type)
            and params.get("status", "all") in ("all", d.status)
            and params.get("author") in (None, d.author)
        ]
    start = int(params["p"]) * DISCUSSIONS_PAGE_SIZE if params.get("p", "").isdigit() else 0
    return {
        "discussions": matching[start : start + DISCUSSIONS_PAGE_SIZE],
        "count": len(matching),
        "start": start,
        "numClosedDiscussions": sum(1 for d in matching if d["status"] == "closed"),
    }


@repo_route("/discussions/{num}", ["GET"])
async def discussion_details(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        discussion = repo.discussions.get(num)
        if discussion is None:
            raise HubError(404, f"Discussion {num} not found")
        details = {**_discussion_summary(repo, discussion), "events": list(discussion.events)}
        if discussion.is_pull_request:
            details["changes"] = {"base": discussion.base}
            if discussion.merge_commit:
                details["changes"]["mergeCommitId"] = discussion.merge_commit
            details["filesWithConflicts"] = []
            details["diff"] = ""
    return details


def _event(kind: str, author: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": secrets.token_hex(12),
        "type": kind,
        "createdAt": iso(time.time()),
        "author": {"name": author},
        "data": data,
    }


def _comment_event(author: str, comment: str) -> dict[str, Any]:
    return _event("comment", author, {"edited": False, "hidden": False, "latest": {"raw": comment}})


def _discussion_for_change(
    hub: HubState,
    store: RepoStore,
    request: Request,
    namespace: str,
    name: str,
    num: int,
    principal: Principal,
) -> tuple[Repo, Discussion]:
    repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
    discussion = repo.discussions.get(num)
    if discussion is None:
        raise HubError(404, f"Discussion {num} not found")
    return repo, discussion


@repo_route("/discussions/{num}/comment", ["POST"])
async def comment_discussion(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.require_principal(request)
    comment = str((await _json_body(request)).get("comment") or "").strip()
    if not comment:
        raise HubError(400, "A comment cannot be empty")
    with hub.lock:
        repo, discussion = _discussion_for_change(hub, store, request, namespace, name, num, principal)
        event = _comment_event(principal.user, comment)
        discussion.events.append(event)
        store.save()
    change = _discussion_change(repo, discussion, _base(request))
    change.scope = "discussion.comment"
    hub.publish(change)
    return {"newMessage": event}


@repo_route("/discussions/{num}/status", ["POST"])
async def change_discussion_status(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.require_principal(request)
    body = await _json_body(request)
    status = body.get("status")
    if status not in ("open", "closed"):
        raise HubError(400, f"Invalid status {_shown(repr(status))}: expected 'open' or 'closed'")
    with hub.lock:
        repo, discussion = _discussion_for_change(hub, store, request, namespace, name, num, principal)
        if principal.user != discussion.author and not hub.can_write_namespace(principal, repo.namespace):
            raise HubError(
                403, "Only the author or the repo's owners can change the status of this discussion"
            )
        if discussion.status == "merged":
            raise HubError(400, "This pull request is already merged")
        discussion.status = str(status)
        event = _event("status-change", principal.user, {"status": status})
        discussion.events.append(event)
        if body.get("comment"):
            discussion.events.append(_comment_event(principal.user, str(body["comment"])))
        store.save()
    hub.publish(_discussion_change(repo, discussion, _base(request), action="update"))
    return {"newStatus": event}


def _changed_paths(old: dict[str, FileEntry], new: dict[str, FileEntry]) -> set[str]:
    return {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}


@repo_route("/discussions/{num}/merge", ["POST"])
async def merge_pull_request(request: Request, namespace: str, name: str, num: int) -> dict[str, Any]:
    """Merge a PR into its base branch: a merge commit applying the PR's changes, refused on conflicts."""
    hub, store = _store(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    repo_type, repo_id = _api_repo_type(request), f"{namespace}/{name}"
    with hub.lock:
        repo = _writable(hub, store, repo_type, repo_id, principal)
        assert principal is not None
        discussion = repo.discussions.get(num)
        if discussion is None or not discussion.is_pull_request:
            raise HubError(404, f"Pull request {num} not found")
        if discussion.status not in ("open", "draft"):
            raise HubError(400, f"This pull request is {discussion.status}, it cannot be merged")
        branch = discussion.base[len("refs/heads/") :]
        target = repo.branches.get(branch)
        if target is None:
            raise revision_not_found(discussion.base)
        base_tree = repo.commits[discussion.base_oid].tree if discussion.base_oid in repo.commits else {}
        pr_head = repo.commits[repo.prs[num]]
        ours, theirs = repo.commits[target].tree, pr_head.tree
        theirs_changed = _changed_paths(base_tree, theirs)
        conflicts = sorted(
            p for p in theirs_changed & _changed_paths(base_tree, ours) if ours.get(p) != theirs.get(p)
        )
        if conflicts:
            raise HubError(
                409, f"Merge conflict in {_shown(', '.join(conflicts))}", body={"conflicts": conflicts}
            )
        tree = dict(ours)
        for path in theirs_changed:
            if path in theirs:
                tree[path] = theirs[path]
            else:
                tree.pop(path, None)
        merge = store.new_commit(
            repo, [target, pr_head.oid], tree, f"Merge refs/pr/{num}: {discussion.title}", "", principal.user
        )
        repo.branches[branch] = merge.oid
        discussion.status, discussion.merge_commit = "merged", merge.oid
        discussion.events.append(_event("status-change", principal.user, {"status": "merged"}))
        if body.get("comment"):
            discussion.events.append(_comment_event(principal.user, str(body["comment"])))
        store.save()
    hub.publish(_content_change(repo, discussion.base, target, merge.oid))
    hub.publish(_discussion_change(repo, discussion, _base(request), action="update"))
    return {}


@repo_route("/super-squash/{branch}", ["POST"])
async def super_squash(request: Request, namespace: str, name: str, branch: str) -> dict[str, Any]:
    """Replace the branch's history by one root commit with its current files."""
    hub, store = _store(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    branch = unquote_segment(branch)
    with hub.lock:
        repo = _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        assert principal is not None
        old = repo.branches.get(branch)
        if old is None:
            raise revision_not_found(branch)
        message = str(body.get("message") or "Super-squash branch using huggingface_hub")
        squashed = store.new_commit(repo, [], dict(repo.commits[old].tree), message, "", principal.user)
        repo.branches[branch] = squashed.oid
        store.save()
    hub.publish(_content_change(repo, f"refs/heads/{branch}", old, squashed.oid))
    return {"commitId": squashed.oid}


# -- history and refs -------------------------------------------------------------------------------
def _commit_json(commit: Commit, formatted: bool) -> dict[str, Any]:
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


@repo_route("/commits/{revision}", ["GET"])
async def list_commits(request: Request, namespace: str, name: str, revision: str) -> Response:
    hub, store = _store(request)
    principal = hub.principal(request)
    params = request.query_params
    formatted = "formatted" in params.getlist("expand") + params.getlist("expand[]")
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        commits = repo.ancestors(_commit_at(repo, unquote_segment(revision)).oid)
        items = [_commit_json(commit, formatted) for commit in commits]
    page_size = int(params["limit"]) if params.get("limit", "").isdigit() else store.commits_page_size
    page, headers = _page(request, items, max(page_size, 1), key="p")
    return JSONResponse(page, headers={**headers, "X-Total-Count": str(len(items))})


@repo_route("/refs", ["GET"])
async def list_refs(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub, store = _store(request)
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", hub.principal(request))
        refs: dict[str, Any] = {
            "branches": [
                {"name": b, "ref": f"refs/heads/{b}", "targetCommit": oid}
                for b, oid in sorted(repo.branches.items())
            ],
            "converts": [],
            "tags": [
                {"name": t, "ref": f"refs/tags/{t}", "targetCommit": oid}
                for t, oid in sorted(repo.tags.items())
            ],
        }
        if _is_true(request.query_params.get("include_prs")):
            refs["pullRequests"] = [
                {"name": str(num), "ref": f"refs/pr/{num}", "targetCommit": oid}
                for num, oid in sorted(repo.prs.items())
            ]
    return refs


@repo_route("/branch/{branch}", ["POST"])
async def create_branch(request: Request, namespace: str, name: str, branch: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    branch = unquote_segment(branch)
    with hub.lock:
        repo = _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        if not REF_NAME_RE.match(branch):
            raise HubError(400, f"Invalid reference for a branch: {_shown(branch)}")
        if branch in repo.branches:
            raise HubError(409, f"Reference refs/heads/{_shown(branch)} already exists")
        starting_point = body.get("startingPoint") or "main"
        start = repo.resolve(str(starting_point))
        if start is None:
            raise revision_not_found(str(starting_point))
        repo.branches[branch] = start
        store.save()
    hub.publish(_content_change(repo, f"refs/heads/{branch}", None, start))
    return {}


@repo_route("/branch/{branch}", ["DELETE"])
async def delete_branch(request: Request, namespace: str, name: str, branch: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    branch = unquote_segment(branch)
    branch = branch[len("refs/heads/") :] if branch.startswith("refs/heads/") else branch
    with hub.lock:
        repo = _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        if branch == "main":
            raise HubError(403, "Cannot delete refs/heads/main: it is the default branch")
        old = repo.branches.pop(branch, None)
        if old is None:
            raise revision_not_found(branch)
        store.save()
    hub.publish(_content_change(repo, f"refs/heads/{branch}", old, None))
    return {}


@repo_route("/tag/{revision}", ["POST"])
async def create_tag(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    body = await _json_body(request)
    tag = str(body.get("tag") or "")
    revision = unquote_segment(revision)
    with hub.lock:
        repo = _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        target = repo.resolve(revision)
        if target is None:
            raise revision_not_found(revision)
        if not REF_NAME_RE.match(tag):
            raise HubError(400, f"Invalid tag name: {_shown(repr(tag))}")
        if tag in repo.tags:
            raise HubError(409, f"Tag {_shown(tag)} already exists")
        repo.tags[tag] = target
        if body.get("message"):
            repo.tag_messages[tag] = str(body["message"])
        store.save()
    hub.publish(_content_change(repo, f"refs/tags/{tag}", None, target))
    return {}


@repo_route("/tag/{tag}", ["DELETE"])
async def delete_tag(request: Request, namespace: str, name: str, tag: str) -> dict[str, Any]:
    hub, store = _store(request)
    principal = hub.principal(request)
    tag = unquote_segment(tag)
    tag = tag[len("refs/tags/") :] if tag.startswith("refs/tags/") else tag
    with hub.lock:
        repo = _writable(hub, store, _api_repo_type(request), f"{namespace}/{name}", principal)
        old = repo.tags.pop(tag, None)
        if old is None:
            raise revision_not_found(tag)
        repo.tag_messages.pop(tag, None)
        store.save()
    hub.publish(_content_change(repo, f"refs/tags/{tag}", old, None))
    return {}


# -- tree, paths-info -------------------------------------------------------------------------------
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


def _entry_json(repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
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


async def _tree(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    hub, store = _store(request)
    params = request.query_params
    recursive, expand = _is_true(params.get("recursive")), _is_true(params.get("expand"))
    path = unquote_segment(path).strip("/")
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", hub.principal(request))
        commit = _commit_at(repo, unquote_segment(revision))
        if path and path not in commit.dirs:
            raise not_found(
                "EntryNotFound", f"Entry not found: {_shown(path)} does not exist at {_shown(revision)}"
            )
        prefix = f"{path}/" if path else ""
        dirs = [d for d in commit.dirs if d and d.startswith(prefix)]
        files = [f for f in commit.tree if f.startswith(prefix)]
        if not recursive:
            dirs = [d for d in dirs if "/" not in d[len(prefix) :]]
            files = [f for f in files if "/" not in f[len(prefix) :]]
        paths = sorted(dirs) + sorted(files) if not recursive else sorted(dirs + files)
        items = [_entry_json(repo, commit, p, expand) for p in paths]
    page, headers = _page(
        request, items, store.tree_page_size if not expand else min(store.tree_page_size, 50)
    )
    return JSONResponse(page, headers=headers)


@repo_route("/tree/{revision}", ["GET"])
async def list_tree(request: Request, namespace: str, name: str, revision: str) -> Response:
    return await _tree(request, namespace, name, revision, "")


@repo_route("/tree/{revision}/{path:path}", ["GET"])
async def list_tree_under(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    return await _tree(request, namespace, name, revision, path)


@repo_route("/paths-info/{revision}", ["POST"])
async def paths_info(request: Request, namespace: str, name: str, revision: str) -> list[dict[str, Any]]:
    hub, store = _store(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await _json_body(request)
        paths, expand = list(body.get("paths") or []), bool(body.get("expand"))
    else:
        form = await request.form()
        paths, expand = [str(p) for p in form.getlist("paths")], _is_true(str(form.get("expand", "false")))
    with hub.lock:
        repo = _readable(hub, store, _api_repo_type(request), f"{namespace}/{name}", hub.principal(request))
        commit = _commit_at(repo, unquote_segment(revision))
        return [
            _entry_json(repo, commit, p.strip("/"), expand)
            for p in dict.fromkeys(paths)
            if p.strip("/") in commit.tree or (p.strip("/") and p.strip("/") in commit.dirs)
        ]


# -- downloads --------------------------------------------------------------------------------------
def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of a single ``bytes=`` range; ``None`` when absent or not a single range."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if not first:
            length = int(last)
            return max(size - length, 0), size
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if start >= size or end <= start:
        raise HubError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    return start, min(end, size)


def _content_disposition(filename: str) -> str:
    """``inline`` with an ASCII fallback and the RFC 5987 UTF-8 name (headers must stay latin-1)."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@web_route("/resolve/{revision}/{path:path}", ["GET", "HEAD"])
async def resolve(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    hub, store = _store(request)
    principal = hub.principal(request)
    revision, path = unquote_segment(revision), unquote_segment(path)
    with hub.lock:
        repo = _readable(hub, store, _web_repo_type(request), f"{namespace}/{name}", principal)
        _check_gate(hub, repo, principal, _base(request))
        commit = _commit_at(repo, revision)
        entry = commit.tree.get(path)
    if entry is None:
        raise HubError(404, "Entry not found", code="EntryNotFound", headers={"X-Repo-Commit": commit.oid})
    etag = f'"{entry.sha256}"' if entry.lfs else f'"{entry.blob_id}"'
    headers = {
        "X-Repo-Commit": commit.oid,
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
        "Content-Disposition": _content_disposition(path.rsplit("/", 1)[-1]),
    }
    if entry.lfs:
        headers.update({"X-Linked-Etag": etag, "X-Linked-Size": str(entry.size)})
    byte_range = _parse_range(request.headers.get("range"), entry.size)
    start, end = byte_range or (0, entry.size)
    status = 206 if byte_range else 200
    if byte_range:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return StreamingResponse(
        store.blobs.iter_range(entry.sha256, start, end), status_code=status, headers=headers
    )

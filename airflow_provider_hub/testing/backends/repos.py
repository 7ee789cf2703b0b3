"""The repos area's backend: every repo, its commits, refs, discussions and blobs, and the rules on them.

Both the HTTP routes (:mod:`airflow_provider_hub.testing.routes.repos` and siblings) and the Python
seeding methods change repos only through :class:`RepoBackend`, so a commit made by ``add_repo(files=...)``
takes the same path (:meth:`RepoBackend.commit`) and publishes the same change as one made over HTTP.
File bytes live on disk in a content-addressed :class:`~airflow_provider_hub.testing._git.BlobStore`.
"""

from __future__ import annotations

import itertools
import math
import pickle
import re
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_hub.testing._core import Principal, RepoChange
from airflow_provider_hub.testing._git import (
    BlobStore,
    FileEntry,
    PendingUpload,
    commit_oid,
    remove_tree,
    sha256_of_file,
    tree_oids,
)
from airflow_provider_hub.testing.backends.repo_model import (
    LFS_SIZE_THRESHOLD,
    PR_REF_RE,
    REF_NAME_RE,
    REPO_NAME_RE,
    REPO_TYPES,
    SPACE_SDKS,
    URL_PREFIX,
    Commit,
    Discussion,
    LfsFile,
    MiB,
    Repo,
    card_tags,
    changed_paths,
    comment_event,
    default_gitattributes,
    discussion_details_json,
    discussion_json,
    edit_comment_event,
    entry_json,
    event,
    hide_comment_event,
    iso,
    lfs_file_json,
    matches_any,
    parse_front_matter,
    space_readme,
)
from airflow_provider_hub.testing.errors import (
    BadRequest,
    Conflict,
    EntryNotFound,
    Forbidden,
    GatedRepo,
    NotFound,
    PreconditionFailed,
    RepoNotFound,
    RevisionNotFound,
    Unauthorized,
    UnprocessableEntity,
    shown,
)

if TYPE_CHECKING:
    from airflow_provider_hub.testing._core import HubState

STALE_PARENT_MESSAGE = "The branch was updated since you opened this page. Please refresh and try again."
DISCUSSIONS_PAGE_SIZE = 50
#: The status filter a discussion of each status answers to.
LISTED_AS = {"open": "open", "draft": "open", "closed": "closed", "merged": "closed"}
#: The repo types of a namespace's storage listing (``RepoStorageInfo.type``; buckets are not emulated).
STORAGE_TYPES = ("model", "dataset", "space")
#: The Hub's per-commit limits (``create_commit``'s docstring: "limited to 25k LFS files and a 1GB payload
#: for regular files"); the regular payload is the base64 text of their content in the commit body.
MAX_LFS_FILES_PER_COMMIT = 25_000
MAX_REGULAR_PAYLOAD_PER_COMMIT = 1_000_000_000


# -- commit operations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddFile:
    """A file given by its bytes; ``auto_lfs`` stores it through LFS per ``.gitattributes`` and size
    (seeding), otherwise it is a regular git blob (the client already chose, as over HTTP)."""

    path: str
    data: bytes
    auto_lfs: bool = False


@dataclass(frozen=True)
class AddLfsFile:
    """A file whose bytes were uploaded through LFS before the commit."""

    path: str
    oid: str
    size: int | None


@dataclass(frozen=True)
class DeleteFile:
    path: str


@dataclass(frozen=True)
class DeleteFolder:
    path: str


Operation = AddFile | AddLfsFile | DeleteFile | DeleteFolder


@dataclass(frozen=True)
class CommitResult:
    repo: Repo
    commit: Commit
    pr_num: int | None


@dataclass(frozen=True)
class Download:
    """What ``/resolve`` serves: the commit the revision resolved to and the file's entry there."""

    commit: Commit
    entry: FileEntry


class RepoBackend:
    """All repos of one emulator, their blobs on disk, and the pending multipart LFS uploads.

    Tunables (set them on ``hub.repos`` in tests): ``lfs_multipart_threshold`` (files larger than this
    are uploaded in parts of ``lfs_chunk_size``), ``page_size`` (repo listings), ``tree_page_size``,
    ``commits_page_size``, ``lfs_files_page_size``, and the per-commit limits ``max_lfs_files_per_commit``
    and ``max_regular_payload_per_commit`` (``HubEmulator.set_commit_limits``).

    ``received`` counts the bytes clients sent: ``"lfs"`` (LFS transfer bodies, parts included, whether
    or not the upload completed) and ``"commit"`` (commit request bodies).

    Methods that take a ``principal`` enforce the Hub's permissions and raise its errors; changes are
    published on the change feed after they are visible (outside the lock).
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
        # Keyed by type and lowercased id: the Hub finds `Alice/Repo` for `alice/repo`, and answers with
        # the id as created.
        self.repos: dict[tuple[str, str], Repo] = {}
        self.pending: dict[str, PendingUpload] = {}
        self.lfs_multipart_threshold = 4 * 1024 * MiB
        self.lfs_chunk_size = 512 * MiB
        self.page_size = 1000
        self.tree_page_size = 1000
        self.commits_page_size = 50
        self.lfs_files_page_size = 1000
        self.max_lfs_files_per_commit = MAX_LFS_FILES_PER_COMMIT
        self.max_regular_payload_per_commit = MAX_REGULAR_PAYLOAD_PER_COMMIT
        self.received: Counter[str] = Counter()
        self._seq = itertools.count(1)
        self._load()

    # -- persistence --------------------------------------------------------------------------------
    @property
    def _state_file(self) -> Path:
        return self.root / "repos.pickle"

    def _load(self) -> None:
        if self.persistent and self._state_file.exists():
            with open(self._state_file, "rb") as handle:
                loaded: dict[tuple[str, str], Repo] = _StateUnpickler(handle).load()
                self.repos = {_key(r.repo_type, r.repo_id): r for r in loaded.values()}
            for repo in self.repos.values():
                if "lfs_files" not in vars(repo):  # saved before repos kept their LFS inventory
                    repo.lfs_files = _lfs_inventory_from_history(repo)
            top = max((c.seq for r in self.repos.values() for c in r.commits.values()), default=0)
            self._seq = itertools.count(top + 1)

    def save(self) -> None:
        if not self.persistent:
            return
        tmp = self._state_file.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(self.repos, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self._state_file)

    # -- seeding ------------------------------------------------------------------------------------
    def get(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.repos.get(_key(repo_type, repo_id))

    def ensure(
        self, repo_type: str, repo_id: str, *, private: bool = False, gated: str | bool = False
    ) -> Repo:
        """The repo with these settings, created (``.gitattributes``, initial commit) when missing."""
        if repo_type not in REPO_TYPES:
            raise BadRequest(f"repo_type must be one of {REPO_TYPES}, got {repo_type!r}")
        if gated not in ("auto", "manual", False):
            raise BadRequest(f"gated must be 'auto', 'manual' or False, got {gated!r}")
        with self.hub.lock:
            repo = self.get(repo_type, repo_id)
            if repo is None:
                repo = self._new_repo(repo_type, repo_id, author=repo_id.split("/", 1)[0], private=private)
            repo.private, repo.gated = private, gated
            self.save()
        return repo

    def files(self, repo_type: str, repo_id: str, revision: str = "main") -> dict[str, int]:
        """``{path: size}`` of the files at ``revision`` (for test assertions)."""
        repo = self.get(repo_type, repo_id)
        oid = repo.resolve(revision) if repo else None
        if repo is None or oid is None:
            raise NotFound(f"no {repo_type} {repo_id} at {revision}")
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
        """Commit ``files`` (stored LFS per ``.gitattributes`` and size) on ``revision``; returns the oid."""
        if self.get(repo_type, repo_id) is None:
            self.ensure(repo_type, repo_id)
        operations = [AddFile(path, data, auto_lfs=True) for path, data in files.items()]
        return self.commit(repo_type, repo_id, revision, operations, title=message, author=author).commit.oid

    # -- access rules -------------------------------------------------------------------------------
    def readable(self, repo_type: str, repo_id: str, principal: Principal | None) -> Repo:
        """The repo, if ``principal`` may see it; ``RepoNotFound`` otherwise (private repos hide, as on the Hub)."""
        repo = self.get(repo_type, repo_id)
        if repo is None or (repo.private and not self.hub.can_read_namespace(principal, repo.namespace)):
            raise RepoNotFound()
        return repo

    def writable(self, repo_type: str, repo_id: str, principal: Principal | None) -> Repo:
        repo = self.readable(repo_type, repo_id, principal)
        if principal is None:
            raise Unauthorized()
        if not self.hub.can_write_namespace(principal, repo.namespace):
            raise Forbidden(f"You don't have the rights to write to this {repo_type} repo ({repo_id}).")
        return repo

    def check_gate(self, repo: Repo, principal: Principal | None, base: str) -> None:
        """``GatedRepo`` for users who may not download from a gated repo (401 anonymous, 403 otherwise)."""
        if not repo.gated or (
            principal is not None and self.hub.can_read_namespace(principal, repo.namespace)
        ):
            return
        if principal is not None and self.hub.access.has_access(repo.repo_type, repo.repo_id, principal.user):
            return
        if principal is None:
            raise GatedRepo(
                f"Access to {repo.repo_type} {repo.repo_id} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in.",
                anonymous=True,
            )
        raise GatedRepo(
            f"Access to {repo.repo_type} {repo.repo_id} is restricted and you are not in the authorized list. "
            f"Visit {base}/{repo.url_path} to ask for access.",
            anonymous=False,
        )

    def check_access(self, repo_type: str, repo_id: str, principal: Principal | None, base: str) -> Repo:
        """The repo, if ``principal`` may download from it (``auth-check``)."""
        repo = self.readable(repo_type, repo_id, principal)
        self.check_gate(repo, principal, base)
        return repo

    @staticmethod
    def commit_at(repo: Repo, revision: str) -> Commit:
        oid = repo.resolve(revision)
        if oid is None:
            raise RevisionNotFound(revision)
        return repo.commits[oid]

    # -- repos --------------------------------------------------------------------------------------
    def _new_repo(
        self, repo_type: str, repo_id: str, *, author: str, private: bool, sdk: str | None = None
    ) -> Repo:
        repo = Repo(repo_type=repo_type, repo_id=repo_id, author=author, private=private, sdk=sdk)
        files = {".gitattributes": default_gitattributes(repo_type)}
        if repo_type == "space":
            # Seeded Spaces (no SDK given) are Gradio ones, the Hub's default choice.
            files["README.md"] = space_readme(repo_id.split("/")[-1], sdk or "gradio")
        tree = {path: FileEntry.regular(data, self.blobs.put_bytes(data)) for path, data in files.items()}
        repo.branches["main"] = self._new_commit(repo, [], tree, "initial commit", "", author).oid
        self.repos[_key(repo_type, repo_id)] = repo
        return repo

    def create_repo(
        self,
        principal: Principal,
        repo_type: str,
        name: str,
        *,
        namespace: str | None,
        private: bool,
        sdk: str | None,
        base: str,
    ) -> tuple[Repo, str]:
        """Create ``{namespace or the caller}/{name}``; returns the repo and its web URL."""
        if repo_type not in REPO_TYPES:
            raise BadRequest(f"Invalid repo type: {repo_type}")
        namespace = namespace or principal.user
        if not REPO_NAME_RE.match(name) or "--" in name or ".." in name or name.endswith((".git", ".")):
            raise BadRequest(f"Invalid repo name: {shown(repr(name))}")
        if repo_type == "space" and sdk not in SPACE_SDKS:
            raise BadRequest(f"Invalid sdk {shown(repr(sdk))}: a Space needs one of {', '.join(SPACE_SDKS)}")
        repo_id = f"{namespace}/{name}"
        url = f"{base}/{URL_PREFIX[repo_type]}{repo_id}"
        with self.hub.lock:
            if not self.hub.can_write_namespace(principal, namespace):
                raise Forbidden(
                    f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"'
                )
            existing = self.get(repo_type, repo_id)
            if existing is not None:
                # create_repo(exist_ok=True) reads the URL from this 409's body.
                body = {"url": f"{base}/{existing.url_path}"}
                raise Conflict(f"You already created this {repo_type} repo", body=body)
            repo = self._new_repo(repo_type, repo_id, author=principal.user, private=private, sdk=sdk)
            self.save()
        self.hub.publish(
            RepoChange(repo_type, repo_id, "repo", "create", private=private, head_sha=repo.branches["main"])
        )
        return repo, url

    def delete_repo(self, principal: Principal, repo_type: str, repo_id: str) -> None:
        if repo_type not in REPO_TYPES:
            raise BadRequest(f"Invalid repo type: {repo_type}")
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            del self.repos[_key(repo_type, repo.repo_id)]
            self.save()
        self.hub.publish(RepoChange(repo_type, repo.repo_id, "repo", "delete", private=repo.private))

    def move_repo(self, principal: Principal, repo_type: str, source: str, target: str) -> None:
        if repo_type not in REPO_TYPES or target.count("/") != 1:
            raise BadRequest(shown(f"Invalid move request: {source!r} -> {target!r} ({repo_type})"))
        with self.hub.lock:
            repo = self.writable(repo_type, source, principal)
            source = repo.repo_id
            if not self.hub.can_write_namespace(principal, target.split("/")[0]):
                raise Forbidden(
                    f'You don\'t have the rights to create a {repo_type} under the namespace "{target}"'
                )
            if self.get(repo_type, target) is not None:
                raise Conflict(f"A {repo_type} repository called {shown(target)} already exists")
            del self.repos[_key(repo_type, repo.repo_id)]
            repo.repo_id = target
            self.repos[_key(repo_type, target)] = repo
            self.save()
        self.hub.publish(RepoChange(repo_type, source, "repo", "move", private=repo.private, moved_to=target))

    def update_settings(
        self, principal: Principal | None, repo_type: str, repo_id: str, changes: Mapping[str, Any]
    ) -> Repo:
        """Apply the settings in ``changes``: ``gated`` (``"auto"``, ``"manual"`` or ``False``) and ``visibility``."""
        gated = changes.get("gated", False)
        if gated not in ("auto", "manual", False):
            raise BadRequest(f"Invalid gated value: {gated!r}; expected 'auto', 'manual' or false")
        visibility = changes.get("visibility")
        if visibility not in (None, "public", "private"):
            raise BadRequest(f"Invalid visibility: {visibility!r}")
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            if "gated" in changes:
                repo.gated = gated
            if visibility is not None:
                repo.private = visibility == "private"
            self.save()
        self.hub.publish(
            RepoChange(
                repo_type, repo.repo_id, "repo.config", "update", private=repo.private, head_sha=repo.head()
            )
        )
        return repo

    # -- info and listings --------------------------------------------------------------------------
    def read_text(self, entry: FileEntry | None, limit: int = MiB) -> str | None:
        # A permanently deleted LFS object may be gone from the store while a pointer to it remains.
        if entry is None or entry.size > limit or not self.blobs.has(entry.sha256):
            return None
        return self.blobs.read_bytes(entry.sha256).decode(errors="replace")

    def _card(self, commit: Commit) -> dict[str, Any] | None:
        text = self.read_text(commit.tree.get("README.md"))
        if text is None:
            return None
        try:
            return parse_front_matter(text)
        except ValueError:
            return None

    def _provider_expand(self, repo_id: str) -> dict[str, Any]:
        return self.hub.providers.model_expand(repo_id)

    def repo_json(
        self,
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
        card = self._card(commit)
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
            "likes": self.hub.likes.count(repo.repo_type, repo.repo_id),
            "trendingScore": 0,
            "tags": card_tags(card),
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
            info["runtime"] = self.hub.spaces.runtime_json(repo)
        if expand:
            wanted = set(expand)
            if repo.repo_type == "model" and wanted & {"inference", "inferenceProviderMapping"}:
                extra = self._provider_expand(repo.repo_id)
                if extra.get("inference"):
                    info["inference"] = extra["inference"]
                mapping = extra.get("inferenceProviderMapping")
                if mapping is not None:
                    if listing and isinstance(mapping, dict):
                        mapping = [{"provider": name, **details} for name, details in mapping.items()]
                    info["inferenceProviderMapping"] = mapping
            return {key: value for key, value in info.items() if key in ("_id", "id") or key in wanted}
        if listing and not full:
            keep = {
                "_id",
                "id",
                "modelId",
                "author",
                "likes",
                "trendingScore",
                "private",
                "downloads",
                "tags",
            }
            keep |= {"pipeline_tag", "library_name", "createdAt", "sdk", "gated", "lastModified"}
            if card_data:
                keep.add("cardData")
            return {key: value for key, value in info.items() if key in keep}
        return info

    def info(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        revision: str,
        *,
        expand: list[str],
        blobs: bool,
    ) -> dict[str, Any]:
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            return self.repo_json(repo, self.commit_at(repo, revision), expand=expand, blobs=blobs)

    def _served_by(self, providers: list[str]) -> set[str] | None:
        """Repo ids served by any of ``providers`` (``None``: no filter)."""
        if not providers:
            return None
        return set().union(*(self.hub.providers.models_served_by(provider) for provider in providers))

    def list_repos(
        self,
        principal: Principal | None,
        repo_type: str,
        *,
        author: str | None = None,
        search: str = "",
        gated: bool | None = None,
        pipeline_tag: str | None = None,
        tags: list[str] | None = None,
        providers: list[str] | None = None,
        expand: list[str] | None = None,
        full: bool = False,
        card_data: bool = False,
        sort: str | None = None,
        descending: bool = True,
    ) -> list[dict[str, Any]]:
        """The listing's items (as shown), filtered and sorted as ``list_models`` asks.

        ``providers``: ids of Inference Providers that must serve the model; ``"all"`` means any.
        """
        providers = providers or []
        search = search.lower()
        with self.hub.lock:
            served = self._served_by([p for p in providers if p != "all"])
            items = []
            for repo in self.repos.values():
                if repo.repo_type != repo_type:
                    continue
                if repo.private and not self.hub.can_read_namespace(principal, repo.namespace):
                    continue
                if author and repo.namespace != author:
                    continue
                if search and search not in repo.repo_id.lower():
                    continue
                if gated is not None and bool(repo.gated) != gated:
                    continue
                commit = repo.commits[repo.branches["main"]]
                if served is not None and repo.repo_id not in served:
                    continue
                if "all" in providers and not self._provider_expand(repo.repo_id).get("inference"):
                    continue
                info = self.repo_json(repo, commit)
                if pipeline_tag and info.get("pipeline_tag") != pipeline_tag:
                    continue
                if any(tag not in info["tags"] for tag in tags or []):
                    continue
                shown_item = self.repo_json(
                    repo, commit, expand=expand, listing=True, full=full, card_data=card_data
                )
                items.append((info, shown_item))
        if sort:
            key = {
                "last_modified": "lastModified",
                "created_at": "createdAt",
                "trending_score": "trendingScore",
            }.get(sort, sort)
            items.sort(key=lambda pair: (pair[0].get(key) is None, pair[0].get(key) or 0), reverse=descending)
        return [item for _, item in items]

    def storage_listing(self, principal: Principal, namespace: str | None = None) -> list[dict[str, Any]]:
        """The repos of the caller's own namespace, or of an organization they belong to, with the storage
        each uses (``list_user_repos``: the settings' storage page), most recently updated first.

        ``storage`` counts every distinct file content in the repo's history, once; ``storagePercent`` is
        the repo's share of what the namespace's repos use together. Kernels are not listed (the listing's
        types are models, datasets, Spaces and buckets). An organization the caller is not a member of is
        a 403, an unknown one a 404.
        """
        hub = self.hub
        with hub.lock:
            if namespace is None:
                namespace = principal.user
            elif namespace not in hub.orgs:
                raise NotFound(f"Organization {shown(namespace)} not found")
            elif not hub.can_read_namespace(principal, namespace):
                raise Forbidden(
                    f"You must be a member of the organization {shown(namespace)} to see its repos"
                )
            owned = sorted(
                (r for r in self.repos.values() if r.namespace == namespace and r.repo_type in STORAGE_TYPES),
                key=lambda r: r.last_modified,
                reverse=True,
            )
            storage = {r.uid: _history_storage(r) for r in owned}
        total = sum(storage.values())
        return [
            {
                "id": repo.repo_id,
                "type": repo.repo_type,
                "updatedAt": iso(repo.last_modified),
                "visibility": "private" if repo.private else "public",
                "storage": storage[repo.uid],
                "storagePercent": round(100 * storage[repo.uid] / total, 2) if total else 0,
            }
            for repo in owned
        ]

    # -- uploads ------------------------------------------------------------------------------------
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

    def preupload(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        revision: str,
        files: list[tuple[str, int, bytes]],
        gitignore: str | None,
        *,
        create_pr: bool = False,
    ) -> dict[str, Any]:
        """How each ``(path, size, sample)`` must be uploaded (``lfs`` or ``regular``) and whether it is ignored.

        ``gitignore`` replaces the revision's ``.gitignore`` when given. Who may ask is who may commit there.
        """
        with self.hub.lock:
            repo = self.committer(repo_type, repo_id, revision, principal, create_pr)
            commit = self.commit_at(repo, revision)
            tree = commit.tree
            patterns = self.lfs_patterns(tree)
            if gitignore is None:
                gitignore = self.read_text(tree.get(".gitignore")) or ""
        ignore = [
            line.strip() for line in gitignore.splitlines() if line.strip() and not line.startswith("#")
        ]
        answers = []
        for path, size, sample in files:
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

    def lfs_batch(
        self, principal: Principal | None, repo_type: str, repo_id: str, objects: list[Any], base: str
    ) -> list[dict[str, Any]]:
        """The LFS batch answer of each upload object: nothing to do, a basic upload, or a multipart one.

        Any signed-in reader may upload objects (for a pull request); only a commit makes them visible.
        """
        self.readable(repo_type, repo_id, principal)
        if principal is None:
            raise Unauthorized()
        answers = []
        for obj in objects:
            oid, size = str(obj.get("oid", "")).lower(), obj.get("size")
            if not re.fullmatch(r"[0-9a-f]{64}", oid) or not isinstance(size, int) or size < 0:
                answers.append(
                    {"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid oid or size"}}
                )
                continue
            answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if self.blobs.size(oid) != size:
                verify = {"href": f"{base}/_lfs/verify/{oid}", "header": {}}
                if size > self.lfs_multipart_threshold:
                    chunk = self.lfs_chunk_size
                    parts = math.ceil(size / chunk)
                    with self.hub.lock:
                        pending = self.pending.get(oid)
                        if pending is None or pending.size != size or pending.chunk_size != chunk:
                            handle, tmp = self.blobs.new_temp()
                            handle.truncate(size)
                            handle.close()
                            self.pending[oid] = PendingUpload(tmp, size, chunk)
                    header: dict[str, str] = {"chunk_size": str(chunk)}
                    header.update(
                        {str(n): f"{base}/_lfs/objects/{oid}/part/{n}" for n in range(1, parts + 1)}
                    )
                    upload = {"href": f"{base}/_lfs/objects/{oid}/complete", "header": header}
                else:
                    upload = {"href": f"{base}/_lfs/objects/{oid}?size={size}", "header": {}}
                answer["actions"] = {"upload": upload, "verify": verify}
            answers.append(answer)
        return answers

    def finish_upload(self, tmp: Path, oid: str, digest: str, received: int, expected: int) -> None:
        """Keep a basic upload received in ``tmp`` if it hashes to ``oid`` (and has ``expected`` bytes when >= 0)."""
        if digest != oid or (expected >= 0 and received != expected):
            tmp.unlink(missing_ok=True)
            raise BadRequest(
                f"The uploaded content does not match oid {oid} and size {expected} ({received} bytes)"
            )
        self.blobs.install(tmp, oid)

    def upload_part(self, oid: str, number: int) -> tuple[PendingUpload, int, int]:
        """The pending multipart upload of ``oid`` and the ``(offset, length)`` of part ``number``."""
        pending = self.pending.get(oid)
        if pending is None:
            raise NotFound(f"No multipart upload in progress for {oid}")
        offset = (number - 1) * pending.chunk_size
        length = min(pending.chunk_size, pending.size - offset)
        if number < 1 or length <= 0:
            raise BadRequest(f"Invalid part number {number}")
        return pending, offset, length

    def part_received(self, pending: PendingUpload, number: int) -> None:
        with self.hub.lock:
            pending.parts.add(number)

    def complete_upload(self, oid: str, listed: set[int]) -> None:
        """Assemble a multipart upload whose parts (all of them, as ``listed``) have arrived; hashes the file."""
        pending = self.pending.get(oid)
        if pending is None:
            if self.blobs.has(oid):
                return
            raise NotFound(f"No multipart upload in progress for {oid}")
        expected_parts = set(range(1, math.ceil(pending.size / pending.chunk_size) + 1))
        if pending.parts != expected_parts or listed != expected_parts:
            raise BadRequest(f"Incomplete multipart upload for {oid}: parts {sorted(pending.parts)} received")
        digest = sha256_of_file(pending.path)
        with self.hub.lock:
            self.pending.pop(oid, None)
        if digest != oid:
            pending.path.unlink(missing_ok=True)
            raise BadRequest(f"The uploaded parts do not hash to {oid}")
        self.blobs.install(pending.path, oid)

    def verify_upload(self, oid: str, claimed: Mapping[str, Any]) -> int:
        """The stored size of ``oid``; 404 when it is missing or not the ``size`` in ``claimed`` (when there)."""
        stored = self.blobs.size(oid)
        if stored is None or ("size" in claimed and claimed["size"] != stored):
            raise NotFound(f"Object {oid} was not uploaded (or has another size)")
        return stored

    def count_received(self, kind: str, nbytes: int) -> None:
        """Add ``nbytes`` a client sent to the ``kind`` counter (``"lfs"`` or ``"commit"``)."""
        with self.hub.lock:
            self.received[kind] += nbytes

    # -- commits ------------------------------------------------------------------------------------
    def check_commit_limits(self, operations: Sequence[Operation]) -> None:
        """Refuse a client's commit past the Hub's per-commit limits, before anything is applied.

        What the Hub answers is not documented (the client only documents the limits); a 400, which the
        client raises as ``BadRequestError`` ("Bad request for commit endpoint"), is the closest documented
        answer to a commit the Hub will not take.
        """
        lfs_files = sum(isinstance(op, AddLfsFile) for op in operations)
        if lfs_files > self.max_lfs_files_per_commit:
            raise BadRequest(
                f"Too many LFS files in one commit: {lfs_files} (at most {self.max_lfs_files_per_commit}); "
                "split the upload into several commits"
            )
        payload = sum(4 * math.ceil(len(op.data) / 3) for op in operations if isinstance(op, AddFile))
        if payload > self.max_regular_payload_per_commit:
            raise BadRequest(
                f"Commit payload too large: {payload} bytes of regular files (at most "
                f"{self.max_regular_payload_per_commit}); split the upload into several commits"
            )

    def _new_commit(
        self,
        repo: Repo,
        parents: list[str],
        tree: dict[str, FileEntry],
        title: str,
        message: str,
        author: str,
        *,
        date: float | None = None,
        seq: int | None = None,
    ) -> Commit:
        """A new commit of ``repo``; ``date`` and ``seq`` keep a rewritten commit's time and place in history."""
        dirs = tree_oids(tree)
        now = time.time()
        date = now if date is None else date
        timestamp = int(date)
        full_message = f"{title}\n\n{message}" if message else title
        oid = commit_oid(
            tree=dirs[""], parents=parents, author=author, timestamp=timestamp, message=full_message
        )
        while oid in repo.commits:  # same tree, parent and second: git would collide, the Hub never does
            timestamp += 1
            oid = commit_oid(
                tree=dirs[""], parents=parents, author=author, timestamp=timestamp, message=full_message
            )
        seq = next(self._seq) if seq is None else seq
        commit = Commit(oid, parents, tree, dirs, title, message, author, date, seq)
        repo.commits[oid] = commit
        repo.last_modified = now
        return commit

    def _apply(self, tree: dict[str, FileEntry], operations: Sequence[Operation]) -> None:
        for op in operations:
            _check_path_in_repo(op.path, folder=isinstance(op, DeleteFolder))
        auto = any(isinstance(op, AddFile) and op.auto_lfs for op in operations)
        patterns = self.lfs_patterns(tree) if auto else []
        for op in operations:
            if isinstance(op, AddFile):
                sha256 = self.blobs.put_bytes(op.data)
                large = op.auto_lfs and (len(op.data) > LFS_SIZE_THRESHOLD or matches_any(op.path, patterns))
                tree[op.path] = (
                    FileEntry.large(sha256, len(op.data)) if large else FileEntry.regular(op.data, sha256)
                )
            elif isinstance(op, AddLfsFile):
                size = self.blobs.size(op.oid) if len(op.oid) == 64 else None
                if size is None:
                    raise UnprocessableEntity(
                        "Your push was rejected because an LFS pointer pointed to a file that does not exist: "
                        f"{shown(op.path)}"
                    )
                if op.size is not None and op.size != size:
                    raise BadRequest(f"LFS object {op.oid} has size {size}, not {op.size} ({shown(op.path)})")
                tree[op.path] = FileEntry.large(op.oid, size)
            elif isinstance(op, DeleteFile):
                # A path that names a folder deletes the folder (the client's delete_file of a folder).
                doomed = [op.path] if op.path in tree else [p for p in tree if p.startswith(f"{op.path}/")]
                if not doomed:
                    raise EntryNotFound(f"A file with this name doesn't exist: {shown(op.path)}")
                for doomed_path in doomed:
                    del tree[doomed_path]
            else:
                prefix = f"{op.path}/" if op.path else ""
                doomed = [p for p in tree if p.startswith(prefix)]
                if not doomed:
                    raise EntryNotFound(f"A folder with this name doesn't exist: {shown(op.path)}")
                for doomed_path in doomed:
                    del tree[doomed_path]

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        revision: str,
        operations: Sequence[Operation],
        *,
        title: str,
        description: str = "",
        principal: Principal | None = None,
        author: str | None = None,
        parent_commit: str | None = None,
        create_pr: bool = False,
        base: str | None = None,
    ) -> CommitResult:
        """Commit ``operations`` on ``revision`` (a branch or ``refs/pr/N``), or open a PR with them.

        ``principal``: the caller, whose write access is checked and who authors the commit; ``None`` when
        seeding (authored by ``author``, by default the repo's namespace). ``parent_commit``: the commit the
        caller based its change on; on a branch, a stale one is refused (412); with ``create_pr`` the PR
        starts from it. ``base``: the URL discussion links use.
        """
        changes: list[RepoChange] = []
        if principal is not None:  # a client's commit; seeding is the test author's setup
            self.check_commit_limits(operations)
        with self.hub.lock:
            if principal is not None:
                repo, by = self.committer(repo_type, repo_id, revision, principal, create_pr), principal.user
            else:
                found = self.get(repo_type, repo_id)
                if found is None:
                    raise RepoNotFound()
                repo, by = found, author or found.namespace
            if create_pr:
                start = repo.resolve(parent_commit) if parent_commit else repo.resolve(revision)
                if start is None:
                    raise RevisionNotFound(parent_commit or revision)
                tree = dict(repo.commits[start].tree)
                self._apply(tree, operations)
                discussion = self._open_discussion(
                    repo, title=title, description=description, author=by, pull_request=True, base_oid=start
                )
                if not revision.startswith("refs/pr/") and revision in repo.branches:
                    discussion.base = f"refs/heads/{revision}"
                discussion.status = "open"
                changes.append(self._discussion_change(repo, discussion, base))
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
                    raise RevisionNotFound(revision)
                if parent_commit and not start.startswith(parent_commit.lower()):
                    raise PreconditionFailed(STALE_PARENT_MESSAGE)
                tree = dict(repo.commits[start].tree)
                self._apply(tree, operations)
            commit = self._new_commit(repo, [start], tree, title, description, by)
            _record_lfs_files(repo, commit, ref, operations)
            self._move_ref(repo, ref, commit.oid)
            if ref.startswith("refs/pr/"):
                pull_request = repo.discussions[int(ref.rsplit("/", 1)[1])]
                pull_request.events.append(event("commit", by, {"subject": title, "oid": commit.oid}))
            self.save()
            changes.append(_content_change(repo, ref, start, commit.oid))
        for change in changes:
            self.hub.publish(change)
        return CommitResult(repo, commit, num)

    def committer(
        self, repo_type: str, repo_id: str, revision: str, principal: Principal | None, create_pr: bool
    ) -> Repo:
        """The repo, if ``principal`` may make this commit: anyone signed in who can read it may open a PR,
        a PR's author may push to its ``refs/pr/N``, and only writers may push to a branch."""
        pr_ref = PR_REF_RE.match(revision)
        if not create_pr and pr_ref is None:
            return self.writable(repo_type, repo_id, principal)
        repo = self.readable(repo_type, repo_id, principal)
        if principal is None:
            raise Unauthorized()
        if create_pr or self.hub.can_write_namespace(principal, repo.namespace):
            return repo
        pr = repo.discussions.get(int(pr_ref.group(1))) if pr_ref else None
        if pr is None or pr.author != principal.user:
            raise Forbidden(
                f"You don't have the rights to push to {shown(revision)} of {repo_type} {repo.repo_id}"
            )
        return repo

    @staticmethod
    def _move_ref(repo: Repo, ref: str, oid: str) -> None:
        if ref.startswith("refs/pr/"):
            repo.prs[int(ref.rsplit("/", 1)[1])] = oid
        else:
            repo.branches[ref[len("refs/heads/") :]] = oid

    def super_squash(
        self, principal: Principal | None, repo_type: str, repo_id: str, branch: str, message: str | None
    ) -> Commit:
        """Replace the history of a branch or a PR ref (``refs/pr/N``) by one root commit holding its files.

        As on the Hub: tags keep pointing at their commits (which stay readable) and other refs keep
        their history; a tag is a 400 ("You cannot squash history on tags"), so is another ``refs/...``;
        a missing branch or PR is ``RevisionNotFound``. Only the repo's writers may squash. The
        message's first line is the title; without one it is the client's default,
        ``Super-squash branch '<branch>' using huggingface_hub``.
        """
        message = message or f"Super-squash branch '{branch}' using huggingface_hub"
        title, _, description = message.partition("\n")
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            assert principal is not None
            ref, old = _squash_target(repo, branch)
            tree = dict(repo.commits[old].tree)
            squashed = self._new_commit(repo, [], tree, title, description.strip(), principal.user)
            self._move_ref(repo, ref, squashed.oid)
            self.save()
        self.hub.publish(_content_change(repo, ref, old, squashed.oid))
        return squashed

    # -- LFS storage --------------------------------------------------------------------------------
    def lfs_files(self, principal: Principal | None, repo_type: str, repo_id: str) -> list[dict[str, Any]]:
        """The LFS objects the repo stores (``list_lfs_files``), whichever branch, PR or unreachable commit
        points to them, in the order they were pushed (so offset pages stay put while pushes arrive).

        Only the repo's writers may list them (the Hub shows this inventory in the repo's settings).
        """
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            return [lfs_file_json(lfs_file) for lfs_file in repo.lfs_files.values()]

    def delete_lfs_files(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        shas: Sequence[str],
        *,
        rewrite_history: bool,
    ) -> None:
        """Permanently delete the repo's LFS objects ``shas`` (``permanently_delete_lfs_files``).

        They leave the repo's inventory: ``list_lfs_files`` no longer lists them and the repo no longer
        serves them. With ``rewrite_history`` every commit pointing to one (on any branch, tag or PR, or
        unreachable) is rewritten without that file, and its descendants after it; every ref follows,
        and the original commits are dropped, as git's garbage collection would: downloading such a
        file is then 404 ``EntryNotFound``, as the Hub answers. Without it the pointers stay and their
        downloads fail (:meth:`download`). Shas the repo does not store are ignored: nothing changes.

        The blob store is shared by every repo, so an object's bytes are freed only when no repo stores
        them any more, as an LFS object or as a regular file: a deletion never breaks another repo.
        """
        wanted = {sha.lower() for sha in shas}
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            deleted = wanted & repo.lfs_files.keys()
            if not deleted:
                return
            for sha in deleted:
                del repo.lfs_files[sha]
            moved_refs = self._drop_lfs_pointers(repo, deleted) if rewrite_history else []
            for sha in self._unused_blobs(deleted):
                self.blobs.delete(sha)
            self.save()
        if moved_refs:
            self.hub.publish(_refs_change(repo, moved_refs))

    def _drop_lfs_pointers(self, repo: Repo, deleted: set[str]) -> list[dict[str, Any]]:
        """Rewrite the commits of ``repo`` that point to a ``deleted`` LFS object, and their descendants:
        same title, message, author and date, without those files. Refs, PR bases and merge commits
        follow; the original commits are dropped. Returns the moved refs, as the change feed shows them.
        """
        rewritten: dict[str, str] = {}
        for commit in sorted(repo.commits.values(), key=lambda c: c.seq):  # parents before children
            parents = [rewritten.get(parent, parent) for parent in commit.parents]
            tree = {p: e for p, e in commit.tree.items() if not (e.lfs and e.sha256 in deleted)}
            if parents != commit.parents or len(tree) != len(commit.tree):
                rewrite = self._new_commit(
                    repo,
                    parents,
                    tree,
                    commit.title,
                    commit.message,
                    commit.author,
                    date=commit.date,
                    seq=commit.seq,
                )
                rewritten[commit.oid] = rewrite.oid
        for oid in rewritten:
            del repo.commits[oid]
        moved: list[dict[str, Any]] = []
        refs: list[tuple[str, dict[Any, str]]] = [
            ("refs/heads/", repo.branches),
            ("refs/tags/", repo.tags),
            ("refs/pr/", repo.prs),
        ]
        for prefix, targets in refs:
            for name, oid in list(targets.items()):
                if oid in rewritten:
                    targets[name] = rewritten[oid]
                    moved.append({"ref": f"{prefix}{name}", "oldSha": oid, "newSha": rewritten[oid]})
        for discussion in repo.discussions.values():
            discussion.base_oid = rewritten.get(discussion.base_oid, discussion.base_oid)
            if discussion.merge_commit is not None:
                discussion.merge_commit = rewritten.get(discussion.merge_commit, discussion.merge_commit)
        return moved

    def _unused_blobs(self, shas: set[str]) -> set[str]:
        """Those of ``shas`` no repo needs: none stores them as an LFS object or as a regular file."""
        unused = set(shas)
        for repo in self.repos.values():
            unused -= repo.lfs_files.keys()
            for commit in repo.commits.values():
                if not unused:
                    return unused
                unused -= {entry.sha256 for entry in commit.tree.values() if not entry.lfs}
        return unused

    # -- history, refs, trees -----------------------------------------------------------------------
    def history(
        self, principal: Principal | None, repo_type: str, repo_id: str, revision: str
    ) -> list[Commit]:
        """The commits reachable from ``revision``, newest first."""
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            return repo.ancestors(self.commit_at(repo, revision).oid)

    def refs(
        self, principal: Principal | None, repo_type: str, repo_id: str, *, include_prs: bool
    ) -> dict[str, Any]:
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
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
            if include_prs:
                refs["pullRequests"] = [
                    {"name": str(num), "ref": f"refs/pr/{num}", "targetCommit": oid}
                    for num, oid in sorted(repo.prs.items())
                ]
        return refs

    def create_branch(
        self, principal: Principal | None, repo_type: str, repo_id: str, branch: str, starting_point: str
    ) -> None:
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            if not REF_NAME_RE.match(branch):
                raise BadRequest(f"Invalid reference for a branch: {shown(branch)}")
            if branch in repo.branches:
                raise Conflict(f"Reference refs/heads/{shown(branch)} already exists")
            start = repo.resolve(starting_point)
            if start is None:
                raise RevisionNotFound(starting_point)
            repo.branches[branch] = start
            self.save()
        self.hub.publish(_content_change(repo, f"refs/heads/{branch}", None, start))

    def delete_branch(self, principal: Principal | None, repo_type: str, repo_id: str, branch: str) -> None:
        branch = branch[len("refs/heads/") :] if branch.startswith("refs/heads/") else branch
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            if branch == "main":
                raise Forbidden("Cannot delete refs/heads/main: it is the default branch")
            old = repo.branches.pop(branch, None)
            if old is None:
                raise RevisionNotFound(branch)
            self.save()
        self.hub.publish(_content_change(repo, f"refs/heads/{branch}", old, None))

    def create_tag(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        revision: str,
        tag: str,
        message: str | None,
    ) -> None:
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            target = repo.resolve(revision)
            if target is None:
                raise RevisionNotFound(revision)
            if not REF_NAME_RE.match(tag):
                raise BadRequest(f"Invalid tag name: {shown(repr(tag))}")
            if tag in repo.tags:
                raise Conflict(f"Tag {shown(tag)} already exists")
            repo.tags[tag] = target
            if message:
                repo.tag_messages[tag] = message
            self.save()
        self.hub.publish(_content_change(repo, f"refs/tags/{tag}", None, target))

    def delete_tag(self, principal: Principal | None, repo_type: str, repo_id: str, tag: str) -> None:
        tag = tag[len("refs/tags/") :] if tag.startswith("refs/tags/") else tag
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            old = repo.tags.pop(tag, None)
            if old is None:
                raise RevisionNotFound(tag)
            repo.tag_messages.pop(tag, None)
            self.save()
        self.hub.publish(_content_change(repo, f"refs/tags/{tag}", old, None))

    def tree(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        revision: str,
        path: str,
        *,
        recursive: bool,
        expand: bool,
    ) -> list[dict[str, Any]]:
        """The entries under ``path`` at ``revision``: directories first unless ``recursive``."""
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            commit = self.commit_at(repo, revision)
            if path and path not in commit.dirs:
                raise EntryNotFound(f"Entry not found: {shown(path)} does not exist at {shown(revision)}")
            prefix = f"{path}/" if path else ""
            dirs = [d for d in commit.dirs if d and d.startswith(prefix)]
            files = [f for f in commit.tree if f.startswith(prefix)]
            if not recursive:
                dirs = [d for d in dirs if "/" not in d[len(prefix) :]]
                files = [f for f in files if "/" not in f[len(prefix) :]]
            paths = sorted(dirs) + sorted(files) if not recursive else sorted(dirs + files)
            return [entry_json(repo, commit, p, expand) for p in paths]

    def paths_info(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        revision: str,
        paths: list[str],
        *,
        expand: bool,
    ) -> list[dict[str, Any]]:
        """The entries of those ``paths`` that exist at ``revision`` (files or directories), once each."""
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            commit = self.commit_at(repo, revision)
            return [
                entry_json(repo, commit, p.strip("/"), expand)
                for p in dict.fromkeys(paths)
                if p.strip("/") in commit.tree or (p.strip("/") and p.strip("/") in commit.dirs)
            ]

    def download(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        revision: str,
        path: str,
        base: str,
        *,
        content: bool,
    ) -> Download:
        """The commit ``revision`` resolves to and ``path``'s entry there.

        ``content``: the caller wants the bytes (GET), not only the metadata (HEAD). A pointer to an LFS
        object permanently deleted from the repo without rewriting history still answers HEAD (the
        pointer is in git), but its bytes are gone: a 404 without an error code, as the storage the Hub
        redirects that GET to would answer (the client raises a plain ``HfHubHTTPError``; the Hub's
        documentation says only that such downloads fail).
        """
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            self.check_gate(repo, principal, base)
            commit = self.commit_at(repo, revision)
            entry = commit.tree.get(path)
            stored = entry is None or not entry.lfs or entry.sha256 in repo.lfs_files
        if entry is None:
            # With the commit, the client caches that the file does not exist there.
            raise EntryNotFound("Entry not found", headers={"X-Repo-Commit": commit.oid})
        if content and not stored:
            raise NotFound(
                f"The LFS object {entry.sha256} of {shown(path)} was permanently deleted from this repo"
            )
        return Download(commit, entry)

    # -- discussions --------------------------------------------------------------------------------
    @staticmethod
    def _open_discussion(
        repo: Repo, *, title: str, description: str, author: str, pull_request: bool, base_oid: str
    ) -> Discussion:
        num = max(repo.discussions, default=0) + 1
        discussion = Discussion(num, title, description, author, pull_request, time.time())
        discussion.status = "draft" if pull_request else "open"
        if description:  # the Hub shows the description as the opening comment
            discussion.events.append(comment_event(author, description))
        repo.discussions[num] = discussion
        if pull_request:
            repo.prs[num] = base_oid
            discussion.base_oid = base_oid
        return discussion

    def _discussion_change(
        self,
        repo: Repo,
        discussion: Discussion,
        base: str | None,
        action: str = "create",
        scope: str = "discussion",
    ) -> RepoChange:
        return RepoChange(
            repo_type=repo.repo_type,
            repo_id=repo.repo_id,
            scope=scope,
            action=action,
            private=repo.private,
            head_sha=repo.branches.get("main"),
            discussion=discussion_json(repo, discussion, base or self.hub.base_url),
        )

    def create_discussion(
        self,
        principal: Principal,
        repo_type: str,
        repo_id: str,
        *,
        title: str,
        description: str,
        pull_request: bool,
        base: str,
    ) -> tuple[Repo, Discussion]:
        if not title:
            raise BadRequest("A discussion needs a title")
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            discussion = self._open_discussion(
                repo,
                title=title,
                description=description,
                author=principal.user,
                pull_request=pull_request,
                base_oid=repo.branches["main"],
            )
            self.save()
            change = self._discussion_change(repo, discussion, base)
        self.hub.publish(change)
        return repo, discussion

    def discussions(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        *,
        pull_requests: bool | None,
        status: str,
        author: str | None,
    ) -> tuple[Repo, list[Discussion]]:
        """The matching discussions, newest first (``pull_requests=None``: both kinds; ``status="all"``).

        As on the Hub, ``status="open"`` lists draft PRs too, and ``"closed"`` merged ones."""
        with self.hub.lock:
            repo = self.readable(repo_type, repo_id, principal)
            return repo, [
                d
                for d in sorted(repo.discussions.values(), key=lambda d: d.num, reverse=True)
                if (pull_requests is None or d.is_pull_request == pull_requests)
                and status in ("all", LISTED_AS[d.status])
                and author in (None, d.author)
            ]

    def discussion(
        self, principal: Principal | None, repo_type: str, repo_id: str, num: int
    ) -> tuple[Repo, Discussion]:
        repo = self.readable(repo_type, repo_id, principal)
        discussion = repo.discussions.get(num)
        if discussion is None:
            raise NotFound(f"Discussion {num} not found")
        return repo, discussion

    def discussion_details(
        self, principal: Principal | None, repo_type: str, repo_id: str, num: int
    ) -> dict[str, Any]:
        with self.hub.lock:
            return discussion_details_json(*self.discussion(principal, repo_type, repo_id, num))

    def comment(
        self, principal: Principal, repo_type: str, repo_id: str, num: int, comment: str, base: str
    ) -> dict[str, Any]:
        """Add a comment; returns its event."""
        if not comment:
            raise BadRequest("A comment cannot be empty")
        with self.hub.lock:
            repo, discussion = self.discussion(principal, repo_type, repo_id, num)
            new = comment_event(principal.user, comment)
            discussion.events.append(new)
            self.save()
        self.hub.publish(self._discussion_change(repo, discussion, base, scope="discussion.comment"))
        return new

    def _moderated(
        self, principal: Principal, repo_type: str, repo_id: str, num: int, author: str | None = None
    ) -> tuple[Repo, Discussion]:
        """The discussion, if ``principal`` wrote it (or ``author``, the comment's writer) or may write the repo."""
        repo, discussion = self.discussion(principal, repo_type, repo_id, num)
        if principal.user != (author or discussion.author) and not self.hub.can_write_namespace(
            principal, repo.namespace
        ):
            raise Forbidden("Only its author or the repo's owners can change this")
        return repo, discussion

    def rename(
        self, principal: Principal, repo_type: str, repo_id: str, num: int, title: str, base: str
    ) -> dict[str, Any]:
        """Give a discussion a new title; returns the title-change event."""
        if not title.strip():
            raise BadRequest("A discussion needs a title")
        with self.hub.lock:
            repo, discussion = self._moderated(principal, repo_type, repo_id, num)
            new = event("title-change", principal.user, {"from": discussion.title, "to": title})
            discussion.title = title
            discussion.events.append(new)
            self.save()
        self.hub.publish(self._discussion_change(repo, discussion, base, action="update"))
        return new

    def _comment(self, discussion: Discussion, comment_id: str) -> dict[str, Any]:
        for found in discussion.events:
            if found["type"] == "comment" and found["id"] == comment_id.lower():
                return found
        raise NotFound(f"Comment {shown(comment_id)} not found")

    def edit_comment(
        self, principal: Principal, repo_type: str, repo_id: str, num: int, comment_id: str, content: str
    ) -> dict[str, Any]:
        """Replace a comment's text (its author, or who may write the repo); returns the updated comment."""
        if not content:
            raise BadRequest("A comment cannot be empty")
        with self.hub.lock:
            repo, discussion = self.discussion(principal, repo_type, repo_id, num)
            found = self._comment(discussion, comment_id)
            self._moderated(principal, repo_type, repo_id, num, author=found["author"]["name"])
            if found["data"]["hidden"]:
                raise Forbidden("A hidden comment cannot be edited")
            edit_comment_event(found, principal.user, content)
            self.save()
        return found

    def hide_comment(
        self, principal: Principal, repo_type: str, repo_id: str, num: int, comment_id: str
    ) -> dict[str, Any]:
        """Hide a comment for good (its author, or who may write the repo); returns the updated comment."""
        with self.hub.lock:
            repo, discussion = self.discussion(principal, repo_type, repo_id, num)
            found = self._comment(discussion, comment_id)
            self._moderated(principal, repo_type, repo_id, num, author=found["author"]["name"])
            hide_comment_event(found, principal.user)
            self.save()
        return found

    def change_status(
        self,
        principal: Principal,
        repo_type: str,
        repo_id: str,
        num: int,
        status: Any,
        comment: str | None,
        base: str,
    ) -> dict[str, Any]:
        """Open or close a discussion (its author or the repo's owners); returns the status-change event."""
        if status not in ("open", "closed"):
            raise BadRequest(f"Invalid status {shown(repr(status))}: expected 'open' or 'closed'")
        with self.hub.lock:
            repo, discussion = self._moderated(principal, repo_type, repo_id, num)
            if discussion.status == "merged":
                raise BadRequest("This pull request is already merged")
            discussion.status = str(status)
            new = event("status-change", principal.user, {"status": status})
            discussion.events.append(new)
            if comment:
                discussion.events.append(comment_event(principal.user, comment))
            self.save()
        self.hub.publish(self._discussion_change(repo, discussion, base, action="update"))
        return new

    def merge(
        self,
        principal: Principal | None,
        repo_type: str,
        repo_id: str,
        num: int,
        comment: str | None,
        base: str,
    ) -> Commit:
        """Merge a PR into its base branch: a merge commit applying the PR's changes, refused on conflicts."""
        with self.hub.lock:
            repo = self.writable(repo_type, repo_id, principal)
            assert principal is not None
            discussion = repo.discussions.get(num)
            if discussion is None or not discussion.is_pull_request:
                raise NotFound(f"Pull request {num} not found")
            if discussion.status not in ("open", "draft"):
                raise BadRequest(f"This pull request is {discussion.status}, it cannot be merged")
            branch = discussion.base[len("refs/heads/") :]
            target = repo.branches.get(branch)
            if target is None:
                raise RevisionNotFound(discussion.base)
            base_tree = repo.commits[discussion.base_oid].tree if discussion.base_oid in repo.commits else {}
            pr_head = repo.commits[repo.prs[num]]
            ours, theirs = repo.commits[target].tree, pr_head.tree
            theirs_changed = changed_paths(base_tree, theirs)
            conflicts = sorted(
                p for p in theirs_changed & changed_paths(base_tree, ours) if ours.get(p) != theirs.get(p)
            )
            if conflicts:
                raise Conflict(
                    f"Merge conflict in {shown(', '.join(conflicts))}", body={"conflicts": conflicts}
                )
            tree = dict(ours)
            for path in theirs_changed:
                if path in theirs:
                    tree[path] = theirs[path]
                else:
                    tree.pop(path, None)
            merge = self._new_commit(
                repo,
                [target, pr_head.oid],
                tree,
                f"Merge refs/pr/{num}: {discussion.title}",
                "",
                principal.user,
            )
            repo.branches[branch] = merge.oid
            discussion.status, discussion.merge_commit = "merged", merge.oid
            discussion.events.append(event("status-change", principal.user, {"status": "merged"}))
            if comment:
                discussion.events.append(comment_event(principal.user, comment))
            self.save()
        self.hub.publish(_content_change(repo, discussion.base, target, merge.oid))
        self.hub.publish(self._discussion_change(repo, discussion, base, action="update"))
        return merge


class _StateUnpickler(pickle.Unpickler):
    """Also reads a ``data_dir`` saved before the repo objects moved from ``testing._repos`` to here."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "airflow_provider_hub.testing._repos":
            module = "airflow_provider_hub.testing.backends.repo_model"
        return super().find_class(module, name)


def _check_path_in_repo(path: str, *, folder: bool) -> None:
    """A path in a commit stays inside the repo: relative, without ``.`` or ``..`` or empty segments (a folder
    delete may name the root, ``""``)."""
    if folder and path == "":
        return
    if path.startswith("/") or any(segment in ("", ".", "..") for segment in path.split("/")):
        raise BadRequest(f"Invalid path in commit: {shown(repr(path))} must be relative, inside the repo")


def _squash_target(repo: Repo, branch: str) -> tuple[str, str]:
    """The full ref and head commit of the branch or PR ref that ``super-squash`` names."""
    pr = PR_REF_RE.match(branch)
    if pr:
        head = repo.prs.get(int(pr.group(1)))
        if head is None:
            raise RevisionNotFound(branch)
        return branch, head
    name = branch.removeprefix("refs/heads/")
    if name in repo.branches:
        return f"refs/heads/{name}", repo.branches[name]
    if branch.startswith("refs/tags/") or branch in repo.tags:
        raise BadRequest("You cannot squash history on tags")
    if branch.startswith("refs/") and not branch.startswith("refs/heads/"):
        raise BadRequest(f"Invalid reference for a branch: {shown(branch)}")
    raise RevisionNotFound(branch)


def _record_lfs_files(repo: Repo, commit: Commit, ref: str, operations: Sequence[Operation]) -> None:
    """Add the LFS objects ``operations`` brought into ``repo`` to its inventory (the first push names them)."""
    for op in operations:
        entry = commit.tree.get(op.path) if isinstance(op, AddFile | AddLfsFile) else None
        if entry is not None and entry.lfs and entry.sha256 not in repo.lfs_files:
            repo.lfs_files[entry.sha256] = LfsFile(entry.sha256, entry.size, op.path, commit.date, ref)


def _lfs_inventory_from_history(repo: Repo) -> dict[str, LfsFile]:
    """The inventory of a repo saved before repos kept one: every LFS object its commits point to."""
    inventory: dict[str, LfsFile] = {}
    for commit in sorted(repo.commits.values(), key=lambda c: c.seq):
        for path, entry in commit.tree.items():
            if entry.lfs and entry.sha256 not in inventory:
                inventory[entry.sha256] = LfsFile(entry.sha256, entry.size, path, commit.date, None)
    return inventory


def _history_storage(repo: Repo) -> int:
    """Bytes of every distinct file content in any commit of ``repo``."""
    sizes = {entry.sha256: entry.size for commit in repo.commits.values() for entry in commit.tree.values()}
    return sum(sizes.values())


def _key(repo_type: str, repo_id: str) -> tuple[str, str]:
    return repo_type, repo_id.lower()


def _content_change(repo: Repo, ref: str, old: str | None, new: str | None) -> RepoChange:
    return _refs_change(repo, [{"ref": ref, "oldSha": old, "newSha": new}])


def _refs_change(repo: Repo, updated_refs: list[dict[str, Any]]) -> RepoChange:
    return RepoChange(
        repo_type=repo.repo_type,
        repo_id=repo.repo_id,
        scope="repo.content",
        action="update",
        private=repo.private,
        head_sha=repo.branches.get("main"),
        updated_refs=updated_refs,
    )


def attach(hub: HubState) -> None:
    """Create this area's backend on ``hub`` (``hub.repos``)."""
    hub.repos = RepoBackend(hub)

"""Checks of arguments and the Hub's naming constants, shared by hooks, operators, sensors, transfers, assets.

Each check raises ``ValueError`` naming the field and the value. They run on rendered values before any
network call, so a template that renders to ``"false"`` or ``"3"`` is judged as what it is. Standard library
only: DAG files import this module at parse time.

Example::

    from airflow_provider_hub.utils.checks import REPO_TYPE_PLURALS, check_repo_id, check_repo_type

    repo_id = check_repo_id("acme/sentiment", require_namespace=True)
    plural = REPO_TYPE_PLURALS[check_repo_type("dataset")]  # "datasets"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: The Hub connection every hook, operator, sensor and trigger of the provider uses unless told otherwise.
DEFAULT_CONN_ID = "huggingface_hub_default"
REPO_TYPES = ("model", "dataset", "space")
#: URL segment of each repo type on the Hub (``/datasets/org/name``, ``/api/datasets/...``) and in ``hf://`` URIs.
REPO_TYPE_PLURALS = {"model": "models", "dataset": "datasets", "space": "spaces"}
#: A Hub user or organization name.
NAMESPACE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}")
#: What a commit prepared against ``parent_commit`` does when the branch head moved: fail, or replay.
ON_HEAD_MOVED_POLICIES = ("fail", "rebase")
_REPO_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,95}")
_COMMIT_OID_RE = re.compile(r"[0-9a-fA-F]{5,40}")
#: What no git branch or tag name may contain (``git check-ref-format``): whitespace and control characters,
#: ``~ ^ : ? * [ \``, ``..`` and ``@{``.
_NOT_IN_REF_RE = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]|\.\.|@\{")


def check_bool(value: Any, field_name: str) -> bool:
    """``value`` if it is ``True`` or ``False``: ``"false"`` (a rendered template, say) would be truthy."""
    if not isinstance(value, bool):
        raise ValueError(f"{field_name} must be true or false; got {value!r}")
    return value


def check_whole_number(
    value: Any, field_name: str, *, minimum: int = 1, optional: bool = False
) -> int | None:
    """``value`` as a whole number >= ``minimum`` (a rendered digit string counts); ``None`` passes when ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{field_name} must be a whole number >= {minimum}; got {value!r}")
    return value


def check_discussion_num(value: Any, field_name: str = "discussion_num") -> int:
    """A discussion's or pull request's number (``#3``): a whole number >= 1, a rendered ``"3"`` too."""
    num = check_whole_number(value, field_name)
    assert num is not None  # not optional
    return num


def check_names(value: Any, field_name: str) -> list[str]:
    """``value`` as a list of non-empty strings (users, orgs, domains); one string is a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{field_name} must be a list of non-empty strings; got {value!r}")
    return list(value)


def check_patterns(value: Any, field_name: str) -> list[str]:
    """``value`` as a list of globs (``allow_patterns`` and the like); one glob is a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"{field_name} must be a glob or a list of globs; got {value!r}")


def check_repo_type(repo_type: Any, field_name: str = "repo_type") -> str:
    """Return ``repo_type`` if it is ``model``, ``dataset`` or ``space``; raise ``ValueError`` naming it otherwise."""
    if repo_type not in REPO_TYPES:
        raise ValueError(f"{field_name} must be one of {', '.join(REPO_TYPES)}; got {repo_type!r}")
    return repo_type


def check_repo_id(repo_id: Any, field_name: str = "repo_id", *, require_namespace: bool = False) -> str:
    """Validate a repo id with the Hub's rules (``namespace/name``; letters, digits, ``-``, ``_``, ``.``).

    :param require_namespace: reject a bare ``name``.
    :raises ValueError: naming the field and the value.
    """
    if not isinstance(repo_id, str) or not repo_id:
        raise ValueError(f"{field_name} must be a non-empty string like 'namespace/name'; got {repo_id!r}")
    parts = repo_id.split("/")
    if len(parts) > 2 or (require_namespace and len(parts) != 2):
        raise ValueError(f"{field_name} must look like 'namespace/name'; got {repo_id!r}")
    for part in parts:
        if (
            not _REPO_NAME_RE.fullmatch(part)
            or part.endswith((".", "-"))
            or "--" in part
            or ".." in part
            or part.endswith(".git")
        ):
            raise ValueError(
                f"{field_name} {repo_id!r} is not a valid Hub repo id: each part uses letters, digits, '-', '_' "
                "or '.', does not start or end with '-' or '.', has no '--' or '..', and is at most 96 characters"
            )
    return repo_id


def check_path_in_repo(path: Any, field_name: str = "path_in_repo", *, allow_root: bool = False) -> str:
    """Normalise a path inside a repo (no leading ``/``); reject ``..`` segments and ``.git``/``.cache`` folders."""
    if path is None and allow_root:
        return ""
    if not isinstance(path, str):
        raise ValueError(f"{field_name} must be a string; got {path!r}")
    normalised = path.strip("/")
    segments = [s for s in normalised.split("/") if s not in ("", ".")]
    if any(s == ".." for s in segments):
        raise ValueError(f"{field_name} {path!r} escapes the repository ('..' is not allowed)")
    if any(s in (".git", ".cache") for s in segments):
        raise ValueError(
            f"{field_name} {path!r} points into a '.git' or '.cache' folder, which the Hub refuses"
        )
    if not segments and not allow_root:
        raise ValueError(f"{field_name} must name a file in the repository; got {path!r}")
    return "/".join(segments)


def check_parent_commit(parent_commit: Any, field_name: str = "parent_commit") -> str | None:
    if parent_commit is None or parent_commit == "":
        return None
    if not isinstance(parent_commit, str) or not _COMMIT_OID_RE.fullmatch(parent_commit):
        raise ValueError(f"{field_name} must be a commit id (5 to 40 hex characters); got {parent_commit!r}")
    return parent_commit.lower()


def check_revision(revision: Any, field_name: str = "revision") -> None:
    """Raise ``ValueError`` naming the field for a value no branch, tag or commit can have.

    ``None`` and ``""`` are the default branch.
    """
    if revision is None or revision == "":
        return
    if not isinstance(revision, str) or _NOT_IN_REF_RE.search(revision):
        raise ValueError(
            f"{field_name} must be a branch, tag or commit (no spaces, '..' or any of ~^:?*[\\); got {revision!r}"
        )


def check_commit_message(message: Any, field_name: str = "commit_message") -> None:
    if not str(message or "").strip():
        raise ValueError(f"{field_name} must not be empty; got {message!r}")


def check_namespace(namespace: Any, field_name: str = "namespace") -> str:
    """``namespace`` if it can be a Hub user or organization name (it becomes a URL path segment)."""
    if not isinstance(namespace, str) or not NAMESPACE_RE.fullmatch(namespace):
        raise ValueError(f"{field_name} must be a Hub user or organization name; got {namespace!r}")
    return namespace


#: The Hub's repository recommendations and limits (docs/hub/repositories-recommendations, as
#: ``upload_large_folder`` checked them): past these a repo still works but gets slow to use.
RECOMMENDED_MAX_REPO_FILES = 100_000
RECOMMENDED_MAX_FOLDER_ENTRIES = 10_000
RECOMMENDED_MAX_FILE_SIZE = 20 * 10**9
#: The Hub refuses a file larger than this.
MAX_FILE_SIZE = 50 * 10**9


def repository_limit_warnings(sizes: Mapping[str, int]) -> list[str]:
    """What breaks the Hub's recommendations in ``{path in repo: size}``; raise ``ValueError`` for a file past
    the hard limit (naming it and its size), so a large upload fails before it starts, not hours into it.

    A folder's entries are its files and its subfolders, as the Hub counts them.
    """
    too_large = [(path, size) for path, size in sizes.items() if size > MAX_FILE_SIZE]
    if too_large:
        listed = ", ".join(f"{path!r} ({size:,} bytes)" for path, size in too_large[:10])
        raise ValueError(
            f"{len(too_large)} file(s) larger than the Hub's limit of {MAX_FILE_SIZE:,} bytes (50 GB) "
            f"per file: {listed}; split them first"
        )
    warnings: list[str] = []
    if len(sizes) > RECOMMENDED_MAX_REPO_FILES:
        warnings.append(
            f"{len(sizes):,} files: more than the {RECOMMENDED_MAX_REPO_FILES:,} the Hub recommends per repo"
        )
    entries: dict[str, set[str]] = {}
    for path in sizes:
        parts = path.split("/")
        for depth in range(len(parts)):
            entries.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
    for folder, names in sorted(entries.items()):
        if len(names) > RECOMMENDED_MAX_FOLDER_ENTRIES:
            warnings.append(
                f"folder {folder or '(the root)'!r} has {len(names):,} entries: more than the "
                f"{RECOMMENDED_MAX_FOLDER_ENTRIES:,} the Hub recommends per folder"
            )
    for path, size in sizes.items():
        if size > RECOMMENDED_MAX_FILE_SIZE:
            warnings.append(
                f"file {path!r} has {size:,} bytes: more than the {RECOMMENDED_MAX_FILE_SIZE:,} (20 GB) "
                "the Hub recommends per file"
            )
    return warnings

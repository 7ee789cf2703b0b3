"""What a Hub webhook delivery says, as the receiver, the listener and the triggers read it.

Pure functions of the Hub's payload (see ``WebhookPayload`` in huggingface_hub's ``_webhooks_payload.py``):
no I/O, no heavy imports, so the api-server plugin and the triggers share them at no cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_TYPE_PREFIXES = {"models/": "model", "datasets/": "dataset", "spaces/": "space"}
#: A receiver path: one URL segment, as the Hub's webhook URL carries it after ``/hf-webhooks/``.
_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_path(path: Any) -> str:
    """The receiver path ``path`` names (``"hf-webhook"``; a leading ``/`` is accepted and dropped).

    :raises ValueError: naming ``path`` when it is not one URL segment of letters, digits, ``.``, ``_``, ``-``.
    """
    value = path[1:] if isinstance(path, str) and path.startswith("/") else path
    if not isinstance(value, str) or not _PATH.fullmatch(value):
        raise ValueError(
            f"path must be one URL segment of letters, digits, '.', '_' or '-' (like 'hf-webhook'); got {path!r}"
        )
    return value


def parse_watched_repo(value: str) -> tuple[str, str]:
    """``"alice/x"`` -> ``("model", "alice/x")``; ``"datasets/alice/x"`` -> ``("dataset", "alice/x")``."""
    if not isinstance(value, str):
        raise ValueError(
            f"repo_ids entries must be strings like 'alice/x' or 'datasets/alice/x'; got {value!r}"
        )
    repo_type = "model"
    for prefix, kind in _TYPE_PREFIXES.items():
        if value.startswith(prefix):
            repo_type, value = kind, value[len(prefix) :]
            break
    if value.count("/") != 1 or not all(value.split("/")):
        raise ValueError(
            f"repo_ids entry {value!r} must be 'namespace/name', optionally prefixed 'datasets/' or 'spaces/'"
        )
    return repo_type, value


def event_matches(event: str, wanted: Iterable[str] | None) -> bool:
    """Whether ``event`` (``"repo.content.update"``) is selected by ``wanted`` (exact or dotted prefix)."""
    if wanted is None:
        return True
    return any(event == w or event.startswith(w + ".") for w in wanted)


def compact_event(payload: dict[str, Any]) -> dict[str, Any]:
    """The trigger's event payload from the Hub's webhook payload.

    :raises ValueError: when ``payload`` is not a Hub webhook payload.
    """
    try:
        event, repo = payload["event"], payload["repo"]
        scope, action = event["scope"], event["action"]
        repo_type, repo_id = repo["type"], repo["name"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a Hub webhook payload (missing {exc})") from exc
    if not all(isinstance(v, str) for v in (scope, action, repo_type, repo_id)):
        raise ValueError("not a Hub webhook payload (event scope/action and repo type/name must be strings)")
    refs = payload.get("updatedRefs") or []
    if not isinstance(refs, list) or not all(
        isinstance(r, dict) and isinstance(r.get("ref"), str) for r in refs
    ):
        raise ValueError("not a Hub webhook payload (updatedRefs must be a list of {ref, oldSha, newSha})")
    updated_refs = [{"ref": r["ref"], "old_sha": r.get("oldSha"), "new_sha": r.get("newSha")} for r in refs]
    main = next((r for r in updated_refs if r["ref"] == "refs/heads/main"), None)
    head_sha = repo.get("headSha") or repo.get("head_sha")
    compact: dict[str, Any] = {
        "repo_id": repo_id,
        "repo_type": repo_type,
        "event": f"{scope}.{action}",
        "revision": "main",
        "head_sha": main["new_sha"] if main else head_sha,
        "updated_refs": updated_refs,
        "source": "webhook",
    }
    discussion = payload.get("discussion")
    if isinstance(discussion, dict):
        compact["discussion"] = {
            "num": discussion.get("num"),
            "title": discussion.get("title"),
            "is_pull_request": discussion.get("isPullRequest"),
            "status": discussion.get("status"),
        }
    return compact


def event_from_body(body: bytes) -> dict[str, Any] | None:
    """The trigger's event payload from a delivery's raw body; ``None`` when it is not a Hub payload."""
    try:
        payload = json.loads(body)
        return compact_event(payload) if isinstance(payload, dict) else None
    except (ValueError, RecursionError):
        return None


def moves_main(event: dict[str, Any]) -> bool:
    """Whether a delivery reports ``main``'s head, the one the watermark tracks (and a redelivery repeats).

    A tag, a PR or another branch leaves ``main`` where it was: such a delivery fires without the watermark.
    """
    if event["event"] != "repo.content.update" or not event["head_sha"]:
        return False
    refs = [r["ref"] for r in event["updated_refs"]]
    return not refs or "refs/heads/main" in refs

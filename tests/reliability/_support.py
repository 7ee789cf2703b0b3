"""Helpers of the reliability suite: repo snapshots and generated upload folders."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

KiB = 1024


def repo_state(
    api: Any, repo_id: str, revision: str = "main", *, repo_type: str = "model"
) -> dict[str, tuple[str, str | None]]:
    """``{path: (git blob id, LFS sha256 or None)}`` of every file of the repo at ``revision``."""
    from huggingface_hub.hf_api import RepoFile

    return {
        entry.path: (entry.blob_id, entry.lfs.sha256 if entry.lfs else None)
        for entry in api.list_repo_tree(repo_id, revision=revision, repo_type=repo_type, recursive=True)
        if isinstance(entry, RepoFile)
    }


def commit_count(api: Any, repo_id: str, revision: str = "main", *, repo_type: str = "model") -> int:
    return len(api.list_repo_commits(repo_id, revision=revision, repo_type=repo_type))


def deterministic_bytes(seed: str, size: int) -> bytes:
    """``size`` bytes that depend only on ``seed`` (two runs upload the same content)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 32
        counter += 1
    return bytes(out[:size])


def make_model_folder(folder: Path, *, lfs_bytes: int = 256 * KiB, small_files: int = 10) -> Path:
    """A checkpoint folder: one LFS file (``*.safetensors``), a config and ``small_files`` text files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(deterministic_bytes("weights", lfs_bytes))
    (folder / "config.json").write_text('{"labels": 2}')
    notes = folder / "notes"
    notes.mkdir(exist_ok=True)
    for index in range(small_files):
        (notes / f"note_{index:03d}.txt").write_text(f"note {index}\n")
    (folder / "scratch.txt").write_text("temporary")
    return folder

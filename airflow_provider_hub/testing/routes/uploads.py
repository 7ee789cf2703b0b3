"""Routes of the repos area that bring content in: preupload, the LFS batch API and transfers, commits.

LFS objects are streamed to disk as they arrive (basic uploads hashed on the way, multipart parts
written in place), so memory does not grow with file size; the commit route parses the NDJSON payload
into :mod:`~airflow_provider_hub.testing.backends.repos` operations and hands them to
:meth:`~airflow_provider_hub.testing.backends.repos.RepoBackend.commit`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from airflow_provider_hub.testing._git import BackgroundHasher
from airflow_provider_hub.testing.backends.repos import (
    AddFile,
    AddLfsFile,
    DeleteFile,
    DeleteFolder,
    Operation,
)
from airflow_provider_hub.testing.errors import BadRequest, shown
from airflow_provider_hub.testing.http import (
    api_repo_type,
    base_url,
    is_true,
    json_body,
    repo_route,
    segment,
    state_of,
    web_repo_type,
    web_route,
)

LFS_JSON = "application/vnd.git-lfs+json"

router = APIRouter()


@repo_route(router, "/preupload/{revision}", ["POST"])
async def preupload(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    files = []
    for item in body.get("files") or []:
        try:
            sample = base64.b64decode(item.get("sample") or "")
        except ValueError:
            sample = b""
        files.append((str(item.get("path", "")), int(item.get("size") or 0), sample))
    return hub.repos.preupload(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        segment(revision),
        files,
        body.get("gitIgnore"),
        create_pr=is_true(request.query_params.get("create_pr")),
    )


@web_route(router, ".git/info/lfs/objects/batch", ["POST"])
async def lfs_batch(request: Request, namespace: str, name: str) -> JSONResponse:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    if body.get("operation", "upload") != "upload":
        raise BadRequest("The emulator's LFS batch API serves uploads only; download through /resolve")
    objects = hub.repos.lfs_batch(
        principal, web_repo_type(request), f"{namespace}/{name}", body.get("objects") or [], base_url(request)
    )
    return JSONResponse({"transfer": "basic", "objects": objects}, media_type=LFS_JSON)


@router.put("/_lfs/objects/{oid}")
async def lfs_upload(request: Request, oid: str) -> Response:
    """Basic transfer: the whole object in one PUT, hashed and written to disk as it arrives."""
    repos = state_of(request).repos
    expected = int(request.query_params.get("size", "-1"))
    handle, tmp = repos.blobs.new_temp()
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
        repos.count_received("lfs", received)
        digest = await asyncio.to_thread(hasher.hexdigest)
    repos.finish_upload(tmp, oid, digest, received, expected)
    return Response(status_code=200)


@router.put("/_lfs/objects/{oid}/part/{number}")
async def lfs_upload_part(request: Request, oid: str, number: int) -> Response:
    """Multipart transfer: part ``number`` is written in place at its offset."""
    repos = state_of(request).repos
    pending, offset, length = repos.upload_part(oid, number)
    received = 0
    try:
        with open(pending.path, "r+b") as handle:
            handle.seek(offset)
            async for chunk in request.stream():
                received += len(chunk)
                if received > length:
                    raise BadRequest(f"Part {number} is larger than {length} bytes")
                handle.write(chunk)
    finally:
        repos.count_received("lfs", received)
    if received != length:
        raise BadRequest(f"Part {number} has {received} bytes, expected {length}")
    repos.part_received(pending, number)
    return Response(status_code=200, headers={"ETag": f'"{oid[:20]}-{number}"'})


@router.post("/_lfs/objects/{oid}/complete")
async def lfs_complete(request: Request, oid: str) -> JSONResponse:
    repos = state_of(request).repos
    body = await json_body(request)
    listed = {int(part.get("partNumber", 0)) for part in body.get("parts") or []}
    await asyncio.to_thread(repos.complete_upload, oid, listed)
    return JSONResponse({}, media_type=LFS_JSON)


@router.post("/_lfs/verify/{oid}")
async def lfs_verify(request: Request, oid: str) -> JSONResponse:
    size = state_of(request).repos.verify_upload(oid, await json_body(request))
    return JSONResponse({"oid": oid, "size": size}, media_type=LFS_JSON)


def _operations(lines: list[dict[str, Any]]) -> list[Operation]:
    """The commit operations of the NDJSON payload's lines after the header."""
    operations: list[Operation] = []
    for line in lines:
        key, value = line.get("key"), line.get("value") or {}
        path = str(value.get("path", ""))
        if key == "deletedFolder":
            path = path.removesuffix("/")  # the client names a folder with its slash
        if key in ("file", "lfsFile", "deletedFile") and not path:
            raise BadRequest(f"Missing path in {key} operation")
        if key == "file":
            if value.get("encoding", "base64") != "base64":
                raise BadRequest(f"Unsupported encoding {value.get('encoding')!r} for {shown(path)}")
            operations.append(AddFile(path, base64.b64decode(value.get("content") or "")))
        elif key == "lfsFile":
            size = value.get("size")
            operations.append(
                AddLfsFile(path, str(value.get("oid", "")).lower(), int(size) if size is not None else None)
            )
        elif key == "deletedFile":
            operations.append(DeleteFile(path))
        elif key == "deletedFolder":
            operations.append(DeleteFolder(path))
        else:
            raise BadRequest(f"Unknown commit operation {key!r}")
    return operations


@repo_route(router, "/commit/{revision}", ["POST"])
async def create_commit(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    repo_type, repo_id = api_repo_type(request), f"{namespace}/{name}"
    # Permissions are answered before the payload is looked at, as on the Hub.
    create_pr = is_true(request.query_params.get("create_pr"))
    hub.repos.committer(repo_type, repo_id, segment(revision), principal, create_pr)
    body = await request.body()
    hub.repos.count_received("commit", len(body))
    try:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    except ValueError as exc:
        raise BadRequest(f"Invalid NDJSON commit payload: {exc}") from exc
    if not lines or lines[0].get("key") != "header":
        raise BadRequest("The first line of a commit payload must be the header")
    header = lines[0].get("value") or {}
    title = str(header.get("summary") or "").strip()
    if not title:
        raise BadRequest("A commit needs a summary")
    operations = _operations(lines[1:])
    base = base_url(request)
    parent_commit = header.get("parentCommit")
    result = hub.repos.commit(
        repo_type,
        repo_id,
        segment(revision),
        operations,
        title=title,
        principal=principal,
        description=str(header.get("description") or ""),
        parent_commit=str(parent_commit) if parent_commit else None,
        create_pr=create_pr,
        base=base,
    )
    url_path = result.repo.url_path
    return {
        "success": True,
        "commitOid": result.commit.oid,
        "commitUrl": f"{base}/{url_path}/commit/{result.commit.oid}",
        "hookOutput": "",
        "pullRequestUrl": f"{base}/{url_path}/discussions/{result.pr_num}"
        if result.pr_num is not None
        else None,
    }

"""Routes of the repos area: create, delete, move, settings, info, listings (the public ones and a namespace's
own, with storage), history, refs, LFS storage, trees, downloads.

Each route parses its request, calls :class:`~airflow_provider_hub.testing.backends.repos.RepoBackend`
(``hub.repos``) and renders the answer; uploads and commits are in :mod:`.uploads`, discussions and
pull requests in :mod:`.discussions`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from airflow_provider_hub.testing.backends.repo_model import commit_json, parse_front_matter
from airflow_provider_hub.testing.errors import BadRequest, RangeNotSatisfiable
from airflow_provider_hub.testing.http import (
    api_repo_type,
    base_url,
    expand,
    is_true,
    json_body,
    offset,
    page_response,
    paginated,
    repo_route,
    segment,
    state_of,
    web_repo_type,
    web_route,
)

router = APIRouter()


# -- create / delete / move / settings --------------------------------------------------------------
@router.post("/api/repos/create")
async def create_repo(request: Request) -> JSONResponse:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request)
    repo_type = body.get("type") or "model"
    # A Space's hardware, sleep time, secrets, variables and volumes: checked before the repo exists.
    space_settings = hub.spaces.new_space_settings(body) if repo_type == "space" else None
    repo, url = hub.repos.create_repo(
        principal,
        repo_type,
        body.get("name") or "",
        namespace=body.get("organization"),
        private=body.get("visibility", "private" if body.get("private") else "public") == "private",
        sdk=body.get("sdk"),
        base=base_url(request),
    )
    if space_settings is not None:
        hub.spaces.configure_new(repo.repo_id, space_settings)
    return JSONResponse({"url": url, "name": repo.repo_id, "id": repo.uid})


def _repo_in_body(body: dict[str, Any], user: str) -> tuple[str, str]:
    return body.get("type") or "model", f"{body.get('organization') or user}/{body.get('name')}"


@router.delete("/api/repos/delete")
async def delete_repo(request: Request) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    repo_type, repo_id = _repo_in_body(await json_body(request), principal.user)
    hub.repos.delete_repo(principal, repo_type, repo_id)
    return {}


@router.post("/api/repos/move")
async def move_repo(request: Request) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.require_principal(request)
    body = await json_body(request)
    source, target = str(body.get("fromRepo", "")), str(body.get("toRepo", ""))
    hub.repos.move_repo(principal, body.get("type") or "model", source, target)
    return {}


@repo_route(router, "/settings", ["PUT"], kernels=False)
async def update_settings(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    changes = {"gated": body["gated"]} if "gated" in body else {}
    visibility = body.get("visibility")
    if visibility is None and "private" in body:
        visibility = "private" if body["private"] else "public"
    if visibility is not None:
        changes["visibility"] = visibility
    repo = hub.repos.update_settings(principal, api_repo_type(request), f"{namespace}/{name}", changes)
    return {"gated": repo.gated, "private": repo.private}


# -- info, listing ----------------------------------------------------------------------------------
def _info(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub = state_of(request)
    return hub.repos.info(
        hub.principal(request),
        api_repo_type(request),
        f"{namespace}/{name}",
        revision,
        expand=expand(request),
        blobs=is_true(request.query_params.get("blobs")),
    )


@repo_route(router, "", ["GET"])
async def repo_info(request: Request, namespace: str, name: str) -> dict[str, Any]:
    return _info(request, namespace, name, "main")


@repo_route(router, "/revision/{revision}", ["GET"])
async def repo_info_at(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    return _info(request, namespace, name, segment(revision))


@repo_route(router, "/auth-check", ["GET"], kernels=False)
async def auth_check(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    hub.repos.check_access(api_repo_type(request), f"{namespace}/{name}", principal, base_url(request))
    return {}


@repo_route(router, "/auth-check/write", ["GET"], kernels=False)
async def auth_check_write(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.repos.writable(api_repo_type(request), f"{namespace}/{name}", hub.principal(request))
    return {}


def _list_repos(request: Request, repo_type: str) -> Response:
    hub = state_of(request)
    principal = hub.principal(request)
    params = request.query_params
    page_size = hub.repos.page_size
    if params.get("limit", "").isdigit():
        page_size = max(1, min(int(params["limit"]), page_size))
    start = offset(request)
    page, total = hub.repos.list_repos(
        principal,
        repo_type,
        author=params.get("author"),
        search=params.get("search") or "",
        gated=is_true(params["gated"]) if params.get("gated") is not None else None,
        pipeline_tag=params.get("pipeline_tag"),
        tags=[t for value in params.getlist("filter") for t in value.split(",") if t],
        providers=[p for value in params.getlist("inference_provider") for p in value.split(",") if p],
        expand=expand(request),
        full=is_true(params.get("full")),
        card_data=is_true(params.get("cardData")),
        sort=params.get("sort"),
        descending=params.get("direction", "-1") == "-1",
        start=start,
        limit=page_size,
    )
    return page_response(request, page, start, total, page_size)


@router.get("/api/models")
async def list_models(request: Request) -> Response:
    return _list_repos(request, "model")


@router.get("/api/datasets")
async def list_datasets(request: Request) -> Response:
    return _list_repos(request, "dataset")


@router.get("/api/spaces")
async def list_spaces(request: Request) -> Response:
    return _list_repos(request, "space")


@router.get("/api/settings/repositories")
async def list_own_repos(request: Request) -> Response:
    hub = state_of(request)
    return paginated(request, hub.repos.storage_listing(hub.require_principal(request)), hub.repos.page_size)


@router.get("/api/organizations/{org}/settings/repositories")
async def list_org_repos(request: Request, org: str) -> Response:
    hub = state_of(request)
    repos = hub.repos.storage_listing(hub.require_principal(request), org)
    return paginated(request, repos, hub.repos.page_size)


@router.post("/api/validate-yaml")
async def validate_yaml(request: Request) -> JSONResponse:
    body = await json_body(request)
    try:
        parse_front_matter(str(body.get("content", "")))
    except ValueError as exc:
        return JSONResponse({"errors": [{"message": str(exc)}], "warnings": []}, status_code=400)
    return JSONResponse({"errors": [], "warnings": []})


# -- history and refs -------------------------------------------------------------------------------
@repo_route(router, "/super-squash/{branch}", ["POST"], kernels=False)
async def super_squash(request: Request, namespace: str, name: str, branch: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    squashed = hub.repos.super_squash(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        segment(branch),
        str(body["message"]) if body.get("message") else None,
    )
    return {"commitId": squashed.oid}


@repo_route(router, "/lfs-files", ["GET"])
async def list_lfs_files(request: Request, namespace: str, name: str) -> Response:
    hub = state_of(request)
    items = hub.repos.lfs_files(hub.principal(request), api_repo_type(request), f"{namespace}/{name}")
    return paginated(request, items, hub.repos.lfs_files_page_size)


@repo_route(router, "/lfs-files/batch", ["POST"])
async def delete_lfs_files(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    deletions = (await json_body(request, required=True)).get("deletions")
    deletions = deletions if isinstance(deletions, dict) else {}
    # permanently_delete_lfs_files always sends rewriteHistory; its default is to rewrite.
    shas, rewrite_history = deletions.get("sha"), deletions.get("rewriteHistory", True)
    if (
        not isinstance(shas, list)
        or not all(isinstance(sha, str) for sha in shas)
        or not isinstance(rewrite_history, bool)
    ):
        raise BadRequest('Expected {"deletions": {"sha": [sha256, ...], "rewriteHistory": true|false}}')
    hub.repos.delete_lfs_files(
        principal, api_repo_type(request), f"{namespace}/{name}", shas, rewrite_history=rewrite_history
    )
    return {}


@repo_route(router, "/commits/{revision}", ["GET"])
async def list_commits(request: Request, namespace: str, name: str, revision: str) -> Response:
    hub = state_of(request)
    params = request.query_params
    formatted = "formatted" in expand(request)
    commits = hub.repos.history(
        hub.principal(request), api_repo_type(request), f"{namespace}/{name}", segment(revision)
    )
    items = [commit_json(commit, formatted) for commit in commits]
    page_size = int(params["limit"]) if params.get("limit", "").isdigit() else hub.repos.commits_page_size
    return paginated(request, items, max(page_size, 1), key="p", headers={"X-Total-Count": str(len(items))})


@repo_route(router, "/refs", ["GET"])
async def list_refs(request: Request, namespace: str, name: str) -> dict[str, Any]:
    hub = state_of(request)
    return hub.repos.refs(
        hub.principal(request),
        api_repo_type(request),
        f"{namespace}/{name}",
        include_prs=is_true(request.query_params.get("include_prs")),
    )


@repo_route(router, "/branch/{branch}", ["POST"])
async def create_branch(request: Request, namespace: str, name: str, branch: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    hub.repos.create_branch(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        segment(branch),
        str(body.get("startingPoint") or "main"),
    )
    return {}


@repo_route(router, "/branch/{branch}", ["DELETE"])
async def delete_branch(request: Request, namespace: str, name: str, branch: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.repos.delete_branch(
        hub.principal(request), api_repo_type(request), f"{namespace}/{name}", segment(branch)
    )
    return {}


@repo_route(router, "/tag/{revision}", ["POST"])
async def create_tag(request: Request, namespace: str, name: str, revision: str) -> dict[str, Any]:
    hub = state_of(request)
    principal = hub.principal(request)
    body = await json_body(request)
    hub.repos.create_tag(
        principal,
        api_repo_type(request),
        f"{namespace}/{name}",
        segment(revision),
        str(body.get("tag") or ""),
        str(body["message"]) if body.get("message") else None,
    )
    return {}


@repo_route(router, "/tag/{tag}", ["DELETE"])
async def delete_tag(request: Request, namespace: str, name: str, tag: str) -> dict[str, Any]:
    hub = state_of(request)
    hub.repos.delete_tag(hub.principal(request), api_repo_type(request), f"{namespace}/{name}", segment(tag))
    return {}


# -- tree, paths-info -------------------------------------------------------------------------------
def _tree(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    hub = state_of(request)
    params = request.query_params
    expanded = is_true(params.get("expand"))
    items = hub.repos.tree(
        hub.principal(request),
        api_repo_type(request),
        f"{namespace}/{name}",
        segment(revision),
        segment(path).strip("/"),
        recursive=is_true(params.get("recursive")),
        expand=expanded,
    )
    page_size = hub.repos.tree_page_size
    # The Hub pages expanded trees (last commit of each entry) in much smaller pages.
    return paginated(request, items, min(page_size, 50) if expanded else page_size)


@repo_route(router, "/tree/{revision}", ["GET"])
async def list_tree(request: Request, namespace: str, name: str, revision: str) -> Response:
    return _tree(request, namespace, name, revision, "")


@repo_route(router, "/tree/{revision}/{path:path}", ["GET"])
async def list_tree_under(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    return _tree(request, namespace, name, revision, path)


@repo_route(router, "/paths-info/{revision}", ["POST"])
async def paths_info(request: Request, namespace: str, name: str, revision: str) -> list[dict[str, Any]]:
    hub = state_of(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await json_body(request)
        paths, expanded = list(body.get("paths") or []), bool(body.get("expand"))
    else:
        form = await request.form()
        paths, expanded = [str(p) for p in form.getlist("paths")], is_true(str(form.get("expand", "false")))
    return hub.repos.paths_info(
        hub.principal(request),
        api_repo_type(request),
        f"{namespace}/{name}",
        segment(revision),
        paths,
        expand=expanded,
    )


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
        raise RangeNotSatisfiable(
            "Requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, min(end, size)


def _content_disposition(filename: str) -> str:
    """``inline`` with an ASCII fallback and the RFC 5987 UTF-8 name (headers must stay latin-1)."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@web_route(router, "/resolve/{revision}/{path:path}", ["GET", "HEAD"])
async def resolve(request: Request, namespace: str, name: str, revision: str, path: str) -> Response:
    hub = state_of(request)
    path = segment(path)
    download = hub.repos.download(
        hub.principal(request),
        web_repo_type(request),
        f"{namespace}/{name}",
        segment(revision),
        path,
        base_url(request),
        content=request.method == "GET",
    )
    entry = download.entry
    etag = f'"{entry.sha256}"' if entry.lfs else f'"{entry.blob_id}"'
    headers = {
        "X-Repo-Commit": download.commit.oid,
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
        hub.repos.blobs.iter_range(entry.sha256, start, end), status_code=status, headers=headers
    )

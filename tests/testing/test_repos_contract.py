"""Contract tests of the emulator's repo area, driven by the real ``huggingface_hub`` client.

Each test talks HTTP to the session emulator through ``HfApi`` (uploads with ``HF_HUB_DISABLE_XET=1``,
so LFS files go through the LFS batch API), exactly as a DAG's hook would.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfApi,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from airflow_provider_hub.testing import HubEmulator

MiB = 1024 * 1024


def _big_file(path: Path, size: int, seed: bytes = b"x") -> str:
    """Write ``size`` deterministic pseudo-random bytes; returns their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        block = hashlib.sha512(seed).digest() * (MiB // 64)
        written = 0
        while written < size:
            chunk = block[: size - written]
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return digest.hexdigest()


def test_create_repo_has_gitattributes_and_initial_commit(api: HfApi, hub_connection: HubEmulator) -> None:
    url = api.create_repo("alice/first")
    assert url.repo_id == "alice/first"
    assert url.startswith(hub_connection.url)

    info = api.model_info("alice/first")
    assert len(info.sha) == 40
    assert [s.rfilename for s in info.siblings] == [".gitattributes"]
    assert info.private is False and info.gated is False
    commits = api.list_repo_commits("alice/first")
    assert [c.title for c in commits] == ["initial commit"]
    assert commits[0].commit_id == info.sha
    attributes = Path(hf_hub_download("alice/first", ".gitattributes")).read_text()
    assert "*.safetensors filter=lfs diff=lfs merge=lfs -text" in attributes

    # exist_ok reads the url from the 409 body; without it the client raises the Hub's conflict.
    assert api.create_repo("alice/first", exist_ok=True).repo_id == "alice/first"
    with pytest.raises(HfHubHTTPError, match="You already created this model repo") as conflict:
        api.create_repo("alice/first")
    assert conflict.value.response.status_code == 409


def test_create_repo_in_org_and_types(api: HfApi, hub_connection: HubEmulator) -> None:
    assert api.create_repo("acme/data", repo_type="dataset", private=True).repo_type == "dataset"
    info = api.dataset_info("acme/data")
    assert info.private is True
    assert (
        "*.png filter=lfs"
        in Path(
            hf_hub_download("acme/data", ".gitattributes", repo_type="dataset", token=hub_connection.token)
        ).read_text()
    )
    hub_connection.add_user("mallory")
    with pytest.raises(
        HfHubHTTPError, match='rights to create a model under the namespace "mallory"'
    ) as denied:
        api.create_repo("mallory/x")
    assert denied.value.response.status_code == 403


def test_delete_repo(api: HfApi) -> None:
    api.create_repo("alice/doomed")
    api.delete_repo("alice/doomed")
    assert api.repo_exists("alice/doomed") is False
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo("alice/doomed")
    api.delete_repo("alice/doomed", missing_ok=True)


def test_upload_folder_regular_and_lfs_basic(api: HfApi, hub_connection: HubEmulator, tmp_path: Path) -> None:
    api.create_repo("alice/model")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "sub" / "notes.txt").write_text("hello")
    (folder / "README.md").write_text(
        "---\nlicense: mit\npipeline_tag: text-generation\ntags: [demo]\n---\n# Hi\n"
    )
    sha = _big_file(folder / "big.bin", 12 * MiB)
    hub_connection.reset_counts()

    info = api.upload_folder(repo_id="alice/model", folder_path=folder, commit_message="Add model")

    assert len(info.oid) == 40
    assert hub_connection.request_count("/alice/model.git/info/lfs/objects/batch", "POST") == 1
    assert hub_connection.request_count("/_lfs/objects/*", "PUT") == 1  # one basic PUT
    assert hub_connection.request_count("/_lfs/verify/*", "POST") == 1
    model = api.model_info("alice/model", files_metadata=True)
    assert model.sha == info.oid
    assert model.pipeline_tag == "text-generation"
    assert model.card_data["license"] == "mit"
    assert "demo" in model.tags and "license:mit" in model.tags
    siblings = {s.rfilename: s for s in model.siblings}
    assert set(siblings) == {".gitattributes", "README.md", "big.bin", "config.json", "sub/notes.txt"}
    assert siblings["big.bin"].lfs.sha256 == sha and siblings["big.bin"].size == 12 * MiB
    assert siblings["config.json"].lfs is None
    assert siblings["config.json"].blob_id == hashlib.sha1(b'blob 8\0{"a": 1}').hexdigest()

    # Unchanged files are detected through the preupload oids: no new commit, no upload.
    hub_connection.reset_counts()
    again = api.upload_folder(repo_id="alice/model", folder_path=folder, commit_message="Again")
    assert again.oid == info.oid
    assert hub_connection.request_count("/api/models/alice/model/commit/*") == 0
    assert hub_connection.request_count("/_lfs/objects/*") == 0


def test_upload_folder_delete_patterns(api: HfApi, tmp_path: Path) -> None:
    api.create_repo("alice/sync")
    api.create_commit(
        "alice/sync",
        operations=[CommitOperationAdd("old/a.txt", b"a"), CommitOperationAdd("keep.md", b"k")],
        commit_message="old",
    )
    (tmp_path / "new.txt").write_text("new")
    api.upload_folder(repo_id="alice/sync", folder_path=tmp_path, delete_patterns=["*.txt"])
    assert sorted(api.list_repo_files("alice/sync")) == [".gitattributes", "keep.md", "new.txt"]
    with pytest.raises(EntryNotFoundError):
        api.delete_folder("old", repo_id="alice/sync")


def test_upload_lfs_multipart(api: HfApi, hub_connection: HubEmulator, tmp_path: Path) -> None:
    hub_connection.state.repos.lfs_multipart_threshold = 8 * MiB
    hub_connection.state.repos.lfs_chunk_size = 5 * MiB
    api.create_repo("alice/parts")
    path = tmp_path / "weights.safetensors"
    sha = _big_file(path, 12 * MiB + 123, seed=b"multipart")
    hub_connection.reset_counts()

    api.upload_file(path_or_fileobj=path, path_in_repo="weights.safetensors", repo_id="alice/parts")

    assert hub_connection.request_count("/_lfs/objects/*/part/*", "PUT") == 3
    assert hub_connection.request_count("/_lfs/objects/*/complete", "POST") == 1
    downloaded = hf_hub_download("alice/parts", "weights.safetensors")
    assert hashlib.sha256(Path(downloaded).read_bytes()).hexdigest() == sha
    meta = api.get_hf_file_metadata(url=f"{hub_connection.url}/alice/parts/resolve/main/weights.safetensors")
    assert meta.etag == sha and meta.size == 12 * MiB + 123


def test_gitignore_files_are_not_committed(api: HfApi, tmp_path: Path) -> None:
    api.create_repo("alice/ignored")
    (tmp_path / ".gitignore").write_text("*.log\nscratch/\n")
    (tmp_path / "keep.txt").write_text("keep")
    (tmp_path / "debug.log").write_text("noise")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "tmp.txt").write_text("tmp")
    api.upload_folder(repo_id="alice/ignored", folder_path=tmp_path)
    assert sorted(api.list_repo_files("alice/ignored")) == [".gitattributes", ".gitignore", "keep.txt"]


def test_small_file_matching_gitattributes_is_lfs(api: HfApi) -> None:
    api.create_repo("alice/small-lfs")
    api.upload_file(path_or_fileobj=b"data", path_in_repo="tiny.bin", repo_id="alice/small-lfs")
    [entry] = api.get_paths_info("alice/small-lfs", ["tiny.bin"])
    assert entry.lfs is not None and entry.lfs.sha256 == hashlib.sha256(b"data").hexdigest()
    assert entry.size == 4


def test_create_commit_every_operation(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/ops")
    first = api.create_commit(
        "alice/ops",
        operations=[
            CommitOperationAdd("a.txt", b"alpha"),
            CommitOperationAdd("dir/b.txt", b"beta"),
            CommitOperationAdd("dir/c.txt", b"gamma"),
            CommitOperationAdd("model.bin", b"\0binary weights"),
        ],
        commit_message="add files",
    )
    second = api.create_commit(
        "alice/ops",
        operations=[
            CommitOperationCopy("a.txt", "copy-of-a.txt"),
            CommitOperationCopy("model.bin", "model-copy.bin"),
            CommitOperationDelete("dir/b.txt"),
        ],
        commit_message="copy and delete",
        commit_description="details here",
    )
    third = api.create_commit(
        "alice/ops",
        operations=[
            CommitOperationCopy("model.bin", "old-model.bin", src_revision=first.oid),
            CommitOperationDelete("dir/", is_folder=True),
            CommitOperationAdd("model.bin", b"\0new weights"),
        ],
        commit_message="copy from an older revision",
        parent_commit=second.oid,
    )
    files = hub_connection.state.repos.files("model", "alice/ops")
    assert set(files) == {
        ".gitattributes",
        "a.txt",
        "copy-of-a.txt",
        "model.bin",
        "model-copy.bin",
        "old-model.bin",
    }
    infos = {
        e.path: e for e in api.get_paths_info("alice/ops", ["model.bin", "old-model.bin", "model-copy.bin"])
    }
    assert infos["old-model.bin"].lfs.sha256 == hashlib.sha256(b"\0binary weights").hexdigest()
    assert infos["model.bin"].lfs.sha256 == hashlib.sha256(b"\0new weights").hexdigest()
    assert infos["model-copy.bin"].lfs.sha256 == infos["old-model.bin"].lfs.sha256
    commits = api.list_repo_commits("alice/ops")
    assert [c.commit_id for c in commits[:3]] == [third.oid, second.oid, first.oid]
    assert commits[1].message == "details here"
    with pytest.raises(EntryNotFoundError, match="A file with this name doesn't exist"):
        api.delete_file("gone.txt", repo_id="alice/ops")


def test_stale_parent_commit_is_rejected(api: HfApi) -> None:
    api.create_repo("alice/race")
    parent = api.model_info("alice/race").sha
    api.upload_file(path_or_fileobj=b"one", path_in_repo="one.txt", repo_id="alice/race")
    with pytest.raises(HfHubHTTPError, match="The branch was updated since you opened this page") as stale:
        api.create_commit(
            "alice/race",
            operations=[CommitOperationAdd("two.txt", b"two")],
            commit_message="late",
            parent_commit=parent,
        )
    assert stale.value.response.status_code == 412


def test_create_pr(api: HfApi, hub_connection: HubEmulator, tmp_path: Path) -> None:
    api.create_repo("alice/pr")
    main_before = api.model_info("alice/pr").sha
    info = api.create_commit(
        "alice/pr",
        operations=[CommitOperationAdd("proposal.txt", b"idea")],
        commit_message="Propose",
        create_pr=True,
    )
    assert info.pr_num == 1 and info.pr_revision == "refs/pr/1"
    assert info.pr_url.endswith("/alice/pr/discussions/1")
    assert api.model_info("alice/pr").sha == main_before
    assert api.model_info("alice/pr", revision="refs/pr/1").sha == info.oid
    details = api.get_discussion_details("alice/pr", 1)
    assert details.is_pull_request and details.target_branch == "refs/heads/main"
    # A second commit onto the PR ref itself, as upload_folder(create_pr=True) does.
    (tmp_path / "more.txt").write_text("more")
    folder_info = api.upload_folder(
        repo_id="alice/pr", folder_path=tmp_path, create_pr=True, commit_message="More"
    )
    assert folder_info.pr_revision == "refs/pr/2"
    refs = api.list_repo_refs("alice/pr", include_pull_requests=True)
    assert {r.ref for r in refs.pull_requests} == {"refs/pr/1", "refs/pr/2"}
    api.create_discussion("alice/pr", title="Question")
    listed = list(api.get_repo_discussions("alice/pr"))
    assert [(d.num, d.is_pull_request) for d in listed] == [(3, False), (2, True), (1, True)]
    assert [d.num for d in api.get_repo_discussions("alice/pr", discussion_type="pull_request")] == [2, 1]


def test_branches_tags_and_refs(api: HfApi) -> None:
    api.create_repo("alice/refs")
    initial = api.model_info("alice/refs").sha
    latest = api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/refs").oid
    api.create_branch("alice/refs", branch="dev")
    api.create_branch("alice/refs", branch="from-initial", revision=initial)
    with pytest.raises(HfHubHTTPError, match="Reference refs/heads/dev already exists"):
        api.create_branch("alice/refs", branch="dev")
    api.create_branch("alice/refs", branch="dev", exist_ok=True)
    api.create_tag("alice/refs", tag="v1", tag_message="first")
    api.create_tag("alice/refs", tag="v0", revision=initial[:7])
    with pytest.raises(HfHubHTTPError) as twice:
        api.create_tag("alice/refs", tag="v1")
    assert twice.value.response.status_code == 409
    api.create_tag("alice/refs", tag="v1", exist_ok=True)
    with pytest.raises(RevisionNotFoundError):
        api.create_tag("alice/refs", tag="nope", revision="foobar")

    refs = api.list_repo_refs("alice/refs")
    assert {b.name: b.target_commit for b in refs.branches} == {
        "main": latest,
        "dev": latest,
        "from-initial": initial,
    }
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": latest, "v0": initial}
    assert api.model_info("alice/refs", revision="v0").sha == initial

    with pytest.raises(HfHubHTTPError, match="Cannot delete refs/heads/main"):
        api.delete_branch("alice/refs", branch="main")
    with pytest.raises(HfHubHTTPError, match="Invalid rev id"):
        api.delete_branch("alice/refs", branch="missing")
    api.delete_branch("alice/refs", branch="dev")
    api.delete_tag("alice/refs", tag="v1")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/refs", revision="dev")
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag("alice/refs", tag="v1")
    assert api.revision_exists("alice/refs", "v0") is True
    assert api.revision_exists("alice/refs", "v1") is False


def test_downloads_with_range_and_metadata(api: HfApi, hub_connection: HubEmulator, tmp_path: Path) -> None:
    api.create_repo("alice/dl")
    content = bytes(range(256)) * 40
    commit = api.create_commit(
        "alice/dl",
        operations=[
            CommitOperationAdd("data/table.txt", content),
            CommitOperationAdd("weights.pt", b"\0" * 1000),
        ],
        commit_message="files",
    ).oid
    path = hf_hub_download("alice/dl", "data/table.txt", cache_dir=tmp_path / "c1")
    assert Path(path).read_bytes() == content
    meta = api.get_hf_file_metadata(url=f"{hub_connection.url}/alice/dl/resolve/main/weights.pt")
    assert (
        meta.commit_hash == commit
        and meta.etag == hashlib.sha256(b"\0" * 1000).hexdigest()
        and meta.size == 1000
    )

    import httpx

    url = f"{hub_connection.url}/alice/dl/resolve/main/data/table.txt"
    partial = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206 and partial.content == content[10:20]
    assert partial.headers["content-range"] == f"bytes 10-19/{len(content)}"
    assert httpx.get(url, headers={"Range": "bytes=-5"}).content == content[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={len(content)}-"}).status_code == 416

    snapshot = Path(snapshot_download("alice/dl", cache_dir=tmp_path / "c2"))
    assert (snapshot / "data" / "table.txt").read_bytes() == content
    assert (snapshot / "weights.pt").stat().st_size == 1000
    assert snapshot.name == commit

    with pytest.raises(EntryNotFoundError):
        hf_hub_download("alice/dl", "missing.txt", cache_dir=tmp_path / "c3")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("alice/dl", "weights.pt", revision="nope", cache_dir=tmp_path / "c3")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("alice/nothing", "weights.pt", cache_dir=tmp_path / "c3")
    assert api.file_exists("alice/dl", "weights.pt") is True
    assert api.file_exists("alice/dl", "nope.pt") is False


def test_non_ascii_paths(api: HfApi, tmp_path: Path) -> None:
    api.create_repo("alice/unicode")
    api.upload_file(path_or_fileobj="é".encode(), path_in_repo="données/日本 語.txt", repo_id="alice/unicode")
    path = hf_hub_download("alice/unicode", "données/日本 語.txt", cache_dir=tmp_path, token=api.token)
    assert Path(path).read_text() == "é"
    assert [e.path for e in api.list_repo_tree("alice/unicode", path_in_repo="données")] == [
        "données/日本 語.txt"
    ]
    with pytest.raises(EntryNotFoundError):
        api.delete_file("données/ø.txt", repo_id="alice/unicode")


def test_validate_yaml_rejects_bad_front_matter(api: HfApi) -> None:
    api.create_repo("alice/card")
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        api.upload_file(
            path_or_fileobj=b"---\nkey: [unclosed\n---\n", path_in_repo="README.md", repo_id="alice/card"
        )


def test_private_repo_is_not_found_for_others(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/secret", private=True)
    api.upload_file(path_or_fileobj=b"s", path_in_repo="s.txt", repo_id="alice/secret")
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    anonymous = HfApi(endpoint=hub_connection.url, token=False)
    for client in (bob, anonymous):
        with pytest.raises(RepositoryNotFoundError):
            client.model_info("alice/secret")
        assert client.repo_exists("alice/secret") is False
        assert "alice/secret" not in {m.id for m in client.list_models(author="alice")}
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("alice/secret", "s.txt", token=bob.token)
    assert api.model_info("alice/secret").private is True


def test_write_needs_rights(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/public")
    bob = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))
    reader = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice", role="read"))
    assert bob.model_info("alice/public").id == "alice/public"
    for client in (bob, reader):
        with pytest.raises(HfHubHTTPError) as denied:
            client.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/public")
        assert denied.value.response.status_code == 403


def test_gated_repo_downloads(api: HfApi, hub_connection: HubEmulator, tmp_path: Path) -> None:
    from huggingface_hub.errors import GatedRepoError

    api.create_repo("alice/gated")
    api.upload_file(path_or_fileobj=b"w", path_in_repo="w.txt", repo_id="alice/gated")
    api.update_repo_settings("alice/gated", gated="manual")
    bob_token = hub_connection.add_user("bob")
    bob = HfApi(endpoint=hub_connection.url, token=bob_token)
    assert bob.model_info("alice/gated").gated == "manual"
    assert bob.repo_exists("alice/gated") is True
    with pytest.raises(GatedRepoError) as gated:
        hf_hub_download("alice/gated", "w.txt", token=bob_token, cache_dir=tmp_path)
    assert gated.value.response.status_code == 403
    with pytest.raises(GatedRepoError) as anonymous:
        bob.auth_check("alice/gated", token=False)
    assert anonymous.value.response.status_code == 401
    assert (
        Path(
            hf_hub_download("alice/gated", "w.txt", token=api.token, cache_dir=tmp_path / "owner")
        ).read_bytes()
        == b"w"
    )
    api.update_repo_settings("alice/gated", gated=False)
    assert (
        Path(hf_hub_download("alice/gated", "w.txt", token=bob_token, cache_dir=tmp_path / "b")).read_bytes()
        == b"w"
    )


def test_python_store_api(hub_connection: HubEmulator, api: HfApi) -> None:
    repos = hub_connection.state.repos
    repo = repos.ensure("dataset", "acme/seeded", private=True, gated="auto")
    assert (repo.repo_type, repo.repo_id, repo.private, repo.gated) == (
        "dataset",
        "acme/seeded",
        True,
        "auto",
    )
    oid = repos.commit_files("dataset", "acme/seeded", {"train.csv": b"a,b\n1,2\n"})
    assert repos.get("dataset", "acme/seeded").head() == oid == api.dataset_info("acme/seeded").sha
    assert repos.files("dataset", "acme/seeded") == {
        ".gitattributes": len(repos.blobs.read_bytes(repo.commits[oid].tree[".gitattributes"].sha256)),
        "train.csv": 8,
    }
    assert repos.get("model", "acme/none") is None
    assert os.path.isdir(repos.root)
    assert (repo.private, repo.gated) == (True, "auto"), "seeding files must keep the repo's settings"


class _AccessGrants:
    """Stands in for the access-requests store's ``has_access`` (the interface this area consumes)."""

    def __init__(self, granted: set[tuple[str, str, str]]) -> None:
        self.granted = granted

    def has_access(self, repo_type: str, repo_id: str, user: str) -> bool:
        return (repo_type, repo_id, user) in self.granted


def test_gated_download_asks_the_access_store(
    api: HfApi, hub_connection: HubEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub.errors import GatedRepoError

    api.create_repo("acme/gated-data", repo_type="dataset")
    api.upload_file(
        path_or_fileobj=b"rows", path_in_repo="rows.csv", repo_id="acme/gated-data", repo_type="dataset"
    )
    api.update_repo_settings("acme/gated-data", repo_type="dataset", gated="auto")
    carol, dave = hub_connection.add_user("carol"), hub_connection.add_user("dave")
    monkeypatch.setattr(
        hub_connection.state,
        "access",
        _AccessGrants({("dataset", "acme/gated-data", "carol")}),
        raising=False,
    )
    path = hf_hub_download(
        "acme/gated-data", "rows.csv", repo_type="dataset", token=carol, cache_dir=tmp_path / "c"
    )
    assert Path(path).read_bytes() == b"rows"
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            "acme/gated-data", "rows.csv", repo_type="dataset", token=dave, cache_dir=tmp_path / "d"
        )
    with pytest.raises(GatedRepoError):
        HfApi(endpoint=hub_connection.url, token=dave).file_exists(
            "acme/gated-data", "rows.csv", repo_type="dataset"
        )

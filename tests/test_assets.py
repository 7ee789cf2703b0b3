"""``hf://`` assets: the factory, the URI handler registered with Airflow, and parse-time cost."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from airflow_provider_hub.assets import create_asset, hf_asset, parse_hf_uri, sanitize_uri


@pytest.mark.parametrize(
    ("repo_id", "repo_type", "uri"),
    [
        ("acme/sentiment", "model", "hf://models/acme/sentiment"),
        ("acme/reviews", "dataset", "hf://datasets/acme/reviews"),
        ("acme/demo.v2", "space", "hf://spaces/acme/demo.v2"),
    ],
)
def test_hf_asset_builds_the_repo_uri(repo_id: str, repo_type: str, uri: str) -> None:
    asset = hf_asset(repo_id, repo_type)
    assert asset.uri == uri and asset.name == uri


@pytest.mark.parametrize(
    ("repo_id", "repo_type", "message"),
    [
        ("acme/x", "models", "repo_type must be one of model, dataset, space; got 'models'"),
        ("sentiment", "model", "repo_id must look like 'namespace/name'; got 'sentiment'"),
        ("acme/a/b", "model", "repo_id must look like 'namespace/name'; got 'acme/a/b'"),
        ("acme/-bad", "model", "repo_id 'acme/-bad' is not a valid Hub repo id"),
        ("acme/bad.", "model", "repo_id 'acme/bad.' is not a valid Hub repo id"),
        ("acme/a..b", "model", "repo_id 'acme/a..b' is not a valid Hub repo id"),
        ("acme/" + "x" * 97, "model", "is not a valid Hub repo id"),
        ("", "model", "repo_id must be a non-empty string"),
    ],
)
def test_hf_asset_rejects_malformed_repos(repo_id: str, repo_type: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        hf_asset(repo_id, repo_type)
    assert message in str(excinfo.value)


def test_sanitize_uri_normalises_and_validates() -> None:
    assert (
        sanitize_uri(urlsplit("hf://datasets/acme/reviews?x=1#frag")).geturl() == "hf://datasets/acme/reviews"
    )
    for uri, message in [
        ("hf://buckets/acme/x", "the first part must be models, datasets or spaces; got 'buckets'"),
        ("hf://models/acme", "must be hf://models/<namespace>/<name> (one repo)"),
        ("hf://models/acme/x/file.bin", "must be hf://models/<namespace>/<name> (one repo)"),
        ("hf://models/acme/bad--name", "repo id 'acme/bad--name' is not a valid Hub repo id"),
    ]:
        with pytest.raises(ValueError) as excinfo:
            sanitize_uri(urlsplit(uri))
        assert message in str(excinfo.value) and uri in str(excinfo.value)


def test_airflow_uses_the_registered_handler_for_hf_uris() -> None:
    from airflow.sdk import Asset

    assert Asset("hf://datasets/acme/reviews/").uri == "hf://datasets/acme/reviews"
    with pytest.raises(ValueError, match="the first part must be models, datasets or spaces"):
        Asset("hf://nope/acme/reviews")
    with pytest.raises(ValueError, match="is not a valid Hub repo id"):
        Asset("hf://models/acme/..")


def test_create_asset_factory_and_uri_parsing() -> None:
    assert create_asset(path="models/acme/x").uri == "hf://models/acme/x"
    assert create_asset(path="hf://spaces/acme/demo", extra={"k": "v"}).extra == {"k": "v"}
    assert parse_hf_uri("hf://datasets/acme/reviews/data/x.parquet") == (
        "dataset",
        "acme/reviews",
        "data/x.parquet",
    )
    with pytest.raises(ValueError, match="must start with hf://models/, hf://datasets/ or hf://spaces/"):
        parse_hf_uri("hf://repos/acme/x")


def test_assets_and_operators_do_not_import_huggingface_hub_at_parse_time() -> None:
    code = (
        "import sys\n"
        "import airflow_provider_hub.assets, airflow_provider_hub.operators.repo, airflow_provider_hub.sensors.repo\n"
        "import airflow_provider_hub.triggers.repo, airflow_provider_hub.transfers.s3_to_hub\n"
        "import airflow_provider_hub.transfers.hub_to_s3\n"
        "from airflow_provider_hub.assets import hf_asset\n"
        "hf_asset('acme/x', 'dataset')\n"
        "print('huggingface_hub' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_hf_asset_carries_its_watchers() -> None:
    from airflow.sdk import AssetWatcher

    from airflow_provider_hub.triggers.webhooks import HfRepoCommitTrigger

    trigger = HfRepoCommitTrigger(repo_id="acme/reviews", repo_type="dataset")
    asset = hf_asset("acme/reviews", "dataset", watchers=[AssetWatcher(name="head", trigger=trigger)])
    assert asset.uri == "hf://datasets/acme/reviews"
    assert [(w.name, w.trigger) for w in asset.watchers] == [("head", trigger)]

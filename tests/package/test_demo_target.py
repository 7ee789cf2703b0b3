"""``make demo`` pointed at a Hub by ``HF_TOKEN``: the connection and run conf it gives Airflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hub.demo import REAL_HUB_PROVIDER_MODEL, airflow_environment, real_hub_target


def test_real_hub_target_uses_the_tokens_namespace_and_a_served_model(
    hub_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_DEMO_NAMESPACE", raising=False)
    monkeypatch.delenv("HF_DEMO_PROVIDER_MODEL", raising=False)
    monkeypatch.setenv("HF_TOKEN", hub_emulator.token)
    target = real_hub_target(hub_emulator.token, hub_emulator.url)
    assert json.loads(target.connection) == {
        "conn_type": "huggingface_hub",
        "host": hub_emulator.url,
        "password": hub_emulator.token,
        "extra": {"namespace": hub_emulator.user},
    }
    assert target.run_conf == {"provider_model": REAL_HUB_PROVIDER_MODEL}
    env = airflow_environment(tmp_path, target)
    # The token travels in the connection only.
    assert "HF_TOKEN" not in env and env["HF_ENDPOINT"] == hub_emulator.url
    assert env["AIRFLOW_CONN_HUGGINGFACE_HUB_DEFAULT"] == target.connection


def test_a_rejected_token_stops_the_demo_with_the_reason(hub_emulator: Any) -> None:
    with pytest.raises(SystemExit, match="did not accept it"):
        real_hub_target("hf_wrong", hub_emulator.url)

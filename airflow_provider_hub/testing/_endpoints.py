"""Emulator area: endpoints (being built)."""

from __future__ import annotations

from fastapi import APIRouter

from airflow_provider_hub.testing._core import HubState

router = APIRouter()


def attach(hub: HubState) -> None:
    """Create this area's store on ``hub``."""

"""``get_provider_info()``: a bad dict breaks ``airflow providers list`` for every provider, so check it all."""

from __future__ import annotations

import importlib
import json
from importlib.metadata import distribution, entry_points
from importlib.resources import files
from typing import Any

import jsonschema
import pytest
from packaging.utils import canonicalize_name

from airflow_provider_hub.get_provider_info import get_provider_info
from airflow_provider_hub.hooks.hub import HfHubAsyncHook, HfHubHook
from airflow_provider_hub.hooks.settings import CONNECTION_EXTRAS

DISTRIBUTION = "airflow-provider-hub"


def airflow_schema(name: str) -> dict[str, Any]:
    return json.loads(files("airflow").joinpath(name).read_text())


@pytest.fixture(scope="module")
def info() -> dict[str, Any]:
    return get_provider_info()


def test_valid_against_the_runtime_schema(info: dict[str, Any]) -> None:
    jsonschema.validate(info, airflow_schema("provider_info.schema.json"))


def test_connection_types_valid_against_the_strict_schema(info: dict[str, Any]) -> None:
    strict = airflow_schema("provider.yaml.schema.json")
    jsonschema.validate(
        info, {"type": "object", "properties": {"connection-types": strict["properties"]["connection-types"]}}
    )


def test_package_name_is_the_canonical_distribution_name(info: dict[str, Any]) -> None:
    assert info["package-name"] == canonicalize_name(distribution(DISTRIBUTION).metadata["Name"])


def test_registered_through_the_entry_point() -> None:
    (entry_point,) = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.dist.name == DISTRIBUTION
    ]
    assert entry_point.load() is get_provider_info


def test_connection_type_matches_the_hooks(info: dict[str, Any]) -> None:
    (connection_type,) = info["connection-types"]
    assert connection_type["connection-type"] == HfHubHook.conn_type == HfHubAsyncHook.conn_type
    assert connection_type["hook-class-name"] == f"{HfHubHook.__module__}.{HfHubHook.__qualname__}"
    assert connection_type["hook-name"] == HfHubHook.hook_name


def test_every_extra_the_hook_reads_has_a_form_field(info: dict[str, Any]) -> None:
    """The form hides the raw ``extra`` field: an extra without a form field cannot be set from the UI."""
    (connection_type,) = info["connection-types"]
    assert set(CONNECTION_EXTRAS) <= set(connection_type["conn-fields"])


def _listed_modules(info: dict[str, Any]) -> set[str]:
    modules: set[str] = set()
    for key in ("hooks", "operators", "sensors", "triggers"):
        for entry in info.get(key, []):
            modules.update(entry["python-modules"])
    modules.update(entry["python-module"] for entry in info.get("transfers", []))
    modules.update(info.get("filesystems", []))
    return modules


def _listed_objects(info: dict[str, Any]) -> set[str]:
    objects = set(info.get("extra-links", []))
    objects.update(entry["hook-class-name"] for entry in info["connection-types"])
    objects.update(entry["class-name"] for entry in info.get("task-decorators", []))
    for entry in info.get("asset-uris", []):
        objects.update(
            entry[key] for key in ("handler", "factory", "to_openlineage_converter") if entry.get(key)
        )
    return objects


def test_every_listed_module_imports(info: dict[str, Any]) -> None:
    missing = []
    for module in sorted(_listed_modules(info)):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but one of its imports is missing: a real failure
                raise
            missing.append(module)
    assert not missing, f"listed in get_provider_info() but missing: {missing}"


def test_every_listed_class_and_function_resolves(info: dict[str, Any]) -> None:
    unresolved = []
    for path in sorted(_listed_objects(info)):
        module_name, _, attribute = path.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            unresolved.append(path)
            continue
        if not hasattr(module, attribute):
            unresolved.append(path)
    assert not unresolved, f"listed in get_provider_info() but not found: {unresolved}"


def test_trigger_modules_are_listed(info: dict[str, Any]) -> None:
    """``airflow providers triggers`` shows only listed modules: each triggers module must be there."""
    import pkgutil

    import airflow_provider_hub.triggers as triggers

    listed = {module for entry in info["triggers"] for module in entry["python-modules"]}
    present = {
        f"{triggers.__name__}.{module.name}"
        for module in pkgutil.iter_modules(triggers.__path__)
        if not module.name.startswith("_")  # shared helpers, no triggers of their own
    }
    assert present <= listed


def test_config_section_is_well_formed(info: dict[str, Any]) -> None:
    for section in info["config"].values():
        for option in section["options"].values():
            assert {"description", "version_added", "type", "example", "default"} <= set(option)

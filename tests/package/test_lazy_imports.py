"""DAG parsing stays cheap: the modules DAG files import do not import ``huggingface_hub``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: Modules and packages a DAG file imports at parse time.
PARSE_TIME_MODULES = (
    "airflow_provider_hub",
    "airflow_provider_hub.get_provider_info",
    "airflow_provider_hub.operators",
    "airflow_provider_hub.sensors",
    "airflow_provider_hub.triggers",
    "airflow_provider_hub.links",
    "airflow_provider_hub.assets",
    "airflow_provider_hub.decorators",
    "airflow_provider_hub.transfers",
)

# Runs in a fresh interpreter. Modules are imported one by one and sys.modules is checked after each, so the
# first module that pulls huggingface_hub in is the one reported.
PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    import airflow.sdk  # the baseline every DAG file pays anyway
    assert "huggingface_hub" not in sys.modules, "airflow itself imported huggingface_hub"

    checked, offender = [], None
    for name in json.loads(sys.argv[1]):
        module = importlib.import_module(name)
        names = [name]
        if hasattr(module, "__path__"):
            names += [info.name for info in pkgutil.walk_packages(module.__path__, prefix=name + ".")]
        for submodule in names:
            importlib.import_module(submodule)
            checked.append(submodule)
            if "huggingface_hub" in sys.modules:
                offender = submodule
                break
        if offender:
            break
    print(json.dumps({"checked": checked, "offender": offender}))
    """
)


def test_parse_time_modules_do_not_import_huggingface_hub() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(PARSE_TIME_MODULES)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["offender"] is None, f"{report['offender']} imports huggingface_hub at module level"
    checked = set(report["checked"])
    # Discovery found the modules, not just the packages.
    assert {"airflow_provider_hub.operators.repo", "airflow_provider_hub.triggers.jobs"} <= checked
    assert set(PARSE_TIME_MODULES) <= checked

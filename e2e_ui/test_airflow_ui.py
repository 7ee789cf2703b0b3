"""What a user sees of the provider in the Airflow UI, checked in headless Chromium.

Run with ``make e2e-ui`` (or ``pytest e2e_ui``); screenshots land in ``e2e_ui/screenshots/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from airflow_provider_hub.get_provider_info import get_provider_info
from e2e_ui.harness import AirflowUI, api_get

pytestmark = pytest.mark.e2e_ui

UI_TIMEOUT = 30


def _hub_connection_type() -> dict[str, Any]:
    (connection_type,) = get_provider_info()["connection-types"]
    return connection_type


def _visible_labels(container: Any) -> set[str]:
    """The text of every label the user can see in ``container``, required-field markers stripped."""
    return {
        label.text.replace("*", "").strip()
        for label in container.find_elements(By.TAG_NAME, "label")
        if label.is_displayed()
    }


def _input_labelled(container: Any, label_text: str) -> Any:
    label = container.find_element(By.XPATH, f".//label[normalize-space()='{label_text}']")
    return container.find_element(By.ID, label.get_attribute("for"))


def test_connection_form_shows_the_hub_fields(
    airflow_ui: AirflowUI, browser: Any, screenshots_dir: Path
) -> None:
    connection_type = _hub_connection_type()
    behaviour = connection_type["ui-field-behaviour"]
    relabeled = behaviour["relabeling"]
    extra_fields = connection_type["conn-fields"].values()
    # Airflow labels its standard fields "Login", "Port", "Schema"; "extra" is the JSON section, not a field.
    hidden_labels = {name.capitalize() for name in behaviour["hidden-fields"] if name != "extra"}
    wait = WebDriverWait(browser, UI_TIMEOUT)
    browser.set_window_size(1440, 1100)

    browser.get(f"{airflow_ui.base_url}/connections")
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[contains(., 'Add Connection')]"))).click()
    dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
    dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]").send_keys(connection_type["hook-name"])
    option = (By.XPATH, f"//*[@role='option'][normalize-space()='{connection_type['hook-name']}']")
    wait.until(ec.element_to_be_clickable(option)).click()

    # "Standard Fields" opens first: the relabeled host and password, nothing the provider hides.
    wait.until(lambda _: set(relabeled.values()) <= _visible_labels(dialog))
    labels = _visible_labels(dialog)
    browser.save_screenshot(str(screenshots_dir / "connection_form_standard_fields.png"))
    assert hidden_labels and not labels & hidden_labels, (
        f"hidden fields shown: {sorted(labels & hidden_labels)}"
    )
    for field, placeholder in behaviour["placeholders"].items():
        assert _input_labelled(dialog, relabeled[field]).get_attribute("placeholder") == placeholder
    assert _input_labelled(dialog, relabeled["password"]).get_attribute("type") == "password"

    # One section is open at a time: unfolding "Extra Fields" folds "Standard Fields".
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Extra Fields']"))).click()
    extra_labels = {field["label"] for field in extra_fields}
    wait.until(lambda _: extra_labels <= _visible_labels(dialog))
    browser.save_screenshot(str(screenshots_dir / "connection_form_extra_fields.png"))
    for field in extra_fields:
        assert field["description"] in dialog.text


def test_finished_task_links_to_its_commit(
    airflow_ui: AirflowUI, browser: Any, screenshots_dir: Path
) -> None:
    demo = airflow_ui.demo
    assert api_get(airflow_ui.base_url, demo.task_api_path)["state"] == "success"
    wait = WebDriverWait(browser, UI_TIMEOUT)
    browser.set_window_size(1440, 1000)

    browser.get(f"{airflow_ui.base_url}{demo.task_path}/details")
    commit_link = wait.until(
        ec.visibility_of_element_located((By.XPATH, "//a[normalize-space()='Hugging Face commit']"))
    )

    browser.save_screenshot(str(screenshots_dir / "task_commit_link.png"))
    assert (
        commit_link.get_attribute("href") == f"{airflow_ui.hub.url}/{demo.repo_id}/commit/{demo.commit_oid}"
    )
    assert commit_link.get_attribute("target") == "_blank"  # another origin: opens in a new tab
    repo_link = browser.find_element(By.XPATH, "//a[normalize-space()='Hugging Face repo']")
    assert repo_link.get_attribute("href") == f"{airflow_ui.hub.url}/{demo.repo_id}"

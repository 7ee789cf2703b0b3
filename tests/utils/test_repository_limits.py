"""The Hub's repository limits as ``HfUploadLargeFolderOperator`` checks them before sending anything."""

from __future__ import annotations

import pytest

from airflow_provider_hub.utils.checks import (
    MAX_FILE_SIZE,
    RECOMMENDED_MAX_FILE_SIZE,
    RECOMMENDED_MAX_FOLDER_ENTRIES,
    RECOMMENDED_MAX_REPO_FILES,
    repository_limit_warnings,
)


def test_the_limits_are_the_hubs() -> None:
    assert (RECOMMENDED_MAX_REPO_FILES, RECOMMENDED_MAX_FOLDER_ENTRIES) == (100_000, 10_000)
    assert (RECOMMENDED_MAX_FILE_SIZE, MAX_FILE_SIZE) == (20_000_000_000, 50_000_000_000)


def test_within_the_recommendations_nothing_is_said() -> None:
    sizes = {f"data/{i // 5000:02d}/{i}.parquet": 1000 for i in range(RECOMMENDED_MAX_REPO_FILES - 1)}
    sizes["big.bin"] = RECOMMENDED_MAX_FILE_SIZE
    assert repository_limit_warnings(sizes) == []


def test_too_many_files_in_the_repo_and_in_one_folder() -> None:
    sizes = {f"data/{i}.parquet": 1 for i in range(RECOMMENDED_MAX_REPO_FILES + 1)}
    assert repository_limit_warnings(sizes) == [
        "100,001 files: more than the 100,000 the Hub recommends per repo",
        "folder 'data' has 100,001 entries: more than the 10,000 the Hub recommends per folder",
    ]


def test_subfolders_count_as_entries_of_their_folder() -> None:
    sizes = {f"root_{i}/a.txt": 1 for i in range(RECOMMENDED_MAX_FOLDER_ENTRIES)} | {"README.md": 1}
    assert repository_limit_warnings(sizes) == [
        "folder '(the root)' has 10,001 entries: more than the 10,000 the Hub recommends per folder"
    ]


def test_a_file_past_20_gb_is_a_warning_past_50_gb_an_error() -> None:
    assert repository_limit_warnings({"a.bin": RECOMMENDED_MAX_FILE_SIZE + 1}) == [
        "file 'a.bin' has 20,000,000,001 bytes: more than the 20,000,000,000 (20 GB) the Hub recommends per file"
    ]
    with pytest.raises(
        ValueError,
        match=r"1 file\(s\) larger than .* 50,000,000,000 bytes .*'b\.bin' \(50,000,000,001 bytes\)",
    ):
        repository_limit_warnings({"a.bin": 1, "b.bin": MAX_FILE_SIZE + 1})

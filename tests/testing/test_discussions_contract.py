"""Contract tests of discussions and pull requests, through the real ``huggingface_hub`` client.

From ``hub_http_api_part2.md`` §1 (the client's routes and parsing, and what huggingface_hub's own tests
assert against the real Hub): the description is the opening comment, comments are edited in place and
hidden for good, a rename leaves a title-change event, ``status=open`` lists drafts, ``closed`` lists
merged PRs, each commit pushed to a PR shows as an event, and only writers merge.
"""

from __future__ import annotations

import warnings

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from airflow_provider_hub.testing import HubEmulator


@pytest.fixture
def api(hub_connection: HubEmulator) -> HfApi:
    api = HfApi(endpoint=hub_connection.url, token=hub_connection.token)
    api.create_repo("alice/talk")
    return api


@pytest.fixture
def bob(hub_connection: HubEmulator) -> HfApi:
    return HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))


def test_the_description_is_the_opening_comment_and_details_are_stable(api: HfApi) -> None:
    created = api.create_discussion("alice/talk", title="  Question  ", description="Is this **fast**?")
    assert created.title == "Question"
    [opening] = created.events
    assert (opening.type, opening.content, opening.author, opening.edited, opening.hidden) == (
        "comment",
        "Is this **fast**?",
        "alice",
        False,
        False,
    )
    assert api.get_discussion_details("alice/talk", created.num) == created  # two reads, same answer
    api.comment_discussion("alice/talk", created.num, "Yes")
    assert [e.content for e in api.get_discussion_details("alice/talk", created.num).events] == [
        "Is this **fast**?",
        "Yes",
    ]


def test_a_comment_is_edited_in_place_and_hidden_for_good(api: HfApi, bob: HfApi) -> None:
    num = api.create_discussion("alice/talk", title="Typos").num
    comment = bob.comment_discussion("alice/talk", num, "teh")
    edited = bob.edit_discussion_comment("alice/talk", num, comment.id.upper(), "the")  # ids in any case
    assert (edited.id, edited.content, edited.edited) == (comment.id, "the", True)
    assert edited._event["data"]["history"][0]["raw"] == "teh"
    [_, shown] = api.get_discussion_details("alice/talk", num).events
    assert shown == edited
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the client warns that hiding cannot be undone
        hidden = api.hide_discussion_comment("alice/talk", num, comment.id)  # the repo's owner may
    assert (hidden.hidden, hidden.content) == (True, "")
    with pytest.raises(HfHubHTTPError) as refused:
        bob.edit_discussion_comment("alice/talk", num, comment.id, "back")
    assert refused.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as missing:
        api.edit_discussion_comment("alice/talk", num, "0" * 24, "x")
    assert missing.value.response.status_code == 404


def test_a_rename_leaves_a_title_change(api: HfApi, bob: HfApi, hub_connection: HubEmulator) -> None:
    num = bob.create_discussion("alice/talk", title="Old").num
    change = bob.rename_discussion("alice/talk", num, "New")  # its author may
    assert (change.old_title, change.new_title) == ("Old", "New")
    details = api.get_discussion_details("alice/talk", num)
    assert details.title == "New" and details.events[-1] == change
    carol = HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("carol"))
    with pytest.raises(HfHubHTTPError) as refused:
        carol.rename_discussion("alice/talk", num, "Mine")
    assert refused.value.response.status_code == 403


def test_status_filters_count_drafts_as_open_and_merged_as_closed(api: HfApi, bob: HfApi) -> None:
    question = api.create_discussion("alice/talk", title="Question").num
    draft = bob.create_pull_request("alice/talk", title="Draft").num
    merged = api.create_commit(
        "alice/talk", operations=[CommitOperationAdd("a.txt", b"a")], commit_message="Add a", create_pr=True
    ).pr_num
    api.merge_pull_request("alice/talk", merged)
    closed = api.create_discussion("alice/talk", title="Closed").num
    api.change_discussion_status("alice/talk", closed, "closed")

    def listed(**filters: str) -> list[int]:
        return [d.num for d in api.get_repo_discussions("alice/talk", **filters)]

    assert listed(discussion_status="open") == [draft, question]
    assert listed(discussion_status="closed") == [closed, merged]
    assert listed(discussion_type="pull_request", discussion_status="closed") == [merged]
    assert listed(author="bob") == [draft]
    assert listed(author="nobody") == []
    assert listed() == [closed, merged, draft, question]


def test_commits_pushed_to_a_pull_request_show_as_events_and_only_writers_merge(
    api: HfApi, bob: HfApi
) -> None:
    pr = bob.create_pull_request("alice/talk", title="Feature", description="Adds a feature")
    pushed = bob.create_commit(
        "alice/talk",
        operations=[CommitOperationAdd("feature.txt", b"f")],
        commit_message="Add the feature",
        revision=pr.git_reference,
    )
    events = api.get_discussion_details("alice/talk", pr.num).events
    assert [(e.type, getattr(e, "summary", None), getattr(e, "oid", None)) for e in events] == [
        ("comment", None, None),
        ("commit", "Add the feature", pushed.oid),
    ]
    with pytest.raises(HfHubHTTPError) as refused:
        bob.merge_pull_request("alice/talk", pr.num)  # its author, without write access
    assert refused.value.response.status_code == 403
    api.merge_pull_request("alice/talk", pr.num)
    details = api.get_discussion_details("alice/talk", pr.num)
    assert details.status == "merged" and details.merge_commit_oid == api.model_info("alice/talk").sha
    assert details.target_branch == "refs/heads/main"
    with pytest.raises(HfHubHTTPError) as again:
        api.merge_pull_request("alice/talk", pr.num)
    assert again.value.response.status_code == 400
    with pytest.raises(HfHubHTTPError) as missing:
        api.get_discussion_details("alice/talk", 999)
    assert missing.value.response.status_code == 404 and "X-Error-Code" not in missing.value.response.headers


def test_more_than_a_page_of_discussions_is_listed_whole(api: HfApi) -> None:
    for index in range(55):
        api.create_discussion("alice/talk", title=f"Topic {index}")
    numbers = [d.num for d in api.get_repo_discussions("alice/talk")]
    assert numbers == list(range(55, 0, -1))

"""Collections of the emulator, driven by the real ``huggingface_hub`` client.

What is asserted is what the Hub answers (huggingface_hub's own tests against the Hub, and its parsing):
slugs, positions, ``exists_ok``/``missing_ok``, privacy and who may change a collection.
"""

from __future__ import annotations

import re

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RepositoryNotFoundError

from airflow_provider_hub.testing import HubEmulator

SLUG_ID = re.compile(r"-([0-9a-f]{24})$")


@pytest.fixture
def bob(hub_connection: HubEmulator) -> HfApi:
    return HfApi(endpoint=hub_connection.url, token=hub_connection.add_user("bob"))


def _status(error: pytest.ExceptionInfo[HfHubHTTPError]) -> int:
    return error.value.response.status_code


def test_create_and_get_follow_the_slug_rules(api: HfApi, hub_connection: HubEmulator) -> None:
    created = api.create_collection("My cool stuff X")
    assert created.slug.startswith("alice/my-cool-stuff-x-")
    assert SLUG_ID.search(created.slug)
    assert created.title == "My cool stuff X"
    assert created.items == []
    assert created.description is None
    assert created.private is False
    assert created.position == 0
    assert created.upvotes == 0
    assert created.theme in ("orange", "blue", "green", "purple", "pink", "indigo")
    assert created.owner["name"] == "alice"
    assert created.url == f"{hub_connection.url}/collections/{created.slug}"

    fetched = api.get_collection(created.slug)
    assert (fetched.slug, fetched.title, fetched.position) == (created.slug, created.title, 0)
    assert fetched.last_updated == created.last_updated

    described = api.create_collection("Second", description="Contains a lot of cool stuff")
    assert described.description == "Contains a lot of cool stuff"
    assert described.position == 1  # an owner's collections are ranked, the new one last


def test_renaming_changes_the_slug_and_the_old_slug_still_answers(api: HfApi) -> None:
    created = api.create_collection("Old title")
    renamed = api.update_collection_metadata(created.slug, title="New title: v2!")
    collection_id = SLUG_ID.search(created.slug).group(1)
    assert renamed.slug == f"alice/new-title-v2-{collection_id}"
    assert renamed.title == "New title: v2!"
    assert renamed.position == 0
    # Found by the trailing id: the old slug answers with the new one.
    assert api.get_collection(created.slug).slug == renamed.slug
    assert api.get_collection(renamed.slug).title == "New title: v2!"
    # The owner half of the slug must still be the owner.
    with pytest.raises(HfHubHTTPError) as wrong_owner:
        api.get_collection(f"acme/new-title-v2-{collection_id}")
    assert _status(wrong_owner) == 404


def test_update_metadata_answers_the_collection(api: HfApi) -> None:
    slug = api.create_collection("Stuff").slug
    updated = api.update_collection_metadata(slug, description="Now described", private=True, theme="pink")
    assert (updated.description, updated.private, updated.theme) == ("Now described", True, "pink")
    assert api.get_collection(slug).theme == "pink"
    with pytest.raises(BadRequestError):
        api.update_collection_metadata(slug, theme="chartreuse")
    with pytest.raises(BadRequestError):
        api.update_collection_metadata(slug, description="x" * 151)


def test_collection_positions_among_the_owner_collections(api: HfApi) -> None:
    slugs = [api.create_collection(title).slug for title in ("First", "Second", "Third")]
    assert [api.get_collection(slug).position for slug in slugs] == [0, 1, 2]
    assert api.update_collection_metadata(slugs[2], position=0).position == 0
    assert [api.get_collection(slug).position for slug in slugs] == [1, 2, 0]
    api.delete_collection(slugs[2])
    assert [api.get_collection(slug).position for slug in slugs[:2]] == [0, 1]


def test_exists_ok_reads_the_slug_from_the_409(api: HfApi, hub_connection: HubEmulator) -> None:
    first = api.create_collection("Twice")
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_collection("Twice")
    assert _status(conflict) == 409
    assert conflict.value.response.json()["slug"] == first.slug
    again = api.create_collection("Twice", description="ignored", exists_ok=True)
    assert again.slug == first.slug
    assert again.description is None  # the existing collection, unchanged
    # The same title in another namespace is another collection.
    assert api.create_collection("Twice", namespace="acme").slug.startswith("acme/twice-")


def test_who_may_create_and_change_a_collection(api: HfApi, bob: HfApi, hub_connection: HubEmulator) -> None:
    org_collection = api.create_collection("Team picks", namespace="acme")
    assert org_collection.owner == {**org_collection.owner, "name": "acme", "type": "org"}
    with pytest.raises(HfHubHTTPError) as not_bobs:
        bob.create_collection("Mine now", namespace="alice")
    assert _status(not_bobs) == 403
    assert "namespace" in str(not_bobs.value)
    reader = HfApi(endpoint=hub_connection.url, token=hub_connection.add_token("alice", role="read"))
    with pytest.raises(HfHubHTTPError) as read_only:
        reader.create_collection("Read only", namespace="alice")
    assert _status(read_only) == 403
    anonymous = HfApi(endpoint=hub_connection.url, token=False)
    with pytest.raises(HfHubHTTPError) as no_token:
        anonymous.create_collection("Nobody", namespace="alice")
    assert _status(no_token) == 401

    slug = api.create_collection("Alice's").slug
    hub_connection.add_repo("bob/model")
    assert bob.get_collection(slug).title == "Alice's"  # public: anyone reads it
    for change in (
        lambda: bob.update_collection_metadata(slug, title="Bob's"),
        lambda: bob.add_collection_item(slug, "bob/model", "model"),
        lambda: bob.delete_collection(slug),
    ):
        with pytest.raises(HfHubHTTPError) as forbidden:
            change()
        assert _status(forbidden) == 403
        assert forbidden.value.server_message  # 403s carry X-Error-Message
    assert api.get_collection(slug).title == "Alice's"
    assert api.get_collection(slug).items == []


def test_private_collection_is_hidden_until_made_public(api: HfApi, bob: HfApi) -> None:
    private = api.create_collection("Secret", private=True)
    assert private.private is True
    assert api.get_collection(private.slug).private is True
    with pytest.raises(HfHubHTTPError) as hidden:
        bob.get_collection(private.slug)
    assert _status(hidden) == 404
    assert not isinstance(hidden.value, RepositoryNotFoundError)
    assert "X-Error-Code" not in hidden.value.response.headers
    assert hidden.value.response.headers["X-Error-Message"]
    assert [c.slug for c in bob.list_collections(owner="alice")] == []
    assert [c.slug for c in api.list_collections(owner="alice")] == [private.slug]
    with pytest.raises(HfHubHTTPError) as not_even_403:
        bob.delete_collection(private.slug)
    assert _status(not_even_403) == 404

    api.update_collection_metadata(private.slug, private=False)
    assert bob.get_collection(private.slug).private is False


def test_delete_and_missing_ok(api: HfApi) -> None:
    slug = api.create_collection("Doomed").slug
    api.delete_collection(slug)
    with pytest.raises(HfHubHTTPError) as gone:
        api.get_collection(slug)
    assert _status(gone) == 404
    assert "X-Error-Code" not in gone.value.response.headers
    with pytest.raises(HfHubHTTPError) as twice:
        api.delete_collection(slug)
    assert _status(twice) == 404
    api.delete_collection(slug, missing_ok=True)
    with pytest.raises(HfHubHTTPError) as never_existed:
        api.get_collection("alice/not-a-collection")
    assert _status(never_existed) == 404


def test_items_are_appended_moved_and_deleted_by_position(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/model")
    hub_connection.add_repo("alice/data", repo_type="dataset")
    hub_connection.add_repo("alice/demo", repo_type="space")
    slug = api.create_collection("Things").slug
    api.add_collection_item(slug, "alice/model", "model")
    api.add_collection_item(slug, "alice/data", "dataset", note="The training data")
    collection = api.add_collection_item(slug, "ALICE/demo", "space")
    assert collection.position == 0
    assert [(i.item_id, i.item_type, i.position) for i in collection.items] == [
        ("alice/model", "model", 0),
        ("alice/data", "dataset", 1),
        ("alice/demo", "space", 2),  # the id as the repo was created
    ]
    assert [i.note for i in collection.items] == [None, "The training data", None]
    assert all(re.fullmatch(r"[0-9a-f]{24}", i.item_object_id) for i in collection.items)

    model, data, demo = collection.items
    api.update_collection_item(slug, model.item_object_id, note="Here is a note", position=1)
    collection = api.get_collection(slug)
    assert [(i.item_id, i.position) for i in collection.items] == [
        ("alice/data", 0),
        ("alice/model", 1),
        ("alice/demo", 2),
    ]
    assert collection.items[1].note == "Here is a note"
    assert collection.items[1].item_object_id == model.item_object_id
    # A position past the end moves the item last.
    api.update_collection_item(slug, data.item_object_id, position=10)
    assert [i.item_id for i in api.get_collection(slug).items] == ["alice/model", "alice/demo", "alice/data"]

    api.delete_collection_item(slug, demo.item_object_id)
    assert [(i.item_id, i.position) for i in api.get_collection(slug).items] == [
        ("alice/model", 0),
        ("alice/data", 1),
    ]
    with pytest.raises(HfHubHTTPError) as missing_item:
        api.delete_collection_item(slug, demo.item_object_id)
    assert _status(missing_item) == 404
    assert "X-Error-Code" not in missing_item.value.response.headers
    api.delete_collection_item(slug, demo.item_object_id, missing_ok=True)
    with pytest.raises(HfHubHTTPError) as update_missing:
        api.update_collection_item(slug, demo.item_object_id, note="nope")
    assert _status(update_missing) == 404


def test_an_item_must_exist_and_be_added_once(api: HfApi, hub_connection: HubEmulator) -> None:
    hub_connection.add_repo("alice/model")
    slug = api.create_collection("Once").slug
    api.add_collection_item(slug, "alice/model", "model")
    with pytest.raises(HfHubHTTPError) as duplicate:
        api.add_collection_item(slug, "alice/model", "model")
    assert _status(duplicate) == 409
    same = api.add_collection_item(slug, "alice/model", "model", note="ignored", exists_ok=True)
    assert [(i.item_id, i.note) for i in same.items] == [("alice/model", None)]

    for item_id, item_type in (
        ("alice/model", "dataset"),  # the wrong type
        ("alice/nothing", "model"),
        ("2311.12983", "paper"),  # no papers here
    ):
        with pytest.raises(HfHubHTTPError) as missing:
            api.add_collection_item(slug, item_id, item_type)
        assert _status(missing) == 404
        assert not isinstance(missing.value, RepositoryNotFoundError)
    with pytest.raises(BadRequestError):
        api.add_collection_item(slug, "alice/model", "kernel")  # type: ignore[arg-type]
    with pytest.raises(BadRequestError):
        api.add_collection_item(slug, "alice/other", "model", note="x" * 501)
    assert len(api.get_collection(slug).items) == 1


def test_a_collection_item_is_its_slug(api: HfApi) -> None:
    inner = api.create_collection("Inner")
    outer = api.add_collection_item(api.create_collection("Outer").slug, inner.slug, "collection")
    assert [(i.item_id, i.item_type) for i in outer.items] == [(inner.slug, "collection")]
    renamed = api.update_collection_metadata(inner.slug, title="Inner renamed")
    assert api.get_collection(outer.slug).items[0].item_id == renamed.slug
    with pytest.raises(BadRequestError):
        api.add_collection_item(outer.slug, outer.slug, "collection")
    api.delete_collection(inner.slug)
    assert api.get_collection(outer.slug).items == []


def test_items_follow_their_repo(api: HfApi, hub_connection: HubEmulator) -> None:
    api.create_repo("alice/before")
    api.create_repo("alice/doomed")
    slug = api.create_collection("Follow").slug
    api.add_collection_item(slug, "alice/before", "model")
    api.add_collection_item(slug, "alice/doomed", "model")
    api.move_repo("alice/before", "alice/after")
    api.delete_repo("alice/doomed")
    assert [(i.item_id, i.position) for i in api.get_collection(slug).items] == [("alice/after", 0)]


def test_private_items_show_only_to_who_may_read_them(
    api: HfApi, bob: HfApi, hub_connection: HubEmulator
) -> None:
    hub_connection.add_repo("alice/public")
    hub_connection.add_repo("alice/private", private=True)
    slug = api.create_collection("Mixed").slug
    api.add_collection_item(slug, "alice/public", "model")
    api.add_collection_item(slug, "alice/private", "model")
    assert [i.item_id for i in api.get_collection(slug).items] == ["alice/public", "alice/private"]
    assert [(i.item_id, i.position) for i in bob.get_collection(slug).items] == [("alice/public", 0)]
    hub_connection.add_repo("carol/hidden", private=True)
    with pytest.raises(HfHubHTTPError) as unreadable:
        api.add_collection_item(slug, "carol/hidden", "model")
    assert _status(unreadable) == 404


def test_list_collections_filters_truncates_and_paginates(api: HfApi, hub_connection: HubEmulator) -> None:
    for n in range(6):
        hub_connection.add_repo(f"alice/m{n}")
    big = api.create_collection("Big").slug
    for n in range(6):
        api.add_collection_item(big, f"alice/m{n}", "model")
    small = api.create_collection("Small").slug
    api.add_collection_item(small, "alice/m0", "model")
    org = api.create_collection("Org one", namespace="acme").slug

    listed = list(api.list_collections(owner="alice"))
    assert [c.slug for c in listed] == [small, big]  # most recently updated first
    assert [c.position for c in listed] == [0, 1]  # numbered by the client
    assert [len(c.items) for c in listed] == [1, 4]  # at most 4 items each
    assert [i.item_id for i in listed[1].items] == ["alice/m0", "alice/m1", "alice/m2", "alice/m3"]
    assert {c.slug for c in api.list_collections(owner=["alice", "acme"])} == {big, small, org}
    assert [c.slug for c in api.list_collections(item="models/alice/m5")] == [big]
    assert {c.slug for c in api.list_collections(item="models/ALICE/m0")} == {big, small}
    assert list(api.list_collections(item="datasets/alice/m0")) == []
    assert [c.slug for c in api.list_collections(owner="alice", sort="upvotes", limit=1)] == [small]

    raw = httpx.get(f"{hub_connection.url}/api/collections", params={"owner": "alice"})
    assert all("position" not in collection for collection in raw.json())  # list items carry none

    hub_connection.state.collections.page_size = 2
    first_page = httpx.get(f"{hub_connection.url}/api/collections")
    assert len(first_page.json()) == 2
    assert first_page.links["next"]["url"].startswith(hub_connection.url)
    assert {c.slug for c in api.list_collections()} == {big, small, org}
    with pytest.raises(BadRequestError):
        list(api.list_collections(sort="newest"))  # type: ignore[arg-type]


def test_resource_groups_belong_to_organizations(api: HfApi) -> None:
    user_owned = api.create_collection("Mine").slug
    with pytest.raises(BadRequestError):
        api.update_collection_resource_group(user_owned, "66980ecfc1e12a49c8f0e42d")
    org_owned = api.create_collection("Team", namespace="acme").slug
    with pytest.raises(HfHubHTTPError) as unknown_group:
        api.update_collection_resource_group(org_owned, "66980ecfc1e12a49c8f0e42d")
    assert _status(unknown_group) == 404
    api.update_collection_resource_group(org_owned, None)
    with pytest.raises(HfHubHTTPError) as on_create:
        api.create_collection("Grouped", namespace="acme", resource_group_id="66980ecfc1e12a49c8f0e42d")
    assert _status(on_create) == 404
    assert [c.title for c in api.list_collections(owner="acme")] == ["Team"]

"""A SCIM request costs a fixed number of queries, whatever the organization's size."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.accounts.scim.conftest import user_body


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return len(captured)


def push(scim, first: int, last: int, group_id: str | None = None) -> list[str]:
    ids = [
        scim.post("Users", user_body(f"u{n}@acme.test", department=f"Dept {n % 3}")).json()["id"]
        for n in range(first, last)
    ]
    if group_id:
        scim.patch(f"Groups/{group_id}", [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}])
    return ids


def test_listing_10_or_50_users_and_groups_costs_the_same(scim):
    group = scim.post("Groups", {"displayName": "All"}).json()["id"]
    push(scim, 0, 10, group)
    scim.get("Users")  # the token's last use is noted once
    users_10 = queries(lambda: scim.get("Users?count=100"))
    groups_10 = queries(lambda: scim.get("Groups"))
    push(scim, 10, 50, group)
    for n in range(5):
        scim.post("Groups", {"displayName": f"G{n}"})
    assert queries(lambda: scim.get("Users?count=100")) == users_10 <= 6
    assert queries(lambda: scim.get("Groups")) == groups_10 <= 6
    assert len(scim.get("Users?count=100").json()["Resources"]) == 50


def test_create_patch_and_group_changes_cost_the_same_for_1_or_40_members(scim):
    scim.get("Users")
    create_first = queries(lambda: scim.post("Users", user_body("first@acme.test", department="Ops")))
    create_second = queries(lambda: scim.post("Users", user_body("second@acme.test", department="Ops")))
    assert create_first <= 30 and create_second <= create_first
    ids = push(scim, 0, 40)
    patch = queries(lambda: scim.patch(f"Users/{ids[0]}", [{"op": "replace", "value": {"title": "Lead"}}]))
    patch_again = queries(lambda: scim.patch(f"Users/{ids[1]}", [{"op": "replace", "value": {"title": "Lead"}}]))
    assert patch == patch_again <= 25
    small, big = (scim.post("Groups", {"displayName": name}).json()["id"] for name in ("Small", "Big"))
    add_one = queries(
        lambda: scim.patch(f"Groups/{small}", [{"op": "add", "path": "members", "value": [{"value": ids[0]}]}])
    )
    add_forty = queries(
        lambda: scim.patch(f"Groups/{big}", [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}])
    )
    assert add_one == add_forty

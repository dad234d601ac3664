"""Metric pulls at the networks' batch limits (issue 21): X across accounts with the app's
bearer token, Facebook Pages in one Graph batch, LinkedIn one read per post in turn; the
emulator refusing what the real APIs refuse. Real HTTP against the emulator throughout."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from accounts.models import SocialConnection
from analytics.models import DeliveryMetrics
from networks.base import client_for
from networks.errors import ConfigurationError
from tests.analytics import test_metrics_pull
from tests.analytics.test_metrics_pull import (
    COUNTERS,
    SECRET,
    X_API_KEY,
    connect,
    emulator_counter,
    make_due,
    make_org,
    publish,
    pull_round,
)

SOON = timedelta(minutes=20)
emulator = test_metrics_pull.emulator  # the same fixture: its apps, X's API Key included


def calls(emulator, network: str) -> int:
    return emulator_counter(emulator, network, "requests")


# --- X --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_x_reads_posts_of_many_accounts_in_one_call_with_the_app_token(emulator):
    org = make_org()
    deliveries = [d for _ in range(3) for d in publish(connect(emulator, org, "x"), 2)]
    emulator.advance_clock(3 * 3600)
    before = calls(emulator, "x")

    [outcome] = pull_round(timezone.now() + SOON)  # one task for the three accounts

    assert outcome.recorded == 6
    assert calls(emulator, "x") - before == 2  # the bearer token, then one lookup of 6 ids
    assert emulator_counter(emulator, "x", "metrics_reads") == 1
    rows = DeliveryMetrics.objects.for_org(org).filter(delivery__in=deliveries)
    assert all(row.impressions > 0 and row.likes is not None for row in rows)  # public_metrics has them all

    make_due(*deliveries)
    pull_round()
    assert calls(emulator, "x") - before == 3  # the token was kept: one lookup, nothing else


@pytest.mark.django_db
def test_x_101_posts_take_two_lookups(emulator):
    org = make_org()
    deliveries = publish(connect(emulator, org, "x"), 60) + publish(connect(emulator, org, "x"), 41)
    emulator.advance_clock(3600)

    [outcome] = pull_round(timezone.now() + SOON)

    assert outcome.recorded == len(deliveries) == 101
    assert emulator_counter(emulator, "x", "metrics_reads") == 2  # 100 ids, then 1


@pytest.mark.django_db
def test_x_app_token_reads_public_metrics_only_and_no_user_endpoint(emulator):
    org = make_org()
    account = connect(emulator, org, "x")
    [delivery] = publish(account)
    app_token = account.client.app_token()
    assert account.client.app_token() == app_token  # X answers the same token until invalidated
    lookup = f"{emulator.origin('x')}/2/tweets"
    fields = {"ids": delivery.remote_id, "tweet.fields": "public_metrics,non_public_metrics"}

    as_app = requests.get(lookup, params=fields, headers={"Authorization": f"Bearer {app_token}"}, timeout=10).json()
    [tweet] = as_app["data"]
    assert "public_metrics" in tweet and "non_public_metrics" not in tweet
    [refused] = as_app["errors"]
    assert (refused["title"], refused["resource_id"]) == ("Field Authorization Error", delivery.remote_id)

    token = account.connection.access_token
    as_author = requests.get(lookup, params=fields, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert "non_public_metrics" in as_author["data"][0] and "errors" not in as_author

    me = requests.get(
        f"{emulator.origin('x')}/2/users/me", headers={"Authorization": f"Bearer {app_token}"}, timeout=10
    )
    assert me.status_code == 403 and me.json()["title"] == "Unsupported Authentication"


@pytest.mark.django_db
def test_x_app_token_refused_for_wrong_api_secret(emulator):
    org = make_org()
    config = connect(emulator, org, "x").client.config
    wrong = dataclasses.replace(config, app_key=X_API_KEY, app_secret=SECRET + "-wrong")
    with pytest.raises(ConfigurationError):
        client_for("x", wrong).app_token()


@pytest.mark.django_db
def test_x_lookup_refuses_101_ids(emulator):
    org = make_org()
    token = connect(emulator, org, "x").client.app_token()
    ids = ",".join(str(10**15 + n) for n in range(101))
    answer = requests.get(
        f"{emulator.origin('x')}/2/tweets",
        params={"ids": ids},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 400 and "between 1 and 100" in answer.json()["errors"][0]["message"]


# --- Facebook -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_facebook_pages_in_one_batch_and_a_deleted_post_found_in_it(emulator):
    org = make_org()
    accounts = [connect(emulator, org, "facebook") for _ in range(3)]
    published = [publish(account, 2) for account in accounts]
    emulator.advance_clock(3 * 3600)
    gone = published[1][0]
    accounts[1].client.delete(access_token=accounts[1].connection.access_token, remote_id=gone.remote_id)
    before = calls(emulator, "facebook")

    [outcome] = pull_round(timezone.now() + SOON)  # one task for the three Pages

    assert (outcome.recorded, outcome.deleted) == (5, 1)
    # One batch of three reads; Graph names the deleted id, so its Page's read goes again
    # without it in a second batch.
    assert calls(emulator, "facebook") - before == 2
    assert emulator_counter(emulator, "facebook", "batches") == 2
    rows = {row.delivery_id: row for row in DeliveryMetrics.objects.for_org(org)}
    assert rows[gone.pk].deleted_on_network_at is not None and rows[gone.pk].next_pull_at is None
    kept = [d for group in published for d in group if d != gone]
    assert all(rows[d.pk].likes is not None and rows[d.pk].impressions is None for d in kept)


@pytest.mark.django_db
def test_a_page_whose_token_is_refused_does_not_lose_the_other_pages(emulator):
    org = make_org()
    good, bad = connect(emulator, org, "facebook"), connect(emulator, org, "facebook")
    kept, lost = publish(good, 2), publish(bad, 2)
    emulator.advance_clock(3 * 3600)
    SocialConnection.objects.for_org(org).filter(pk=bad.connection.pk).update(access_token="EAAnot-a-token")

    [outcome] = pull_round(timezone.now() + SOON)

    assert outcome.recorded == 2 and outcome.skipped == 2
    rows = {row.delivery_id: row for row in DeliveryMetrics.objects.for_org(org)}
    assert all(rows[d.pk].pulls == 1 and rows[d.pk].likes is not None for d in kept)
    assert all(rows[d.pk].pulls == 0 and all(getattr(rows[d.pk], n) is None for n in COUNTERS) for d in lost)
    bad.connection.refresh_from_db()
    good.connection.refresh_from_db()
    assert bad.connection.status == SocialConnection.Status.NEEDS_RECONNECT
    assert good.connection.status == SocialConnection.Status.ACTIVE


@pytest.mark.django_db
def test_graph_refuses_51_ids_and_51_batch_requests(emulator):
    org = make_org()
    account = connect(emulator, org, "facebook")
    [delivery] = publish(account)
    graph = f"{emulator.origin('facebook')}/v24.0/"
    token = account.connection.access_token
    many = requests.get(graph, params={"ids": ",".join([delivery.remote_id] * 51), "access_token": token}, timeout=10)
    assert many.status_code == 400 and "Maximum: 50" in many.json()["error"]["message"]
    read = {"method": "GET", "relative_url": f"?ids={delivery.remote_id}&fields=shares&access_token={token}"}
    app_token = f"facebook-partner|{SECRET}"
    too_big = requests.post(graph, data={"access_token": app_token, "batch": json.dumps([read] * 51)}, timeout=10)
    assert too_big.status_code == 400 and "Maximum batch size is 50" in too_big.json()["error"]["message"]
    [answer] = requests.post(graph, data={"access_token": app_token, "batch": json.dumps([read])}, timeout=10).json()
    assert answer["code"] == 200 and delivery.remote_id in json.loads(answer["body"])
    # The app token alone (no Page token in the read) may not read a Page's posts.
    alone = {"method": "GET", "relative_url": f"?ids={delivery.remote_id}&fields=shares"}
    [refused] = requests.post(graph, data={"access_token": app_token, "batch": json.dumps([alone])}, timeout=10).json()
    assert refused["code"] == 403 and json.loads(refused["body"])["error"]["code"] == 10


# --- LinkedIn -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_linkedin_costs_at_most_one_call_per_post_per_round(emulator):
    org = make_org()
    deliveries = publish(connect(emulator, org, "linkedin"), 3)
    emulator.advance_clock(6 * 3600)
    spent = []
    for turn in range(3):
        before = calls(emulator, "linkedin")
        make_due(*deliveries)
        pull_round(timezone.now() + SOON if turn == 0 else None)
        spent.append(calls(emulator, "linkedin") - before)
    assert spent == [1, 3, 3]  # socialMetadata for the three at once, then IMPRESSION, then RESHARE
    rows = DeliveryMetrics.objects.for_org(org).filter(delivery__in=deliveries)
    assert all(None not in (r.likes, r.comments, r.impressions, r.reposts) for r in rows)  # all read once


@pytest.mark.django_db
def test_linkedin_batch_answers_deleted_posts_under_errors_and_refuses_101_keys(emulator):
    org = make_org()
    account = connect(emulator, org, "linkedin")
    kept, gone = publish(account, 2)
    token = account.connection.access_token
    account.client.delete(access_token=token, remote_id=gone.remote_id)

    answers = account.client.fetch_metrics(access_token=token, remote_ids=[kept.remote_id, gone.remote_id])
    assert answers[kept.remote_id].exists and answers[kept.remote_id].likes is not None
    assert not answers[gone.remote_id].exists

    keys = ",".join(f"urn%3Ali%3Ashare%3A{n}" for n in range(101))
    headers = {"Authorization": f"Bearer {token}", "LinkedIn-Version": "202610", "X-Restli-Protocol-Version": "2.0.0"}
    answer = requests.get(
        f"{emulator.origin('linkedin')}/rest/socialMetadata?ids=List({keys})", headers=headers, timeout=10
    )
    assert answer.status_code == 400 and "Too many keys" in answer.json()["message"]


@pytest.mark.django_db
def test_x_app_rate_limit_defers_the_rows_to_its_reset(emulator):
    org = make_org()
    deliveries = publish(connect(emulator, org, "x"), 2) + publish(connect(emulator, org, "x"), 1)
    emulator.fault("x", "rate_limit", path="/2/tweets", method="GET", reset_in=600)
    started = timezone.now()

    [outcome] = pull_round(timezone.now() + SOON)

    assert (outcome.recorded, outcome.deferred) == (0, 3) and outcome.reason.startswith("rate limited until")
    rows = DeliveryMetrics.objects.for_org(org).filter(delivery__in=deliveries)
    assert all(r.pulls == 0 and started + timedelta(minutes=9) < r.next_pull_at for r in rows)  # X's reset time
    assert all(r.next_pull_at <= timezone.now() + timedelta(minutes=11) for r in rows)

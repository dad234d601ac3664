"""The assisted share (issue 16, point 5): one button copies the approved words (with the
disclosure) and opens the network's window with the tracked link; "I posted it" takes the
post's link if the employee pastes it, parsed and, where the app can, verified like the
attach flow; My shares carries the same button and form."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.services.connections import network_config
from advocacy.errors import Conflict, ValidationFailed
from compliance.models import AuditEntry, Policy
from content.models import Delivery
from content.services import sharing
from networks.base import client_for
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.content.factories import ContentItemFactory

pytestmark = pytest.mark.django_db

WORDS = "Forty turbines, and I saw them built."


@pytest.fixture
def org(settings):
    settings.SITE_URL = "https://go.acme.example"
    # No API access to any network: every share is assisted, nothing can be verified.
    settings.NETWORK_APPS = {"linkedin": ("", ""), "x": ("", ""), "facebook": ("", "")}
    for name in ("LINKEDIN_ORIGIN", "X_ORIGIN", "FACEBOOK_ORIGIN"):
        setattr(settings, name, "")
    org = OrganizationFactory(slug="acme", timezone="Europe/Paris")
    Policy.objects.for_org(org).update_or_create(
        organization=org, defaults={"disclosure": "#AcmeEmployee", "disclosure_mode": "append"}
    )
    return org


@pytest.fixture
def emma(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])


def assisted(emma, *networks, words=WORDS):
    share = sharing.submit_share(
        confirm_repeat=True,
        actor=emma,
        item_id=ContentItemFactory(organization=emma.organization).pk,
        commentary=words,
        target_keys=[f"assisted:{n}" for n in networks],
    )
    assert share.status == "approved", share.review_comment
    deliveries = {d.network: d for d in Delivery.objects.for_org(emma.organization_id).filter(share=share)}
    return share, deliveries


def trail(org, delivery):
    return list(
        AuditEntry.objects.for_org(org)
        .filter(target_type="content.delivery", target_id=str(delivery.pk))
        .order_by("sequence")
        .values_list("action", "after")
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- what is copied and what the window carries -------------------------------------------


def test_the_copied_text_is_the_approved_words_with_the_disclosure_and_the_window_carries_the_tracked_link(org, emma):
    _, deliveries = assisted(emma, "linkedin", "x", "facebook")
    for network, delivery in deliveries.items():
        link = sharing.tracked_url(delivery)
        assert delivery.text == f"{WORDS} #AcmeEmployee\n\n{link}" or network == "facebook"
        assert sharing.assisted_copy_text(delivery) == f"{WORDS} #AcmeEmployee", network
    linkedin, x, facebook = deliveries["linkedin"], deliveries["x"], deliveries["facebook"]
    assert sharing.assisted_share_url(linkedin).startswith("https://www.linkedin.com/sharing/share-offsite/?")
    assert query(sharing.assisted_share_url(linkedin)) == {"url": sharing.tracked_url(linkedin)}
    assert query(sharing.assisted_share_url(x)) == {"text": f"{WORDS} #AcmeEmployee", "url": sharing.tracked_url(x)}
    assert query(sharing.assisted_share_url(facebook)) == {"u": sharing.tracked_url(facebook)}


def test_the_share_window_opens_on_the_emulator_when_the_deployment_names_one(org, emma, settings):
    settings.X_ORIGIN = "http://127.0.0.1:8765/x"
    _, deliveries = assisted(emma, "x")
    assert sharing.assisted_share_url(deliveries["x"]).startswith("http://127.0.0.1:8765/x/intent/tweet?")


# --- "I posted it" --------------------------------------------------------------------------


def test_i_posted_it_without_a_link_records_an_assisted_share(org, emma):
    _, deliveries = assisted(emma, "linkedin")
    done = sharing.confirm_assisted_share(actor=emma, delivery_id=deliveries["linkedin"].pk)
    done.refresh_from_db()
    assert done.status == "published" and done.published_at and (done.remote_id, done.remote_url) == ("", "")
    (_, after), *_ = [e for e in trail(org, done) if e[0] == "delivery.assisted_share_confirmed"]
    assert after["copied_text"] == f"{WORDS} #AcmeEmployee" and "remote_id" not in after
    # A double click changes nothing.
    again = sharing.confirm_assisted_share(actor=emma, delivery_id=done.pk)
    assert again.published_at == done.published_at
    assert len(trail(org, done)) == 1


def test_a_pasted_link_the_app_cannot_verify_is_recorded_as_given_and_said_so(org, emma):
    """A personal Facebook profile (no app may read it): the link's id is recorded, unchecked."""
    _, deliveries = assisted(emma, "facebook")
    pasted = "https://www.facebook.com/100012345/posts/987654321?mibextid=abc"
    done = sharing.confirm_assisted_share(actor=emma, delivery_id=deliveries["facebook"].pk, url=pasted)
    done.refresh_from_db()
    assert done.status == "published"
    assert (done.remote_id, done.remote_url) == ("100012345_987654321", "https://www.facebook.com/100012345_987654321")
    [(action, after)] = trail(org, done)
    assert action == "delivery.assisted_share_confirmed"
    assert after["pasted"] == pasted and after["verified_on_the_network"] is False
    assert after["remote_id"] == "100012345_987654321"


@pytest.mark.parametrize(
    ("network", "pasted", "words"),
    [
        ("x", "https://example.com/news", "not a link to an X post"),
        ("x", "https://www.linkedin.com/feed/update/urn:li:share:7/", "not a link to an X post"),
        ("linkedin", "https://www.linkedin.com/posts/emma_wind-activity-7123-abcd", "points to the post's activity"),
        ("facebook", "https://www.facebook.com/share/p/1AbCdEf/", "does not show the Page's number"),
    ],
)
def test_a_bad_link_is_refused_in_words_and_changes_nothing(org, emma, network, pasted, words):
    _, deliveries = assisted(emma, network)
    delivery = deliveries[network]
    with pytest.raises(ValidationFailed) as refused:
        sharing.confirm_assisted_share(actor=emma, delivery_id=delivery.pk, url=pasted)
    assert words in refused.value.message and "leave the box empty" in refused.value.message
    delivery.refresh_from_db()
    assert (delivery.status, delivery.remote_id, delivery.published_at) == ("pending", "", None)
    assert trail(org, delivery) == []


def test_a_link_already_attached_to_another_share_is_refused(org, emma):
    _, first = assisted(emma, "x")
    _, second = assisted(emma, "x", words="Another share, other words.")
    link = "https://x.com/emma/status/1790000000000000001"
    sharing.confirm_assisted_share(actor=emma, delivery_id=first["x"].pk, url=link)
    with pytest.raises(ValidationFailed, match="already attached to another share"):
        sharing.confirm_assisted_share(actor=emma, delivery_id=second["x"].pk, url=link)
    second["x"].refresh_from_db()
    assert second["x"].status == "pending"


def test_a_share_confirmed_without_a_link_can_be_given_one_later_but_only_once(org, emma):
    _, deliveries = assisted(emma, "x")
    delivery = deliveries["x"]
    sharing.confirm_assisted_share(actor=emma, delivery_id=delivery.pk)
    link = "https://x.com/emma/status/1790000000000000002"
    sharing.confirm_assisted_share(actor=emma, delivery_id=delivery.pk, url=link)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.remote_id) == ("published", "1790000000000000002")
    assert sharing.confirm_assisted_share(actor=emma, delivery_id=delivery.pk, url=link).remote_id  # same: fine
    with pytest.raises(Conflict, match="already linked"):
        sharing.confirm_assisted_share(
            actor=emma, delivery_id=delivery.pk, url="https://x.com/emma/status/1790000000000000003"
        )
    delivery.refresh_from_db()
    assert delivery.remote_id == "1790000000000000002"


def test_nothing_is_recorded_before_approval_or_after_cancelling(org, emma):
    from compliance.models import Action, LexiconTerm

    LexiconTerm.objects.create(organization=org, term="guaranteed", action=Action.REVIEW)
    share = sharing.submit_share(
        confirm_repeat=True,
        actor=emma,
        item_id=ContentItemFactory(organization=org).pk,
        commentary="Guaranteed fun.",
        target_keys=["assisted:x"],
    )
    delivery = Delivery.objects.for_org(org).get(share=share)
    with pytest.raises(Conflict, match="not approved yet"):
        sharing.confirm_assisted_share(
            actor=emma, delivery_id=delivery.pk, url="https://x.com/emma/status/1790000000000000004"
        )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.remote_id) == ("pending", "")


# --- the pages ----------------------------------------------------------------------------


def test_my_shares_has_the_button_and_the_i_posted_it_form_for_waiting_assisted_shares(client, org, emma):
    _, deliveries = assisted(emma, "linkedin", "x")
    _, posted = assisted(emma, "facebook", words="Already out.")
    sharing.confirm_assisted_share(actor=emma, delivery_id=posted["facebook"].pk)
    client.force_login(emma.user)
    body = client.get(reverse("content:my_shares", kwargs={"org_slug": "acme"})).content.decode()
    for delivery in deliveries.values():
        assert html.escape(sharing.assisted_share_url(delivery)) in body
        assert f'id="assisted-text-{delivery.pk}"' in body
        done_url = reverse("content:delivery_assisted_done", kwargs={"org_slug": "acme", "delivery_id": delivery.pk})
        assert done_url in body
    assert body.count('data-testid="assisted-open"') == 2, "not for the one already posted"
    assert f"{WORDS} #AcmeEmployee</textarea>" in body
    assert "js/assisted-share.js" in body


def test_i_posted_it_from_my_shares_returns_there_and_a_bad_link_changes_nothing(client, org, emma):
    _, deliveries = assisted(emma, "linkedin")
    delivery = deliveries["linkedin"]
    client.force_login(emma.user)
    url = reverse("content:delivery_assisted_done", kwargs={"org_slug": "acme", "delivery_id": delivery.pk})
    bad = client.post(url, {"url": "https://example.com/nope", "back": "my_shares", "page": "1"}, follow=True)
    assert bad.redirect_chain[-1][0] == "/o/acme/shares/?page=1"
    assert "not a link to a LinkedIn post" in html.unescape(bad.content.decode())
    assert 'value="https://example.com/nope"' in bad.content.decode(), "the refused link is back in its box"
    assert 'value="https://example.com/nope"' not in client.get("/o/acme/shares/").content.decode(), "once"
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    good = client.post(
        url,
        {"url": "https://www.linkedin.com/feed/update/urn:li:share:7300000000000000001/", "back": "my_shares"},
        follow=True,
    )
    assert good.redirect_chain[-1][0] == "/o/acme/shares/"
    assert "the post is linked to this share" in good.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.remote_id) == ("published", "urn:li:share:7300000000000000001")
    assert delivery.remote_url == "https://www.linkedin.com/feed/update/urn:li:share:7300000000000000001"
    # Anything else than "my_shares" goes to the share's page, never to a URL from the form.
    _, more = assisted(emma, "x")
    other = reverse("content:delivery_assisted_done", kwargs={"org_slug": "acme", "delivery_id": more["x"].pk})
    response = client.post(other, {"back": "https://evil.example/"})
    assert response.url == f"/o/acme/shares/{more['x'].share_id}/"


def test_the_share_page_has_the_button_and_then_the_post_link(client, org, emma):
    share, deliveries = assisted(emma, "x")
    client.force_login(emma.user)
    page = reverse("content:share_detail", kwargs={"org_slug": "acme", "share_id": share.pk})
    body = client.get(page).content.decode()
    assert 'data-testid="assisted-open"' in body and html.escape(sharing.assisted_share_url(deliveries["x"])) in body
    sharing.confirm_assisted_share(actor=emma, delivery_id=deliveries["x"].pk)
    body = client.get(page).content.decode()
    assert 'data-testid="assisted-open"' not in body and 'data-testid="assisted-link-form"' in body
    sharing.confirm_assisted_share(
        actor=emma, delivery_id=deliveries["x"].pk, url="https://x.com/emma/status/1790000000000000009"
    )
    body = client.get(page).content.decode()
    assert 'data-testid="assisted-link-form"' not in body
    assert 'href="https://x.com/i/web/status/1790000000000000009"' in body


def test_my_shares_query_count_is_fixed_with_waiting_assisted_shares(client, org, emma):
    client.force_login(emma.user)
    url = reverse("content:my_shares", kwargs={"org_slug": "acme"})
    client.get(url)
    counts = []
    for _ in range(2):
        for _ in range(3):
            assisted(emma, "linkedin", "x")
            _, posted = assisted(emma, "facebook", words="Out already.")
            sharing.confirm_assisted_share(actor=emma, delivery_id=posted["facebook"].pk)
        with CaptureQueriesContext(db) as ctx:
            body = client.get(url).content.decode()
        counts.append((len(ctx), body.count('data-testid="assisted-open"')))
    assert counts[0][0] == counts[1][0], counts
    assert [buttons for _, buttons in counts] == [6, 12]


def test_another_members_delivery_is_not_found(org, emma):
    _, deliveries = assisted(emma, "x")
    colleague = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    browser = Client()
    browser.force_login(colleague.user)
    url = reverse("content:delivery_assisted_done", kwargs={"org_slug": "acme", "delivery_id": deliveries["x"].pk})
    assert browser.post(url, {"url": "https://x.com/emma/status/1790000000000000010"}).status_code == 404
    deliveries["x"].refresh_from_db()
    assert deliveries["x"].status == "pending"


# --- verified on the network (the emulator) ----------------------------------------------------


@pytest.mark.worker
def test_a_pasted_x_link_is_verified_with_the_employees_connected_account(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    colleague = pub.employee()
    other_x = pub.connect(colleague, "x", name="Colin Colleague")
    client = client_for("x", network_config(pub.org, "x"))
    mine = client.publish(access_token=x.access_token, author_id=x.remote_id, text="Proud of the wind farm.")
    theirs = client.publish(access_token=other_x.access_token, author_id=other_x.remote_id, text="Not Emma's.")
    share = sharing.submit_share(
        confirm_repeat=True, actor=emma, item_id=pub.item.pk, commentary="Proud.", target_keys=["assisted:x"]
    )
    delivery = pub.deliveries(share)[0]
    assert delivery.mode == "assisted"

    for link, words in [
        (f"https://x.com/colin/status/{theirs.remote_id}", "not on your X account"),
        ("https://x.com/emma/status/1234567890123", "We could not find that post on X"),
    ]:
        with pytest.raises(ValidationFailed, match=words):
            sharing.confirm_assisted_share(actor=emma, delivery_id=delivery.pk, url=link)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.remote_id) == ("pending", "")

    sharing.confirm_assisted_share(
        actor=emma, delivery_id=delivery.pk, url=f"https://twitter.com/emma/status/{mine.remote_id}?s=20"
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.remote_id, delivery.remote_url) == ("published", mine.remote_id, mine.url)
    [(_, after)] = [e for e in trail(pub.org, delivery) if e[0] == "delivery.assisted_share_confirmed"]
    assert after["verified_on_the_network"] is True

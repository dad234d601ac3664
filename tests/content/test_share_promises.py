"""The share lifecycle's three promises, end to end: the composer's and the API's submits, the
real compliance policy and review queue, a real Celery worker publishing over HTTP to the
network emulator.

1. Nothing unapproved goes out: a version a human sent back goes back to a human, whatever
   its findings; the compliance dashboard's check lists no post without an approval.
2. Nothing goes out twice: a replayed form or API request makes one share and one post; the
   same item to the same account again asks first.
3. Every post that exists is recorded: lost and slow answers end published with the
   network's id, or `posted_id_unknown` where no look-up can name it, never failed.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from advocacy.errors import Conflict
from compliance import selectors as compliance_selectors
from compliance.models import Action, LexiconTerm, Policy, ReviewTask
from compliance.services import review
from content.models import Delivery, Share, Suggestion
from content.services import publishing, sharing
from tests.accounts.factories import MembershipFactory

pytestmark = pytest.mark.worker

NETWORKS = ("linkedin", "x", "facebook")


@pytest.fixture
def world(pub):
    """`pub` plus a compliance officer and a policy whose lexicon sends "guaranteed" to review."""
    LexiconTerm.objects.create(organization=pub.org, term="guaranteed", action=Action.REVIEW)
    pub.officer = MembershipFactory(organization=pub.org, roles=[Role.COMPLIANCE])
    return pub


def browser_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def compose_url(pub) -> str:
    return reverse("content:compose", kwargs={"org_slug": pub.org.slug, "content_item_id": pub.item.pk})


def decide(pub, share, outcome, comment=""):
    share.refresh_from_db()
    return review.decide(actor=pub.officer, share_id=share.pk, outcome=outcome, comment=comment, version=share.version)


def assert_no_post_without_approval(pub):
    assert compliance_selectors.published_without_approval(pub.org) == []


# --- 1. nothing unapproved goes out ---------------------------------------------------------


def test_a_reworded_resubmission_after_send_back_goes_to_a_human_and_only_the_approved_text_is_posted(world):
    pub = world
    emma = pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x], words="Guaranteed returns on our new wind farm!")
    assert share.status == Share.Status.IN_REVIEW
    decide(pub, share, "changes_requested", "No promises of returns, please.")

    # The employee rewords it: no finding any more, and still a human must look.
    edited = sharing.edit_share(actor=emma, share_id=share.pk, commentary="We guarantee a great wind farm!")
    assert edited.status == Share.Status.IN_REVIEW and edited.version == 2
    task = ReviewTask.objects.for_org(pub.org).get(share=share)
    assert task.closed_at is None
    queue = compliance_selectors.review_queue(pub.org)
    assert [t.share_id for t in queue] == [share.pk]

    # The reviewer sees what changed since the version they sent back, and their note.
    page = browser_for(pub.officer).get(
        reverse("compliance:review", kwargs={"org_slug": pub.org.slug, "share_id": share.pk})
    )
    body = page.content.decode()
    assert 'data-testid="sent-back-note"' in body and "No promises of returns, please." in body
    assert 'data-testid="diff-sent-back"' in body and "<ins>guarantee" in body.replace("<ins>We ", "<ins>")
    time_after_sendback = pub.posts("x")
    assert time_after_sendback == [], "nothing went out while it waited"

    decide(pub, share, "approved")
    pub.wait_until(share, Share.Status.PUBLISHED)
    posts = pub.posts("x")
    assert len(posts) == 1 and posts[0]["text"].startswith("We guarantee a great wind farm!")
    assert_no_post_without_approval(pub)


def test_an_edit_after_approval_goes_back_to_review_even_without_findings(world):
    pub = world
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    later = publishing_later()
    share = pub.share(emma, [linkedin], words="Proud of the team behind the turbines.", at=later)
    assert share.status == Share.Status.SCHEDULED, "no findings, first version: no human needed"
    edited = sharing.edit_share(
        actor=emma, share_id=share.pk, commentary="Proud of the whole team.", scheduled_for=later
    )
    assert edited.status == Share.Status.IN_REVIEW
    assert Delivery.objects.for_org(pub.org).get(share=share).approved_text_hash == ""


def test_a_rejected_share_resubmitted_goes_to_a_human(world):
    pub = world
    emma = pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x], words="Guaranteed to double your savings.")
    decide(pub, share, "rejected", "We never promise returns.")
    edited = sharing.edit_share(actor=emma, share_id=share.pk, commentary="A calm note about our wind farm.")
    assert edited.status == Share.Status.IN_REVIEW


def test_auto_approval_of_an_unchanged_suggestion_is_for_the_first_version_only(world):
    pub = world
    Policy.objects.for_org(pub.org).update_or_create(
        organization=pub.org, defaults={"review_mode": Policy.ReviewMode.ALL, "auto_approve_suggestions": True}
    )
    suggestion = Suggestion.objects.create(organization=pub.org, item=pub.item, text="Forty turbines, one coast.")
    emma = pub.employee()
    x = pub.connect(emma, "x")
    later = publishing_later()
    share = sharing.submit_share(
        actor=emma,
        item_id=pub.item.pk,
        commentary=suggestion.text,
        target_keys=[f"connection:{x.pk}"],
        suggestion_id=suggestion.pk,
        scheduled_for=later,
    )
    assert share.status == Share.Status.SCHEDULED, "first version, unchanged suggestion: approved without a human"
    edited = sharing.edit_share(actor=emma, share_id=share.pk, commentary="My own take.", scheduled_for=later)
    assert edited.status == Share.Status.IN_REVIEW
    decide(pub, share, "changes_requested", "Say it with the suggested words.")
    back = sharing.edit_share(actor=emma, share_id=share.pk, commentary=suggestion.text, scheduled_for=later)
    assert back.status == Share.Status.IN_REVIEW, "the suggestion again, but as a third version: a human looks"


def test_the_dashboard_check_finds_a_post_whose_text_no_reviewer_approved(world):
    """The check is not blind: a delivery whose text differs from the approved hash shows."""
    pub = world
    emma = pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x], words="Guaranteed fun at the opening.")
    decide(pub, share, "approved")
    pub.wait_until(share, Share.Status.PUBLISHED)
    assert_no_post_without_approval(pub)
    # Rewrite the stored text behind the lifecycle's back (as a bug would).
    Delivery.objects.for_org(pub.org).filter(share=share).update(text="Something nobody approved.")
    found = compliance_selectors.published_without_approval(pub.org)
    assert [d.share_id for d in found] == [share.pk]
    page = browser_for(pub.officer).get(reverse("compliance:dashboard", kwargs={"org_slug": pub.org.slug}))
    assert 'data-testid="unapproved"' in page.content.decode()


def publishing_later():
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)


# --- 2. nothing goes out twice --------------------------------------------------------------


def test_back_and_submit_again_makes_one_share_and_one_post(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    browser = browser_for(emma)
    form = browser.get(compose_url(pub)).context["form"]
    token = form.initial["submit_token"]
    data = {
        "commentary": "The turbines are turning.",
        "targets": [f"connection:{linkedin.pk}"],
        "when": "now",
        "submit_token": token,
    }
    first = browser.post(compose_url(pub), data)
    assert first.status_code == 302
    again = browser.post(compose_url(pub), data)  # Back, then Submit: the same page, the same token
    assert again.status_code == 302
    shares = list(Share.objects.for_org(pub.org))
    assert len(shares) == 1
    assert urlsplit(again["Location"]).path == reverse(
        "content:share_detail", kwargs={"org_slug": pub.org.slug, "share_id": shares[0].pk}
    )
    pub.wait_until(shares[0], Share.Status.PUBLISHED)
    assert len(pub.posts("linkedin")) == 1


def test_a_double_click_at_the_same_moment_makes_one_share(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    results, errors = [], []

    def submit():
        try:
            results.append(
                sharing.submit_share(
                    actor=emma,
                    item_id=pub.item.pk,
                    commentary="Double click.",
                    target_keys=[f"connection:{x.pk}"],
                    submit_key="same-click",
                ).pk
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results)) == 1, (results, errors)
    share = Share.objects.for_org(pub.org).get()
    pub.wait_until(share, Share.Status.PUBLISHED)
    assert len(pub.posts("x")) == 1


def test_the_api_with_the_same_idempotency_key_answers_the_first_share_again(pub):
    emma = pub.employee()
    facebook = pub.connect(emma, "facebook")
    api = browser_for(emma)
    url = f"/api/v1/o/{pub.org.slug}/shares/"
    body = {"item": pub.item.pk, "commentary": "Our Page says hello.", "targets": [f"connection:{facebook.pk}"]}
    first = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    again = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    other = api.post(
        url, {**body, "commentary": "Other words."}, content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    share = Share.objects.for_org(pub.org).get()
    pub.wait_until(share, Share.Status.PUBLISHED)
    assert len(pub.posts("facebook")) == 1


def test_the_same_item_to_the_same_account_again_asks_first(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    browser = browser_for(emma)
    data = {"commentary": "First tab.", "targets": [f"connection:{linkedin.pk}"], "when": "now"}
    first = browser.post(compose_url(pub), {**data, "submit_token": "tab-1"})
    assert first.status_code == 302
    second = browser.post(compose_url(pub), {**data, "commentary": "Second tab.", "submit_token": "tab-2"})
    assert second.status_code == 200
    page = second.content.decode()
    assert 'data-testid="repeat-question"' in page and "You shared this to LinkedIn just now. Share again?" in page
    assert Share.objects.for_org(pub.org).count() == 1
    api = browser.post(
        f"/api/v1/o/{pub.org.slug}/shares/",
        {"item": pub.item.pk, "commentary": "API.", "targets": [f"connection:{linkedin.pk}"]},
        content_type="application/json",
    )
    assert api.status_code == 409 and api.json()["error"]["code"] == "repeat_share"
    confirmed = browser.post(
        compose_url(pub), {**data, "commentary": "Second tab.", "submit_token": "tab-2", "confirm_repeat": "1"}
    )
    assert confirmed.status_code == 302
    assert Share.objects.for_org(pub.org).count() == 2


# --- 3. every post that exists is recorded ---------------------------------------------------

POST_PATHS = {"linkedin": "/rest/posts", "x": "/2/tweets", "facebook": "/feed"}


@pytest.mark.parametrize("network", NETWORKS)
def test_a_lost_answer_ends_published_with_the_networks_id(pub, network):
    emma = pub.employee()
    account = pub.connect(emma, network)
    pub.emulator.fault(network, "lost", path=POST_PATHS[network], method="POST")
    share = pub.share(emma, [account])
    pub.wait_until(share, Share.Status.PUBLISHED)
    posts = pub.posts(network)
    delivery = pub.deliveries(share)[0]
    assert len(posts) == 1, posts
    assert delivery.status == Delivery.Status.PUBLISHED and delivery.remote_id == posts[0]["id"]


@pytest.mark.parametrize("network", NETWORKS)
def test_a_slow_answer_past_our_timeout_ends_published_with_the_networks_id(pub, network):
    emma = pub.employee()
    account = pub.connect(emma, network)
    # The worker gives up after NETWORK_TIMEOUT (4 s); the network answers after 6.
    pub.emulator.fault(network, "slow", path=POST_PATHS[network], method="POST", delay=6)
    share = pub.share(emma, [account])
    pub.wait_until(share, Share.Status.PUBLISHED, timeout=45)
    posts = pub.posts(network)
    delivery = pub.deliveries(share)[0]
    assert len(posts) == 1, posts
    assert delivery.remote_id == posts[0]["id"]


def test_a_post_no_look_up_can_name_is_posted_id_unknown_and_its_link_attaches_it(pub):
    """X: the answer is lost, the timeline look-up fails every time, and the retry is refused
    as a duplicate. The post exists: shown as posted, counted, and its link attaches it."""
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "lost", path="/2/tweets", method="POST")
    # This app's X access level may not read timelines: no look-up is possible.
    pub.emulator.fault("x", "forbidden", path=f"/2/users/{x.remote_id}/tweets", times=20)
    share = pub.share(emma, [x])
    pub.wait_until(share, Share.Status.PUBLISHED, timeout=45)
    pub.emulator.control("DELETE", "faults")
    delivery = pub.deliveries(share)[0]
    assert delivery.status == Delivery.Status.POSTED_ID_UNKNOWN, (delivery.status, delivery.last_error)
    assert delivery.remote_id == "" and delivery.published_at is not None
    assert "Paste the post's link" in delivery.last_error
    [post] = pub.posts("x")

    browser = browser_for(emma)
    detail = reverse("content:share_detail", kwargs={"org_slug": pub.org.slug, "share_id": share.pk})
    page = browser.get(detail).content.decode()
    assert 'data-testid="attach-form"' in page and "Posted (link not known yet)" in page
    attach = reverse("content:delivery_attach", kwargs={"org_slug": pub.org.slug, "delivery_id": delivery.pk})
    wrong = browser.post(attach, {"url": "https://x.com/someone/status/123"}, follow=True)
    assert "We could not find that post on X" in wrong.content.decode()
    not_a_post = browser.post(attach, {"url": "https://example.com/news"}, follow=True)
    assert "not a link to an X post" in not_a_post.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.POSTED_ID_UNKNOWN, "a post that is not hers changes nothing"
    browser.post(attach, {"url": f"https://x.com/{x.username or 'emma'}/status/{post['id']}?s=20"})
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PUBLISHED and delivery.remote_id == post["id"]
    assert len(pub.posts("x")) == 1


def test_linkedin_without_the_finder_names_the_post_from_its_duplicate_answer(pub, settings):
    """An app without LinkedIn's partner scopes cannot list the member's posts; after a lost
    answer, LinkedIn's duplicate refusal names the URN, and that is recorded."""
    pub.emulator.register_app(
        "linkedin",
        "acme-linkedin-app",
        "li-secret",
        [settings.SITE_URL + "/connections/callback/linkedin/"],
        partner=False,
    )
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    pub.emulator.fault("linkedin", "lost", path="/rest/posts", method="POST")
    share = pub.share(emma, [linkedin])
    pub.wait_until(share, Share.Status.PUBLISHED)
    [post] = pub.posts("linkedin")
    delivery = pub.deliveries(share)[0]
    assert delivery.status == Delivery.Status.PUBLISHED and delivery.remote_id == post["id"]


def test_a_delivery_posted_with_its_id_unknown_counts_as_published_for_the_share(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "lost", path="/2/tweets", method="POST")
    pub.emulator.fault("x", "forbidden", path=f"/2/users/{x.remote_id}/tweets", times=20)
    share = pub.share(emma, [x])
    pub.wait_until(share, Share.Status.PUBLISHED, timeout=45)
    with pytest.raises(Conflict, match=r"nothing to retry"):
        publishing.retry_delivery(actor=emma, delivery_id=pub.deliveries(share)[0].pk)


def test_linkedin_gets_the_items_title_on_its_card_and_the_disclosure_as_a_real_hashtag(pub):
    Policy.objects.for_org(pub.org).update_or_create(
        organization=pub.org, defaults={"disclosure": "#AcmeEmployee", "disclosure_mode": "append"}
    )
    pub.item.description = "Forty turbines, enough for 60,000 homes."
    pub.item.save()
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    share = pub.share(emma, [linkedin], words="Proud of this one.")
    pub.wait_until(share, Share.Status.PUBLISHED)
    [post] = pub.posts("linkedin")
    article = post["extra"]["content"]["article"]
    assert (article["title"], article["description"]) == (
        "Acme opens a wind farm",
        "Forty turbines, enough for 60,000 homes.",
    )
    assert "{hashtag|\\#|AcmeEmployee}" in post["raw"] and post["extra"]["hashtags"] == ["AcmeEmployee"]
    assert "#AcmeEmployee" in post["text"]

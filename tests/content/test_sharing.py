"""The employee's side: feed, composer rules, submit, versions, cancel, assisted shares."""

import html
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from advocacy.errors import Conflict, NotFound, ValidationFailed
from content import hooks
from content.models import Delivery, Share, ShareVersion
from content.selectors.sharing import feed_for, feed_page
from content.services import sharing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory, TeamFactory
from tests.content.factories import ContentItemFactory, ShareFactory, SuggestionFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(settings):
    settings.SITE_URL = "https://go.acme.example"  # tracked links on a real domain (X counts them 23)
    settings.NETWORK_APPS = {"linkedin": ("li", "s"), "x": ("x", "s"), "facebook": ("", "")}
    return OrganizationFactory(slug="acme", timezone="Europe/Paris")


@pytest.fixture
def emma(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])


@pytest.fixture
def x_account(emma):
    return SocialConnectionFactory(organization=emma.organization, user=emma.user, network="x", refresh_token="r")


def submit(emma, item, keys, text="My own words about this launch.", **kwargs):
    return sharing.submit_share(
        confirm_repeat=True, actor=emma, item_id=item.pk, commentary=text, target_keys=keys, **kwargs
    )


# --- the feed -----------------------------------------------------------------------------


def feed(membership, **filters) -> list[int]:
    """The feed's item ids by the queryset (`feed_for`, the digest's) and by the page's one
    statement (`feed_page`, the feed page's): they must be the same rows in the same order."""
    by_queryset = [item.pk for item in feed_for(membership, **filters)]
    by_page = [card.pk for card in feed_page(membership, limit=1000, **filters)]
    assert by_page == by_queryset
    return by_page


def ids(*items) -> list[int]:
    return [item.pk for item in items]


def test_feed_shows_live_items_targeted_at_me_featured_first_then_newest(org, emma):
    sales = TeamFactory(organization=org)
    emma.teams.add(sales)
    now = timezone.now()
    old = ContentItemFactory(organization=org, published_at=now - timedelta(days=2))
    new = ContentItemFactory(organization=org, published_at=now - timedelta(hours=1))
    featured = ContentItemFactory(organization=org, featured=True, published_at=now - timedelta(days=5))
    for_sales = ContentItemFactory(organization=org, published_at=now - timedelta(days=3))
    for_sales.target_teams.add(sales)
    for_others = ContentItemFactory(organization=org)
    for_others.target_teams.add(TeamFactory(organization=org))
    ContentItemFactory(organization=org, status="draft")
    ContentItemFactory(organization=org, expires_at=now - timedelta(minutes=1))
    ContentItemFactory(organization=org, starts_at=now + timedelta(hours=1))
    ContentItemFactory()  # another organization
    assert feed(emma) == ids(featured, new, old, for_sales)


def test_expired_items_leave_the_feed_on_time(org, emma):
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=UTC), tick=False):
        item = ContentItemFactory(organization=org, expires_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
        assert feed(emma) == ids(item)
    with time_machine.travel(datetime(2026, 11, 23, 12, 0, tzinfo=UTC), tick=False):
        assert feed(emma) == []


def test_feed_filters_by_topic_search_and_followed_topics(org, emma):
    green = TopicFactory(organization=org, slug="green")
    a = ContentItemFactory(organization=org, title="Solar roof on the Lyon plant")
    a.topics.add(green)
    b = ContentItemFactory(organization=org, title="Quarterly results")
    c = ContentItemFactory(organization=org, title="Up 100% in a_year", description="Results")
    TopicFactory(slug="green").items.add(ContentItemFactory(title="Elsewhere"))  # another organization's
    assert feed(emma, topic="green") == ids(a)
    assert feed(emma, search="quarterly") == ids(b)
    assert feed(emma, search="RESULTS") == ids(c, b), "title or description, any case"
    assert feed(emma, search="100%") == ids(c) and feed(emma, search="a_y") == ids(c), "% and _ are letters"
    assert feed(emma, search="0%") == ids(c) and feed(emma, search="n_a") == []
    assert feed(emma, followed=True) == []
    green.followers.add(emma)
    assert feed(emma, followed=True) == ids(a)
    assert feed(emma, followed=True, search="solar", topic="green") == ids(a)


def test_feed_counts_colleagues_who_shared(org, emma):
    item = ContentItemFactory(organization=org)
    for _ in range(3):
        ShareFactory(item=item, organization=org)
    ShareFactory(item=item, organization=org, status="cancelled")
    ShareFactory(item=item, organization=org, author=emma.user)
    TopicFactory(organization=org, name="Energy").items.add(item)
    SuggestionFactory(item=item, text="Proud of this", position=1)
    first = SuggestionFactory(item=item, text="Read this", network="x", position=0)
    [card] = feed_page(emma)
    assert card.colleagues_shared == 3
    assert card.topic_names == ["Energy"]
    assert [(s.pk, s.text, s.network) for s in card.suggestions] == [
        (first.pk, "Read this", "x"),
        (card.suggestions[1].pk, "Proud of this", ""),
    ]


# Session, user, membership; the page's cards in one statement (rows, suggestions, topics,
# colleague counts); followed topics, the topic list; the layout's organizations and unread
# notifications.
FEED_QUERIES = 8


def test_feed_page_query_count_is_fixed(client, org, emma):
    client.force_login(emma.user)
    url = reverse("content:feed", kwargs={"org_slug": "acme"})
    client.get(url)
    counts = []
    for _ in range(2):
        for _ in range(5):
            item = ContentItemFactory(organization=org)
            SuggestionFactory(item=item)
            item.topics.add(TopicFactory(organization=org))
            ShareFactory(item=item, organization=org)
        with CaptureQueriesContext(db) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx))
    assert counts == [FEED_QUERIES, FEED_QUERIES], counts


def test_the_feed_pages_through_items_without_counting_them(client, org, emma):
    for i in range(45):
        ContentItemFactory(organization=org, title=f"News {i:02d}", published_at=timezone.now() - timedelta(hours=i))
    client.force_login(emma.user)
    url = reverse("content:feed", kwargs={"org_slug": "acme"})

    def page(query: str) -> tuple[list[str], str]:
        with CaptureQueriesContext(db) as ctx:
            response = client.get(url + query)
        assert response.status_code == 200
        assert not [q["sql"] for q in ctx if "COUNT(*)" in q["sql"] and "content_contentitem" in q["sql"]], (
            "the feed is never counted"
        )
        body = response.content.decode()
        titles = [t for t in (f"News {i:02d}" for i in range(45)) if f">{t}</h2>" in body]
        pager = body.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0] if 'class="pager"' in body else ""
        return titles, pager

    titles, pager = page("")
    assert titles == [f"News {i:02d}" for i in range(20)]
    assert "Page 1" in pager and 'rel="next"' in pager and 'rel="prev"' not in pager and "in all" not in pager
    titles, pager = page("?page=3")
    assert titles == [f"News {i:02d}" for i in range(40, 45)]
    assert "Page 3" in pager and 'rel="prev"' in pager and 'rel="next"' not in pager
    assert page("?page=abc")[0] == page("")[0], "a bad number is the first page"
    titles, pager = page("?page=9")
    assert titles == [] and "Nothing to share yet" in client.get(url + "?page=9").content.decode()
    assert 'href="?page=8" rel="prev"' in pager


# --- the composer ---------------------------------------------------------------------------


def test_suggestion_is_spread_over_colleagues_and_stable_for_each(org):
    item = ContentItemFactory(organization=org)
    variants = [SuggestionFactory(item=item) for _ in range(3)]
    members = [MembershipFactory(organization=org) for _ in range(30)]
    picks = [sharing.pick_suggestion(item, m) for m in members]
    assert len({p.pk for p in picks}) >= 2, "not always the same sentence"
    assert {p.pk for p in picks} <= {v.pk for v in variants}
    assert sharing.pick_suggestion(item, members[0]) == picks[0]


def test_targets_offer_my_accounts_assisted_shares_and_disable_what_needs_reconnecting(org, emma, x_account):
    broken = SocialConnectionFactory(
        organization=org, user=emma.user, status="needs_reconnect", status_reason="LinkedIn asks you to reconnect."
    )
    SocialConnectionFactory(organization=org, network="x")  # a colleague's
    targets = {t.key: t for t in sharing.targets_for(emma)}
    assert (
        targets[f"connection:{x_account.pk}"].mode == "api"
        and not targets[f"connection:{x_account.pk}"].disabled_reason
    )
    assert targets[f"connection:{broken.pk}"].disabled_reason == "LinkedIn asks you to reconnect."
    assert {"assisted:linkedin", "assisted:x", "assisted:facebook"} <= set(targets)
    assert len([t for t in targets.values() if t.mode == "api"]) == 2


def test_x_counts_the_link_as_23_and_refuses_too_long_text(org, emma, x_account):
    item = ContentItemFactory(organization=org)
    link = sharing.sample_link()
    checks = sharing.text_checks({net: sharing.final_text(net, "a" * 255, link) for net in ("x", "linkedin")})
    assert checks["x"]["length"] == 255 + 2 + 23 and checks["x"]["fits"]
    with pytest.raises(ValidationFailed) as refused:
        submit(emma, item, [f"connection:{x_account.pk}"], text="a" * 256)
    assert refused.value.message == (
        "Too long for X: 281 characters as posted, where X allows 280. Shorten it by 1 character."
    )
    assert not Share.objects.for_org(org).exists()


# --- submitting -----------------------------------------------------------------------------


def test_submit_creates_share_version_and_one_delivery_per_target_with_tracked_links(org, emma, x_account):
    item = ContentItemFactory(organization=org)
    share = submit(emma, item, [f"connection:{x_account.pk}", "assisted:linkedin"])
    assert share.status == "approved", "no screening registered: approved at once"
    assert list(ShareVersion.objects.for_org(org).filter(share=share).values_list("number", "commentary")) == [
        (1, "My own words about this launch.")
    ]
    deliveries = {d.network: d for d in Delivery.objects.for_org(org).filter(share=share)}
    assert (deliveries["x"].mode, deliveries["x"].connection) == ("api", x_account)
    assert deliveries["linkedin"].mode == "assisted"
    for d in deliveries.values():
        assert d.text.endswith(f"/r/{d.tracking_code}") and d.status == "pending"
    assert deliveries["x"].tracking_code != deliveries["linkedin"].tracking_code


def test_unchanged_suggestion_is_recorded_as_not_personalised(org, emma, x_account):
    item = ContentItemFactory(organization=org)
    suggestion = SuggestionFactory(item=item, text="We shipped it!")
    same = submit(emma, item, ["assisted:x"], text="We shipped it!", suggestion_id=suggestion.pk)
    own = submit(emma, item, ["assisted:x"], text="We shipped it! I led the QA.", suggestion_id=suggestion.pk)
    assert (same.is_personalised, own.is_personalised) == (False, True)


def test_foreign_or_unknown_targets_are_refused(org, emma):
    colleague_account = SocialConnectionFactory(organization=org, network="x")
    item = ContentItemFactory(organization=org)
    with pytest.raises(ValidationFailed, match="not one of yours"):
        submit(emma, item, [f"connection:{colleague_account.pk}"])
    with pytest.raises(ValidationFailed, match="at least one account"):
        submit(emma, item, [])


def test_an_item_not_targeted_at_me_cannot_be_shared(org, emma):
    item = ContentItemFactory(organization=org)
    item.target_teams.add(TeamFactory(organization=org))
    with pytest.raises(NotFound):
        submit(emma, item, ["assisted:x"])


def test_posting_hours_refuse_a_time_outside_and_offer_the_next_allowed(org, emma):
    org.posting_hours_start, org.posting_hours_end = time(8, 0), time(20, 0)
    org.save()
    item = ContentItemFactory(organization=org)
    late = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)  # 22:30 in Paris
    with time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), tick=False):
        with pytest.raises(ValidationFailed, match="The next allowed time is Wednesday 2 December at 08:00"):
            submit(emma, item, ["assisted:x"], scheduled_for=late)
        ok = submit(emma, item, ["assisted:x"], scheduled_for=datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    assert ok.status == "scheduled"


def test_the_daily_cap_is_explained_and_enforced_in_the_orgs_day(org, emma):
    org.daily_share_cap = 2
    org.save()
    item = ContentItemFactory(organization=org)
    with time_machine.travel(datetime(2026, 11, 30, 22, 0, tzinfo=UTC), tick=False):  # 23:00 in Paris
        assert sharing.shares_left_today(emma) == 2
        submit(emma, item, ["assisted:x"])
        submit(emma, item, ["assisted:linkedin"])
        assert sharing.shares_left_today(emma) == 0
        with pytest.raises(Conflict, match="shared 2 times today"):
            submit(emma, item, ["assisted:x"])
    with time_machine.travel(datetime(2026, 11, 30, 23, 5, tzinfo=UTC), tick=False):  # a new day in Paris
        assert sharing.shares_left_today(emma) == 2


def test_a_time_in_the_past_is_refused(org, emma):
    item = ContentItemFactory(organization=org)
    with pytest.raises(ValidationFailed, match="in the future"):
        submit(emma, item, ["assisted:x"], scheduled_for=timezone.now() - timedelta(hours=1))


def test_screening_hook_routes_to_review_or_rejects(org, emma, monkeypatch):
    item = ContentItemFactory(organization=org)

    def review_everything(**kwargs):
        return hooks.ScreeningResult(needs_review=True, texts=kwargs["texts"])

    monkeypatch.setattr(hooks, "_screen", review_everything)
    assert submit(emma, item, ["assisted:x"]).status == "in_review"

    def block_guarantees(**kwargs):
        finding = hooks.Finding(rule="lexicon", action="block", message='"guaranteed returns" is not allowed')
        return hooks.ScreeningResult(blocked=True, findings={"x": [finding]}, texts=kwargs["texts"])

    monkeypatch.setattr(hooks, "_screen", block_guarantees)
    rejected = submit(emma, item, ["assisted:x"])
    assert rejected.status == "rejected" and "guaranteed returns" in rejected.review_comment


# --- after submitting -----------------------------------------------------------------------


def test_editing_makes_a_new_version_and_keeps_the_old(org, emma):
    share = submit(emma, ContentItemFactory(organization=org), ["assisted:x"])
    assert share.status == "approved"
    edited = sharing.edit_share(actor=emma, share_id=share.pk, commentary="Better words, mine.")
    # Changed after approval: a human looks at the new words (content.lifecycle.needs_human).
    assert edited.version == 2 and edited.status == "in_review"
    versions = ShareVersion.objects.for_org(org).filter(share=share).order_by("number")
    assert [v.commentary for v in versions] == ["My own words about this launch.", "Better words, mine."]
    assert Delivery.objects.for_org(org).get(share=share).text.startswith("Better words, mine.")


def test_cancel_before_publishing_and_not_after(org, emma):
    share = submit(emma, ContentItemFactory(organization=org), ["assisted:x"])
    cancelled = sharing.cancel_share(actor=emma, share_id=share.pk)
    assert cancelled.status == "cancelled"
    assert Delivery.objects.for_org(org).get(share=share).status == "cancelled"
    published = ShareFactory(organization=org, item=share.item, author=emma.user, status="published")
    with pytest.raises(Conflict, match="published"):
        sharing.cancel_share(actor=emma, share_id=published.pk)


def test_someone_elses_share_is_not_found(org, emma):
    other = ShareFactory(organization=org, item=ContentItemFactory(organization=org))
    with pytest.raises(NotFound):
        sharing.cancel_share(actor=emma, share_id=other.pk)


def test_assisted_share_opens_the_network_window_with_the_tracked_link_and_is_recorded(org, emma):
    share = submit(emma, ContentItemFactory(organization=org), ["assisted:facebook"])
    delivery = Delivery.objects.for_org(org).get(share=share)
    url = sharing.assisted_share_url(delivery)
    assert url.startswith("https://www.facebook.com/sharer/sharer.php?u=") and delivery.tracking_code in url
    done = sharing.confirm_assisted_share(actor=emma, delivery_id=delivery.pk)
    assert done.status == "published" and done.published_at


def test_assisted_share_to_x_carries_the_approved_text_with_the_disclosure(org, emma):
    from urllib.parse import parse_qs, urlsplit

    from compliance.models import Policy

    Policy.objects.for_org(org).update_or_create(
        organization=org, defaults={"disclosure": "#AcmeEmployee", "disclosure_mode": "append"}
    )
    share = submit(emma, ContentItemFactory(organization=org), ["assisted:x"])
    delivery = Delivery.objects.for_org(org).get(share=share)
    link = sharing.tracked_url(delivery)
    assert "#AcmeEmployee" in delivery.text and link in delivery.text
    params = parse_qs(urlsplit(sharing.assisted_share_url(delivery)).query)
    assert params["url"] == [link]
    (text,) = params["text"]
    assert "#AcmeEmployee" in text and link not in text
    assert text == "\n\n".join(p.strip() for p in delivery.text.split(link) if p.strip())


# --- pages --------------------------------------------------------------------------------


def test_composer_keeps_everything_typed_when_refused(client, org, emma, x_account):
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    url = reverse("content:compose", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    response = client.post(url, {"commentary": "b" * 300, "targets": [f"connection:{x_account.pk}"], "when": "now"})
    body = response.content.decode()
    sentence = "Too long for X: 325 characters as posted, where X allows 280. Shorten it by 45 characters."
    assert response.status_code == 200 and sentence in body and "b" * 300 in body
    assert f'value="connection:{x_account.pk}" data-network="x" checked' in body
    assert not Share.objects.for_org(org).exists()


def test_composer_schedules_in_the_employees_time_zone_across_daylight_saving(client, org, emma):
    emma.user.timezone = "Europe/Paris"
    emma.user.save()
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    url = reverse("content:compose", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    with time_machine.travel(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False):
        for local_day in ("2026-03-27", "2026-03-30"):  # before and after the change on 29 March
            client.post(
                url,
                {
                    "commentary": "Mine.",
                    "targets": ["assisted:x"],
                    "when": "later",
                    "scheduled_for": f"{local_day}T09:00",
                    "confirm_repeat": "1",  # the second is the same item again, on purpose
                },
            )
    times = sorted(s.scheduled_for for s in Share.objects.for_org(org))
    assert times == [datetime(2026, 3, 27, 8, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)]


def test_composer_check_counts_and_nudges(client, org, emma):
    item = ContentItemFactory(organization=org)
    suggestion = SuggestionFactory(item=item, text="We shipped it!")
    client.force_login(emma.user)
    url = reverse("content:compose_check", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    same = client.post(url, {"commentary": "We shipped it!", "targets": ["assisted:x"], "suggestion": suggestion.pk})
    body = same.content.decode()
    assert 'data-testid="nudge"' in body and "39 / 280" in body
    own = client.post(url, {"commentary": "We shipped it! Proud.", "suggestion": suggestion.pk})
    assert 'data-testid="nudge"' not in own.content.decode()


@pytest.mark.parametrize("page", ["compose", "my_shares"])
def test_composer_and_my_shares_query_counts_are_fixed(client, org, emma, x_account, page):
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    url = (
        reverse("content:compose", kwargs={"org_slug": "acme", "content_item_id": item.pk})
        if page == "compose"
        else reverse("content:my_shares", kwargs={"org_slug": "acme"})
    )
    client.get(url)
    counts = []
    for _ in range(2):
        for _ in range(4):
            SuggestionFactory(item=item)
            SocialConnectionFactory(organization=org, user=emma.user, network="linkedin")
            submit(emma, item, ["assisted:x", "assisted:linkedin"])
        with CaptureQueriesContext(db) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts


def test_api_create_list_cancel_and_resubmit(client, org, emma):
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    created = client.post(
        "/api/v1/o/acme/shares/",
        {"item": item.pk, "commentary": "Mine.", "targets": ["assisted:x"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    share_id = created.json()["id"]
    assert created.json()["deliveries"][0]["tracked_url"].endswith(created.json()["deliveries"][0]["text"][-8:])
    resubmitted = client.post(
        f"/api/v1/o/acme/shares/{share_id}/resubmit/", {"commentary": "Mine, v2."}, content_type="application/json"
    )
    assert resubmitted.json()["version"] == 2
    refused = client.post(
        "/api/v1/o/acme/shares/",
        {"item": item.pk, "commentary": "", "targets": ["assisted:x"]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["error"]["fields"]["commentary"]
    assert client.post(f"/api/v1/o/acme/shares/{share_id}/cancel/").json()["status"] == "cancelled"
    assert client.get("/api/v1/o/acme/deliveries/").json()["count"] == 1


def test_sharing_waits_for_the_current_guidelines_to_be_accepted(org, emma):
    from accounts.models import Role
    from accounts.services.guidelines import accept_guidelines, publish_guideline
    from tests.accounts.factories import acting

    item = ContentItemFactory(organization=org)
    first = publish_guideline(actor=acting(org, Role.COMPLIANCE), title="Rules", body="Be yourself.")
    with pytest.raises(ValidationFailed, match=r"guidelines \(version 1\)"):
        submit(emma, item, ["assisted:x"])
    accept_guidelines(actor=emma, guideline_id=first.pk)
    assert submit(emma, item, ["assisted:x"]).status == "approved"
    publish_guideline(actor=acting(org, Role.COMPLIANCE), title="Rules", body="Be yourself. Disclose.")
    with pytest.raises(ValidationFailed, match="version 2"):
        submit(emma, item, ["assisted:x"])
    assert Share.objects.for_org(org).count() == 1


def test_composer_shows_findings_and_a_preview_per_network_before_submitting(client, org, emma, monkeypatch):
    item = ContentItemFactory(organization=org)

    def flag_guarantee(**kwargs):
        findings = {
            net: [hooks.Finding(rule="lexicon", action="review", message='"guaranteed" needs a review')]
            for net, text in kwargs["texts"].items()
            if "guaranteed" in text
        }
        return hooks.ScreeningResult(findings=findings, needs_review=bool(findings), texts=kwargs["texts"])

    monkeypatch.setattr(hooks, "_screen", flag_guarantee)
    client.force_login(emma.user)
    url = reverse("content:compose_check", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    body = html.unescape(
        client.post(
            url, {"commentary": "Returns guaranteed!", "targets": ["assisted:x", "assisted:linkedin"]}
        ).content.decode()
    )
    assert 'data-testid="findings"' in body and 'data-findings="X"' in body
    assert '<span class="finding-badge finding-review">needs review</span> "guaranteed" needs a review' in body
    assert 'data-preview="LinkedIn"' in body and 'data-preview="X"' in body and 'data-preview="Facebook"' not in body
    clean = client.post(url, {"commentary": "Proud of the team.", "targets": ["assisted:x"]}).content.decode()
    assert 'data-testid="findings"' not in clean
    assert not Share.objects.for_org(org).exists(), "checking saves nothing"


def test_composer_explains_the_limits_before_submitting(client, org, emma):
    org.daily_share_cap, org.posting_hours_start, org.posting_hours_end = 3, time(8, 0), time(20, 0)
    org.save()
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False):  # 11:00 in Paris
        body = client.get(
            reverse("content:compose", kwargs={"org_slug": "acme", "content_item_id": item.pk})
        ).content.decode()
    assert "You can share 3 more times today." in body
    # In the viewer's zone with its abbreviation (issue 16: times are labelled).
    assert "Posts go out between 08:00 and 20:00 CET." in body


def test_composer_counts_and_previews_the_disclosure_the_policy_appends(client, org, emma):
    from compliance.models import Policy

    Policy.objects.for_org(org).update_or_create(
        organization=org, defaults={"disclosure": "#AcmeEmployee", "disclosure_mode": "append"}
    )
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    url = reverse("content:compose_check", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    body = client.post(url, {"commentary": "We shipped it!", "targets": ["assisted:x"]}).content.decode()
    # 14 words + the link (23) + its blank line (2) + the disclosure and its separator (14).
    assert "53 / 280" in body
    assert "#AcmeEmployee" in body


# --- one text, per-network words, remembered accounts (issue 16, items 1 and 2) -------------


def test_words_adapted_for_one_network_go_to_that_network_only(org, emma, x_account):
    item = ContentItemFactory(organization=org)
    share = submit(
        emma,
        item,
        [f"connection:{x_account.pk}", "assisted:linkedin"],
        text="A long story for LinkedIn about the launch.",
        network_texts={"x": "  Short, for X.  ", "facebook": "Not chosen, so dropped."},
    )
    texts = {d.network: d.text for d in Delivery.objects.for_org(org).filter(share=share)}
    assert texts["x"].startswith("Short, for X.\n\n") and texts["linkedin"].startswith("A long story for LinkedIn")
    assert share.network_texts == {"x": "Short, for X."}
    version = ShareVersion.objects.for_org(org).get(share=share)
    assert (version.commentary, version.network_texts) == (share.commentary, {"x": "Short, for X."})
    # The same words as the common ones are not kept as an adaptation.
    same = submit(emma, item, ["assisted:x"], text="Same words.", network_texts={"x": "Same words."})
    assert same.network_texts == {}


def test_an_unknown_network_in_the_adapted_words_is_refused_and_nothing_saved(org, emma):
    item = ContentItemFactory(organization=org)
    with pytest.raises(ValidationFailed, match="“myspace” is not a network"):
        submit(emma, item, ["assisted:x"], network_texts={"myspace": "Hello"})
    assert not Share.objects.for_org(org).exists()


def test_the_length_is_checked_on_each_network_words(org, emma, x_account):
    item = ContentItemFactory(organization=org)
    with pytest.raises(ValidationFailed) as refused:
        submit(emma, item, [f"connection:{x_account.pk}", "assisted:linkedin"], network_texts={"x": "b" * 300})
    assert refused.value.message.startswith("Too long for X: 325 characters as posted")
    assert not Share.objects.for_org(org).exists()


def test_editing_keeps_or_replaces_the_adapted_words(org, emma, x_account):
    item = ContentItemFactory(organization=org)
    share = submit(emma, item, [f"connection:{x_account.pk}", "assisted:linkedin"], network_texts={"x": "For X."})
    edited = sharing.edit_share(actor=emma, share_id=share.pk, commentary="New words for everyone.")
    texts = {d.network: d.text for d in Delivery.objects.for_org(org).filter(share=edited)}
    assert edited.network_texts == {"x": "For X."} and texts["x"].startswith("For X.")
    assert texts["linkedin"].startswith("New words for everyone.")
    again = sharing.edit_share(actor=emma, share_id=share.pk, commentary="Once more.", network_texts={})
    texts = {d.network: d.text for d in Delivery.objects.for_org(org).filter(share=again)}
    assert again.network_texts == {} and texts["x"].startswith("Once more.")
    assert list(ShareVersion.objects.for_org(org).filter(share=share).values_list("number", "network_texts")) == [
        (1, {"x": "For X."}),
        (2, {"x": "For X."}),
        (3, {}),
    ]


def test_an_unchanged_suggestion_counts_a_network_own_suggestion_as_unchanged(org, emma):
    item = ContentItemFactory(organization=org)
    general = SuggestionFactory(item=item, text="For everyone.")
    SuggestionFactory(item=item, network="x", text="For X.")
    suggestions = list(item.suggestions.all())
    assert sharing.unchanged_suggestion(suggestions, "For everyone.", {"x": "For X."}, ["linkedin", "x"])
    assert sharing.unchanged_suggestion(suggestions, "For everyone.", {}, ["linkedin", "x"])
    assert not sharing.unchanged_suggestion(suggestions, "For everyone.", {"x": "Mine."}, ["linkedin", "x"])
    assert not sharing.unchanged_suggestion(suggestions, "For X.", {}, ["linkedin"]), "X's words are not LinkedIn's"
    share = submit(
        emma, item, ["assisted:linkedin", "assisted:x"], text="For everyone.", network_texts={"x": "For X."},
        suggestion_id=general.pk,
    )  # fmt: skip
    assert share.is_personalised is False


def test_the_accounts_of_the_last_share_are_preselected(org, emma, x_account):
    linkedin = SocialConnectionFactory(organization=org, user=emma.user, network="linkedin", refresh_token="r")
    broken = SocialConnectionFactory(
        organization=org, user=emma.user, network="linkedin", status="needs_reconnect", refresh_token="r"
    )
    targets = sharing.targets_for(emma)
    first_time = sharing.preselected_targets(emma, targets)
    assert sorted(first_time) == sorted([f"connection:{x_account.pk}", f"connection:{linkedin.pk}"])
    item = ContentItemFactory(organization=org)
    submit(emma, item, [f"connection:{x_account.pk}", "assisted:facebook"])
    emma.refresh_from_db()
    assert emma.last_share_targets == [f"connection:{x_account.pk}", "assisted:facebook"]
    assert sharing.preselected_targets(emma, sharing.targets_for(emma)) == [
        f"connection:{x_account.pk}",
        "assisted:facebook",
    ]
    emma.last_share_targets = [f"connection:{broken.pk}"]  # needs reconnecting: never ticked
    assert f"connection:{broken.pk}" not in sharing.preselected_targets(emma, targets)


def test_tracking_codes_measure_like_the_composer_stand_in_link(org, settings):
    """The composer counts the post with a stand-in link; a real code must count the same on
    every network (LinkedIn escapes "_" in little text, so codes have none)."""
    from content.models import new_tracking_code
    from networks.text import measure

    stand_in = sharing.sample_link()
    for _ in range(200):
        code = new_tracking_code()
        assert code.isalnum() and len(code) == 8
        for network in ("linkedin", "x", "facebook"):
            real = sharing.final_text(network, "Words (and #hashtags)", f"{settings.SITE_URL}/r/{code}")
            assert measure(network, real) == measure(
                network, sharing.final_text(network, "Words (and #hashtags)", stand_in)
            )


def test_the_composer_starts_from_what_the_feed_card_shows(client, org, emma, x_account):
    item = ContentItemFactory(organization=org)
    for n in range(3):
        SuggestionFactory(item=item, text=f"For every network, variant {n}.")
    SuggestionFactory(item=item, network="x", text="Only for X.")
    client.force_login(emma.user)
    feed = html.unescape(client.get(reverse("content:feed", kwargs={"org_slug": "acme"})).content.decode())
    start = sharing.pick_suggestion(item, emma)
    assert f"“{start.text}”" in feed
    page = client.get(reverse("content:compose", kwargs={"org_slug": "acme", "content_item_id": item.pk}))
    form = page.context["form"]
    assert form["commentary"].value() == start.text and form["text_x"].value() == "Only for X."
    assert form["targets"].value() == [f"connection:{x_account.pk}"]
    body = page.content.decode()
    assert '<button type="submit" form="composer" data-testid="share-button"' in body and ">Share now</button>" in body
    # Assisted windows in their own group, folded away when the app can post for the employee.
    assert '<details class="target-group" data-testid="assisted-targets">' in body


def test_the_composer_says_one_number_where_the_disclosure_makes_a_post_too_long(client, org, emma, x_account):
    """The words fit X, the policy's disclosure does not: the counter, its sentence and the
    submit's refusal give the same count, and the disclosure's finding does not repeat it."""
    from tests.compliance.factories import PolicyFactory

    PolicyFactory(organization=org, disclosure="#AcmeEmployee", disclosure_mode="append")
    item = ContentItemFactory(organization=org)
    words = "c" * 250  # 250 + 2 + 23 = 275 fits; with " #AcmeEmployee" 289 does not
    client.force_login(emma.user)
    check = reverse("content:compose_check", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    body = html.unescape(
        client.post(check, {"commentary": words, "targets": [f"connection:{x_account.pk}"]}).content.decode()
    )
    sentence = "Too long for X: 289 characters as posted, where X allows 280. Shorten it by 9 characters."
    assert '<td data-testid="count-x">289 / 280</td>' in body and body.count(sentence) == 1
    assert "does not fit" not in body
    with pytest.raises(ValidationFailed) as refused:
        submit(emma, item, [f"connection:{x_account.pk}"], text=words)
    assert refused.value.message == sentence

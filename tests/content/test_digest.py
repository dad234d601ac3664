"""The content digest: one e-mail (plain text and HTML) per member with what became shareable for them,
at their chosen pace, never twice, with a bounded number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification, NotificationPreference, Role
from content.digest import _send_one, send_digests
from content.models import ContentItem
from tests.accounts.factories import MembershipFactory, NotificationPreferenceFactory, OrganizationFactory, TeamFactory
from tests.content.factories import ContentItemFactory

pytestmark = pytest.mark.django_db

DIGEST = Notification.Kind.CONTENT_DIGEST
NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme")


def employee(org, *teams, **kwargs):
    membership = MembershipFactory(organization=org, roles=kwargs.pop("roles", [Role.EMPLOYEE]), **kwargs)
    membership.teams.add(*teams)
    return membership


def item(org, title, *, ago=timedelta(hours=1), teams=(), **kwargs):
    created = ContentItemFactory(organization=org, title=title, published_at=NOW - ago, **kwargs)
    created.target_teams.add(*teams)
    return created


def prefer(membership, **values):
    NotificationPreferenceFactory(organization=membership.organization, user=membership.user, kind=DIGEST, **values)


def digests(membership):
    return Notification.objects.for_org(membership.organization_id).filter(user_id=membership.user_id, kind=DIGEST)


def mails_to(mailoutbox, membership):
    return [m for m in mailoutbox if m.to == [membership.user.email]]


def test_each_member_gets_one_mail_with_the_live_items_targeted_at_them(org, mailoutbox, settings):
    sales = TeamFactory(organization=org, name="Sales")
    seller, engineer = employee(org, sales), employee(org)
    item(org, "For everyone")
    item(org, "For sales only", teams=[sales])
    item(org, "Still a draft", status=ContentItem.Status.DRAFT)
    item(org, "Expired", expires_at=NOW - timedelta(minutes=5))
    item(org, "Not started", starts_at=NOW + timedelta(days=1))
    item(org, "Old news", ago=timedelta(days=30))

    assert send_digests(now=NOW) == 2

    (to_seller,) = mails_to(mailoutbox, seller)
    (to_engineer,) = mails_to(mailoutbox, engineer)
    assert "For everyone" in to_seller.body and "For sales only" in to_seller.body
    assert "For everyone" in to_engineer.body and "For sales only" not in to_engineer.body
    for body in (to_seller.body, to_engineer.body):
        assert not any(t in body for t in ("Still a draft", "Expired", "Not started", "Old news"))
    assert to_seller.subject == f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}2 new posts to share from Acme"
    assert to_seller.message().get_content_type() == "multipart/alternative"  # plain text and HTML (issue 22)
    assert f"{settings.SITE_URL}/o/acme/feed/" in to_seller.body
    record = digests(seller).get()
    assert record.emailed_at == NOW and record.url == "/o/acme/feed/" and record.read_at is None


def test_an_item_that_starts_later_counts_when_it_goes_live(org, mailoutbox):
    employee(org)
    item(org, "Embargoed launch", ago=timedelta(days=20), starts_at=NOW - timedelta(hours=3))
    assert send_digests(now=NOW) == 1
    assert "Embargoed launch" in mailoutbox[0].body


def test_running_twice_sends_no_second_digest(org, mailoutbox):
    member = employee(org)
    item(org, "News")
    assert send_digests(now=NOW) == 1
    assert send_digests(now=NOW + timedelta(minutes=1)) == 0
    assert len(mailoutbox) == 1 and digests(member).count() == 1


def test_a_concurrent_run_that_already_sent_wins(org, mailoutbox):
    member = employee(org)
    news = item(org, "News")
    send_digests(now=NOW)
    # A second process looked before the first recorded its digest: it must not send.
    assert _send_one(member, [news], last=None, digest="weekly", in_app=True, now=NOW) is False
    assert len(mailoutbox) == 1 and digests(member).count() == 1


def test_weekly_waits_seven_days_and_lists_only_what_is_new(org, mailoutbox):
    member = employee(org)
    item(org, "First week")
    send_digests(now=NOW)
    item(org, "Second week", ago=timedelta(hours=-1))  # published an hour after the first digest
    assert send_digests(now=NOW + timedelta(days=3)) == 0
    assert send_digests(now=NOW + timedelta(days=7)) == 1
    latest = mailoutbox[-1].body
    assert "Second week" in latest and "First week" not in latest
    assert digests(member).count() == 2


def test_daily_sends_again_the_next_morning_even_if_the_run_is_a_bit_early(org, mailoutbox):
    member = employee(org)
    prefer(member, digest=NotificationPreference.Digest.DAILY)
    item(org, "Monday")
    send_digests(now=NOW)
    item(org, "Tuesday", ago=timedelta(hours=-2))
    assert send_digests(now=NOW + timedelta(hours=12)) == 0
    assert send_digests(now=NOW + timedelta(hours=23, minutes=55)) == 1
    assert "Tuesday" in mailoutbox[-1].body and "Monday" not in mailoutbox[-1].body


def test_off_or_no_email_means_no_digest(org, mailoutbox):
    off, no_mail = employee(org), employee(org)
    prefer(off, digest=NotificationPreference.Digest.OFF)
    prefer(no_mail, email=False)
    item(org, "News")
    assert send_digests(now=NOW) == 0 and mailoutbox == []


def test_nothing_new_sends_nothing_and_records_nothing(org, mailoutbox):
    member = employee(org)
    item(org, "Old news", ago=timedelta(days=30))
    assert send_digests(now=NOW) == 0
    assert mailoutbox == [] and not digests(member).exists()


def test_only_active_employees_get_the_digest(org, mailoutbox):
    employee(org, roles=[Role.MARKETER])
    employee(org, is_active=False)
    inactive_user = employee(org)
    inactive_user.user.is_active = False
    inactive_user.user.save()
    item(org, "News")
    assert send_digests(now=NOW) == 0 and mailoutbox == []


def test_many_items_make_one_mail_with_a_pointer_to_the_feed(org, mailoutbox):
    employee(org)
    for n in range(25):
        item(org, f"Story {n}", ago=timedelta(minutes=n + 1))
    assert send_digests(now=NOW) == 1
    body = mailoutbox[0].body
    assert "20+ new posts" in mailoutbox[0].subject and body.count("* Story") == 20 and "more in your feed" in body


def test_in_app_off_keeps_the_record_but_already_read(org, mailoutbox):
    member = employee(org)
    prefer(member, in_app=False)
    item(org, "News")
    send_digests(now=NOW)
    assert digests(member).get().read_at is not None


def test_a_mail_failure_records_nothing_so_the_next_run_retries(org, mailoutbox, settings, caplog):
    member, other = employee(org), employee(OrganizationFactory())
    item(org, "News")
    item(other.organization, "Their news")
    settings.EMAIL_BACKEND = "tests.helpers.FailingMailBackend"
    assert send_digests(now=NOW) == 0
    assert "Could not e-mail the content digest" in caplog.text
    assert not digests(member).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_digests(now=NOW + timedelta(minutes=5)) == 2


def test_queries_are_bounded_per_member_not_per_item(org, django_assert_num_queries):
    """1 for the organizations, 3 per organization, 3 per member with something new (feed, lock
    and re-check, record) plus the two savepoint statements of the member's transaction."""
    sales = TeamFactory(organization=org)
    per_org, per_member = 3, 3 + 2

    def grow(members, items):
        for _ in range(members):
            employee(org, sales)
        for n in range(items):
            item(org, f"Story {n}", teams=[sales] if n % 2 else [])

    grow(members=2, items=2)
    with django_assert_num_queries(1 + per_org + per_member * 2):
        assert send_digests(now=NOW) == 2
    Notification.objects.for_org(org).filter(kind=DIGEST).delete()
    grow(members=3, items=10)
    with django_assert_num_queries(1 + per_org + per_member * 5):
        assert send_digests(now=NOW) == 5
    # Members not due cost nothing beyond the organization's three queries.
    with django_assert_num_queries(1 + per_org):
        assert send_digests(now=NOW + timedelta(hours=1)) == 0

"""The weekly e-mail summary: opted-in executives (and admins) get one e-mail per week on
their organization's Monday morning with last week's headline numbers beside the week
before; nobody else gets anything; never twice; a mail failure is retried next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings as django_settings

from accounts.models import Role
from analytics.digest import send_weekly_summaries, weekly_figures, weekly_report
from analytics.models import AdvocatePreference
from analytics.services import advocate_stats
from analytics.services.advocates import set_weekly_summary
from compliance.models import AuditEntry
from tests.accounts.factories import OrganizationFactory
from tests.analytics.factories import AdvocatePreferenceFactory
from tests.analytics.posts import post, share
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

TZ = "Pacific/Auckland"  # UTC+13 in November: its Monday 07:00 is Sunday 18:00 UTC
MONDAY_7AM = datetime(2026, 11, 15, 18, 0, tzinfo=UTC)


def local(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC) - timedelta(hours=13)


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone=TZ)


@pytest.fixture
def program(org):
    """Week of 9 to 15 Nov (local): 2 posts, 3 sharers; the week before: 1 post."""
    item = ContentItemFactory(organization=org, title="Rocket launch")
    e1, e2, e3 = member(org).user, member(org).user, member(org).user
    post(org, e1, item, at=local(10), likes=3, comments=1, reposts=0, impressions=200, clicks=5, unique_clicks=4)
    post(org, e2, item, at=local(12), likes=2, comments=0, reposts=0, impressions=100, clicks=1, unique_clicks=1)
    share(org, e3, item, at=local(13))
    post(org, e1, item, at=local(3), likes=10, comments=0, reposts=0, impressions=50)
    advocate_stats.refresh(org)


def opted_in(org, *roles, **kwargs):
    membership = member(org, *roles, **kwargs)
    AdvocatePreferenceFactory(organization=org, user=membership.user, weekly_summary=True)
    return membership


def test_headline_numbers_compared_with_the_week_before(org, program):
    figures = {f["key"]: f for f in weekly_figures(weekly_report(org, datetime(2026, 11, 9).date()))}

    def shown(key):
        return figures[key]["value"], figures[key]["previous"], figures[key]["change"]

    assert shown("active_advocates") == ("3", "1", "+200.0%")
    assert shown("shares") == ("3", "1", "+200.0%")
    assert shown("posts")[:2] == ("2", "1")
    assert shown("clicks") == ("6", "0", "not comparable")  # nothing the week before: no percentage
    assert shown("engagement") == ("6", "10", "-40.0%")
    assert shown("impressions") == ("300", "50", "+500.0%")
    assert figures["estimated_reach"]["value"] == "not available"
    assert figures["roi"]["value"] == "not available" and figures["emv"]["value"] == "not available"  # no rates
    assert figures["clicks"]["basis"] == "measured" and figures["estimated_reach"]["basis"] == "estimated"


def test_opted_in_executives_get_one_mail_on_their_monday_morning(org, program, mailoutbox):
    executive = opted_in(org, Role.EXECUTIVE)
    admin = opted_in(org, Role.ADMIN)
    with time_machine.travel(MONDAY_7AM - timedelta(minutes=1), tick=False):
        assert send_weekly_summaries() == 0  # 06:59 on Monday in Auckland: not yet
    with time_machine.travel(MONDAY_7AM + timedelta(minutes=5), tick=False):
        assert send_weekly_summaries() == 2
        assert send_weekly_summaries() == 0  # never twice
    assert sorted(m.to[0] for m in mailoutbox) == sorted([executive.user.email, admin.user.email])
    mail = next(m for m in mailoutbox if m.to == [executive.user.email])
    assert "Acme: your advocacy week (09 Nov to 15 Nov 2026)" in mail.subject
    body = mail.body
    assert "Clicks: 6 (week before: 0, not comparable) - measured" in body
    assert "Engagement: 6 (week before: 10, -40.0%) - measured" in body
    assert "Impressions: 300 (week before: 50, +500.0%)" in body
    assert "Active advocates: 3 (week before: 1, +200.0%)" in body
    assert "Estimated reach: not available" in body and "Estimated reach: 0" not in body
    assert "ROI is not shown: its inputs are not set." in body
    assert "/o/acme/reports/?start=2026-11-09&end=2026-11-15" in body
    assert "/o/acme/analytics/weekly-summary/" in body
    assert AdvocatePreference.objects.for_org(org).get(user=executive.user).weekly_summary_sent_for.day == 9
    # A week later, the next week's summary.
    with time_machine.travel(MONDAY_7AM + timedelta(days=7, hours=1), tick=False):
        assert send_weekly_summaries() == 2
    assert len(mailoutbox) == 4


def test_the_summary_has_the_one_click_unsubscribe_and_it_stops_the_summary(org, program, mailoutbox, client):
    executive = opted_in(org, Role.EXECUTIVE)
    with time_machine.travel(MONDAY_7AM + timedelta(minutes=5), tick=False):
        assert send_weekly_summaries() == 1
    [mail] = mailoutbox
    headers = message_from_bytes(mail.message().as_bytes(), policy=policy.default)
    link = headers["List-Unsubscribe"].strip().strip("<>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in mail.body and "/mail/unsubscribe/" in link
    path = urlsplit(link).path

    page = client.get(path).content.decode()  # a GET only asks
    assert "about: weekly summary of the program" in page
    assert AdvocatePreference.objects.for_org(org).get(user=executive.user).weekly_summary is True

    answer = client.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200 and "Unsubscribed" in answer.content.decode()
    assert AdvocatePreference.objects.for_org(org).get(user=executive.user).weekly_summary is False
    entry = AuditEntry.objects.for_org(org).get(action="analytics.weekly_summary_changed")
    assert entry.before == {"weekly_summary": True} and entry.after == {"weekly_summary": False}
    with time_machine.travel(MONDAY_7AM + timedelta(days=7, hours=1), tick=False):
        assert send_weekly_summaries() == 0, "no summary after the one click"


def test_members_who_did_not_opt_in_or_may_not_read_reports_get_nothing(org, program, mailoutbox):
    member(org, Role.EXECUTIVE)  # did not opt in
    opted_in(org, Role.EMPLOYEE)  # a stale opt-in of an employee: not allowed the reports
    opted_in(org, Role.MARKETER, Role.COMPLIANCE)
    gone = opted_in(org, Role.EXECUTIVE)
    gone.is_active = False
    gone.save()
    AdvocatePreferenceFactory(organization=org, user=member(org, Role.EXECUTIVE).user, weekly_summary=False)
    elsewhere = opted_in(OrganizationFactory(name="Globex", timezone="UTC"), Role.EXECUTIVE)
    with time_machine.travel(MONDAY_7AM + timedelta(hours=1), tick=False):
        assert send_weekly_summaries() == 1
    # Only the other organization's opted-in executive, with its own (empty) week.
    [mail] = mailoutbox
    assert mail.to == [elsewhere.user.email] and "Globex: your advocacy week (02 Nov to 08 Nov 2026)" in mail.subject
    assert "Shares: 0 (week before: 0, not comparable)" in mail.body


def test_a_run_missed_on_monday_catches_up_later_in_the_week(org, program, mailoutbox):
    opted_in(org, Role.EXECUTIVE)
    with time_machine.travel(MONDAY_7AM + timedelta(days=2), tick=False):
        assert send_weekly_summaries() == 1
    assert "(09 Nov to 15 Nov 2026)" in mailoutbox[0].subject


def test_a_mail_failure_is_retried_by_the_next_run(org, program, mailoutbox, settings):
    executive = opted_in(org, Role.EXECUTIVE)
    settings.EMAIL_BACKEND = "tests.helpers.FailingMailBackend"
    with time_machine.travel(MONDAY_7AM + timedelta(minutes=5), tick=False):
        assert send_weekly_summaries() == 0
    assert AdvocatePreference.objects.for_org(org).get(user=executive.user).weekly_summary_sent_for is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(MONDAY_7AM + timedelta(hours=1, minutes=5), tick=False):
        assert send_weekly_summaries() == 1
    assert [m.to for m in mailoutbox] == [[executive.user.email]]


def test_executive_opts_in_and_out_on_the_page(org, client):
    executive = member(org, Role.EXECUTIVE)
    client.force_login(executive.user)
    url = org_url("analytics:weekly_summary", org)
    assert "You do not get the weekly summary" in client.get(url).content.decode()
    assert client.post(url, {"weekly_summary": "1"}).status_code == 302
    assert "You get the weekly summary" in client.get(url).content.decode()
    assert AdvocatePreference.objects.for_org(org).get(user=executive.user).weekly_summary is True
    client.post(url, {"weekly_summary": "0"})
    assert AdvocatePreference.objects.for_org(org).get(user=executive.user).weekly_summary is False
    set_weekly_summary(actor=executive, enabled=True)
    client.force_login(member(org, Role.EMPLOYEE).user)
    assert client.get(url).status_code == 403 and client.post(url, {"weekly_summary": "1"}).status_code == 403


def test_the_beat_sends_it_hourly_through_the_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["send-weekly-summaries"]
    assert entry["task"] == "analytics.tasks.send_weekly_summaries"
    assert str(entry["schedule"].minute) == "{5}" and len(entry["schedule"].hour) == 24
    from analytics import tasks

    assert tasks.send_weekly_summaries.name == entry["task"]
    assert django_settings.CELERY_BEAT_SCHEDULE["refresh-advocate-stats"]["task"] == (tasks.refresh_advocate_stats.name)

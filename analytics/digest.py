"""The weekly e-mail summary for executives who opt in (`AdvocatePreference.weekly_summary`).

`send_weekly_summaries()` runs hourly from the beat; an organization's summary of last week
(Monday to Sunday, in its timezone) goes out from Monday `SEND_HOUR`:00 local time on, so
every organization gets it on its own Monday morning (and a run missed on Monday catches
up later in the week).

Guarantees:
* Only active members who opted in and may read the reports (executives, org admins) get
  one; everyone else gets nothing.
* One e-mail per member per week: the member's preference row is locked, re-checked
  (`weekly_summary_sent_for`), the mail sent and the week recorded in one transaction, so
  a re-run or a second beat sends no second copy. A mail failure is logged and rolls that
  member back: the next hourly run tries again.
* Numbers are the executive dashboard's (`executive_report` over the week, with the week
  before), written by `analytics.formatting` as on the page: the same figures, coverage and
  "not available" / "not set" words; a fixed number of queries per organization
  (`roi.QUERIES`), whatever the history size.
* It carries the one-click unsubscribe of every e-mail (RFC 8058 `List-Unsubscribe`, through
  `accounts.services.unsubscribe`'s seam, registered in AnalyticsConfig.ready): one POST
  turns the member's summary off (`stop_weekly_summary`, audited like the page's switch).
* Each recipient's mail, subject included, is written in their language and zone
  (`advocacy.languages.for_recipient`): the report is computed once per language the
  recipients of an organization read (its labels and notes are words), numbers and dates in
  that language's format.
* It leads with the measured outcomes (conversions, won revenue attributed, the measured
  ROI once the cost is set) and the attribution rule, before the estimated EMV and ROI.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Membership, Organization
from accounts.permissions import Permission, can
from accounts.services.notifications import MAIL_ERRORS
from accounts.services.unsubscribe import unsubscribe_headers, unsubscribe_url
from advocacy.languages import for_recipient
from analytics import formatting
from analytics.models import AdvocatePreference
from analytics.selectors.periods import Period
from analytics.selectors.roi import executive_report
from analytics.services.advocates import WEEKLY_SUMMARY_MAIL

logger = logging.getLogger(__name__)

SEND_HOUR = 7


def week_to_summarise(organization: Organization, now: datetime) -> date | None:
    """The Monday of last week, once this week's Monday SEND_HOUR has passed locally; else None."""
    local = now.astimezone(ZoneInfo(organization.timezone))
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, time(SEND_HOUR), tzinfo=local.tzinfo):
        return None
    return monday - timedelta(days=7)


def weekly_report(organization: Organization, week_start: date) -> dict:
    """Last week's executive report beside the week before: the dashboard's own selector
    (`analytics.selectors.roi.executive_report`), so the e-mail and the page cannot disagree."""
    return executive_report(organization, Period(week_start, week_start + timedelta(days=6)))


def weekly_figures(report: dict) -> list[dict]:
    """The report's figures as the e-mail writes them (`analytics.formatting`, as the page,
    the CSV and the PDF do), in the order every output shows them (`formatting.ordered`:
    measured outcomes first, estimates last): value, the week before, the change, measured
    or estimated, and what a partial figure leaves out."""
    currency = report["currency"]
    return [
        {
            "key": f["key"],
            "label": f["label"],
            "basis": f["basis"],
            "basis_word": formatting.basis_word(f["basis"]),
            "value": formatting.figure(f["value"], f["unit"], currency),
            "previous": formatting.figure(f["previous"], f["unit"], currency),
            "change": formatting.change(f["change"]) or _(formatting.NOT_COMPARABLE),
            "coverage": "" if f["coverage"]["complete"] else f["coverage"]["text"],
        }
        for f in formatting.ordered(report["figures"])
    ]


def weekly_outcomes(report: dict) -> list[dict]:
    """What the e-mail leads with: the measured outcomes (conversions, their value, won
    revenue attributed, and the measured ROI once the program cost is set), each in one line
    of words with its coverage and note, from the report's own figures."""
    figures = {f["key"]: f for f in report["figures"]}
    return [
        {"key": key, "line": formatting.figure_line(figures[key], report["currency"])}
        for key in formatting.OUTCOMES
        if key != "revenue_roi" or figures[key]["value"] is not None
    ]


def send_weekly_summaries(now: datetime | None = None) -> int:
    """Send every due weekly summary; returns how many e-mails went out. Safe to run twice."""
    now = now or timezone.now()
    sent = 0
    for organization in Organization.objects.order_by("pk"):
        week_start = week_to_summarise(organization, now)
        if week_start is not None:
            sent += _send_for_organization(organization, week_start)
    return sent


def _recipients(organization: Organization, week_start: date) -> list[Membership]:
    opted_in = (
        AdvocatePreference.objects.for_org(organization)
        .filter(weekly_summary=True)
        .exclude(weekly_summary_sent_for__gte=week_start)
    )
    members = (
        Membership.objects.for_org(organization)
        .filter(is_active=True, user__is_active=True, user_id__in=opted_in.values("user_id"))
        .select_related("user")
        .order_by("pk")
    )
    return [m for m in members if can(m, Permission.REPORTS_VIEW)]


def _send_for_organization(organization: Organization, week_start: date) -> int:
    recipients = _recipients(organization, week_start)
    if not recipients:
        return 0
    reports: dict[str, dict] = {}  # one per language the recipients read: its labels and notes are words
    sent = 0
    for membership in recipients:
        membership.organization = organization
        with for_recipient(membership.user, organization):
            language = translation.get_language()
            if language not in reports:
                reports[language] = weekly_report(organization, week_start)
            try:
                if _send_one(membership, week_start, reports[language]):
                    sent += 1
            except MAIL_ERRORS:
                logger.exception(
                    "Could not e-mail the weekly summary to user %s (org %s)", membership.user_id, organization.pk
                )
    return sent


@transaction.atomic
def _send_one(membership: Membership, week_start: date, report: dict) -> bool:
    """Lock the member's preference, check no summary of this week went out, send, record.
    Called inside `for_recipient(member)`: the mail is in the member's language."""
    preference = (
        AdvocatePreference.objects.for_org(membership.organization_id)
        .select_for_update()
        .get(user_id=membership.user_id)
    )
    if not preference.weekly_summary or (
        preference.weekly_summary_sent_for is not None and preference.weekly_summary_sent_for >= week_start
    ):
        return False
    organization = membership.organization
    slug = organization.slug
    week_end = week_start + timedelta(days=6)
    outcomes = weekly_outcomes(report)
    mail_of = {"organization_id": organization.pk, "user_id": membership.user_id, "kind": WEEKLY_SUMMARY_MAIL}
    body = render_to_string(
        "analytics/email/weekly_summary.txt",
        {
            "user": membership.user,
            "organization": organization,
            "week_start": week_start,
            "week_end": week_end,
            "lead": formatting.lead_sentence(report),
            "outcomes": outcomes,
            "rule": report["outcomes"]["rule"],
            "figures": [f for f in weekly_figures(report) if f["key"] not in {o["key"] for o in outcomes}],
            "reports_url": settings.SITE_URL
            + reverse("analytics:reports", kwargs={"org_slug": slug})
            + f"?start={week_start}&end={week_end}",
            "preferences_url": settings.SITE_URL + reverse("analytics:weekly_summary", kwargs={"org_slug": slug}),
            "unsubscribe_url": unsubscribe_url(**mail_of),
        },
    )
    subject = _("%(organization)s: your advocacy week (%(start)s to %(end)s)") % {
        "organization": organization.name,
        # The formats are in the catalogue: "09 Nov" in English, "9 novembre" in French.
        "start": dateformat.format(week_start, pgettext("date format: first day of a week in a subject", "d M")),
        "end": dateformat.format(week_end, pgettext("date format: last day of a week in a subject", "d M Y")),
    }
    EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        to=[membership.user.email],
        headers=unsubscribe_headers(**mail_of),
    ).send()
    preference.weekly_summary_sent_for = week_start
    preference.save(update_fields=["weekly_summary_sent_for", "updated_at"])
    return True

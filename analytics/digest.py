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
* Numbers come from the rollups only (DailySummary, AdvocateDailyStats): 2 queries per
  organization for the figures of both weeks, whatever the history size.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization
from accounts.permissions import can
from accounts.services.notifications import MAIL_ERRORS
from analytics.models import AdvocateDailyStats, AdvocatePreference, DailySummary

logger = logging.getLogger(__name__)

SEND_HOUR = 7
FIGURES = (
    # (key, label, measured or estimated)
    ("active_advocates", "Active advocates", "measured"),
    ("shares", "Shares submitted", "measured"),
    ("published", "Posts published", "measured"),
    ("clicks", "Clicks on tracked links", "measured by our redirect"),
    ("unique_clicks", "Unique visitors", "measured by our redirect"),
    ("engagement", "Engagement (likes, comments, reposts)", "measured by the networks"),
    ("impressions", "Impressions", "measured by the networks"),
    ("estimated_reach", "Estimated reach", "estimated from followers at posting time"),
)


def week_to_summarise(organization: Organization, now: datetime) -> date | None:
    """The Monday of last week, once this week's Monday SEND_HOUR has passed locally; else None."""
    local = now.astimezone(ZoneInfo(organization.timezone))
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, time(SEND_HOUR), tzinfo=local.tzinfo):
        return None
    return monday - timedelta(days=7)


def _change(now: int, before: int) -> str:
    if before == 0:
        return "new" if now else "no change"
    percent = round(100 * (now - before) / before)
    return f"{percent:+d}%" if percent else "no change"


NOT_AVAILABLE = "not available"
REPORTED = Q(likes__isnull=False) | Q(comments__isnull=False) | Q(reposts__isnull=False)


def _or_not_available(value: int, reported_rows: int, posts: int | None) -> int | str:
    """A zero that no post measured is "not available" (the networks did not give it)."""
    return NOT_AVAILABLE if not value and posts and not reported_rows else value


def weekly_figures(organization: Organization, week_start: date) -> list[dict]:
    """Last week's headline numbers beside the week before (2 queries)."""
    week_end = week_start + timedelta(days=6)
    before_start = week_start - timedelta(days=7)
    this_week, last_week = Q(day__gte=week_start), Q(day__lt=week_start)
    names = ("shares", "published", "clicks", "unique_clicks", "impressions", "estimated_reach")
    sums = {}
    for prefix, condition in (("now_", this_week), ("before_", last_week)):
        sums.update({f"{prefix}{name}": Sum(name, filter=condition) for name in names})
        sums[f"{prefix}engagement"] = Sum(F("likes") + F("comments") + F("reposts"), filter=condition)
    totals = DailySummary.objects.for_org(organization).filter(day__range=(before_start, week_end)).aggregate(**sums)
    active = (
        AdvocateDailyStats.objects.for_org(organization)
        .filter(day__range=(before_start, week_end))
        .aggregate(
            now_active_advocates=Count("user_id", distinct=True, filter=this_week & (Q(shares__gt=0) | Q(posts__gt=0))),
            before_active_advocates=Count(
                "user_id", distinct=True, filter=last_week & (Q(shares__gt=0) | Q(posts__gt=0))
            ),
            # Rows whose posts reported the counter at all: none means "not available", not 0.
            now_impressions_n=Count("pk", filter=this_week & Q(impressions__isnull=False)),
            before_impressions_n=Count("pk", filter=last_week & Q(impressions__isnull=False)),
            now_engagement_n=Count("pk", filter=this_week & REPORTED),
            before_engagement_n=Count("pk", filter=last_week & REPORTED),
            now_posts=Sum("posts", filter=this_week),
            before_posts=Sum("posts", filter=last_week),
        )
    )
    totals.update(active)
    figures = []
    for key, label, kind in FIGURES:
        now_value, before_value = totals[f"now_{key}"] or 0, totals[f"before_{key}"] or 0
        if key == "estimated_reach":  # follower counts at posting time are not recorded yet
            now_value, before_value = now_value or NOT_AVAILABLE, before_value or NOT_AVAILABLE
        if key in ("impressions", "engagement"):
            now_value = _or_not_available(now_value, totals[f"now_{key}_n"], totals["now_posts"])
            before_value = _or_not_available(before_value, totals[f"before_{key}_n"], totals["before_posts"])
        if NOT_AVAILABLE in (now_value, before_value):
            figures.append(
                {
                    "key": key,
                    "label": label,
                    "kind": kind,
                    "value": now_value,
                    "previous": before_value,
                    "change": "not comparable",
                }
            )
            continue
        figures.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "value": now_value,
                "previous": before_value,
                "change": _change(now_value, before_value),
            }
        )
    return figures


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
    return [m for m in members if can(m, "reports.view")]


def _send_for_organization(organization: Organization, week_start: date) -> int:
    recipients = _recipients(organization, week_start)
    if not recipients:
        return 0
    figures = weekly_figures(organization, week_start)
    sent = 0
    for membership in recipients:
        membership.organization = organization
        try:
            if _send_one(membership, week_start, figures):
                sent += 1
        except MAIL_ERRORS:
            logger.exception(
                "Could not e-mail the weekly summary to user %s (org %s)", membership.user_id, organization.pk
            )
    return sent


@transaction.atomic
def _send_one(membership: Membership, week_start: date, figures: list[dict]) -> bool:
    """Lock the member's preference, check no summary of this week went out, send, record."""
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
    body = render_to_string(
        "analytics/email/weekly_summary.txt",
        {
            "user": membership.user,
            "organization": organization,
            "week_start": week_start,
            "week_end": week_end,
            "figures": figures,
            "reports_url": settings.SITE_URL
            + reverse("analytics:reports", kwargs={"org_slug": slug})
            + f"?start={week_start}&end={week_end}",
            "preferences_url": settings.SITE_URL + reverse("analytics:weekly_summary", kwargs={"org_slug": slug}),
        },
    )
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{organization.name}: your advocacy week "
        f"({week_start:%d %b} to {week_end:%d %b %Y})",
        message=body,
        from_email=None,
        recipient_list=[membership.user.email],
    )
    preference.weekly_summary_sent_for = week_start
    preference.save(update_fields=["weekly_summary_sent_for", "updated_at"])
    return True

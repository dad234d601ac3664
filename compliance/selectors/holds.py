"""Reads about legal holds: which holds cover a share, which shares a hold covers, and the
holds page's list (one query, whatever the number of holds).

"A hold covers a share" is written once, in `holds_covering`, seen from the hold: every scope
the hold sets must match the share (its author, its team when shared, its days in the
organization's time zone). The database's retention guard (migration 0011_legal_hold) says
the same in SQL; tests/compliance/test_legal_hold.py checks that the two agree.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Organization
from advocacy.timezones import zone_name_for
from compliance.models import LegalHold
from content.models import Share


def organization_zone(organization: Organization) -> zoneinfo.ZoneInfo:
    """The zone a hold's days are counted in: the organization's (`advocacy.timezones`)."""
    return zoneinfo.ZoneInfo(zone_name_for(organization=organization))


def holds_covering(
    organization_id: int, *, author: Any, team: Any, first_day: Any, last_day: Any, active: bool = True
) -> QuerySet[LegalHold]:
    """The organization's holds (active ones unless `active=False`) that cover a share with this
    author, team, first and last day of activity. Each argument is a value or an expression
    (`OuterRef("author_id")`), so the same rule filters one share and whole querysets."""
    holds = LegalHold.objects.for_org(organization_id)
    if active:
        holds = holds.filter(released_at__isnull=True)
    return holds.filter(
        Q(membership__isnull=True) | Q(membership__user_id=author),
        Q(team__isnull=True) | Q(team_id=team),
        Q(date_from__isnull=True) | Q(date_from__lte=last_day),
        Q(date_to__isnull=True) | Q(date_to__gte=first_day),
    )


def shares_with_days(organization: Organization) -> QuerySet[Share]:
    """The organization's shares with `first_day` (created) and `last_day` (last activity:
    submitted or updated, the retention period's start) in the organization's time zone, and
    `last_activity` itself."""
    zone = organization_zone(organization)
    return (
        Share.objects.for_org(organization)
        .annotate(last_activity=Greatest("submitted_at", "updated_at"))
        .annotate(
            first_day=TruncDate("created_at", tzinfo=zone),
            last_day=TruncDate("last_activity", tzinfo=zone),
        )
    )


def under_hold(organization: Organization) -> Exists:
    """For a queryset from `shares_with_days`: is the share covered by an active hold?"""
    return Exists(_covering_the_outer_share(organization, active=True))


def _covering_the_outer_share(organization: Organization, *, active: bool) -> QuerySet[LegalHold]:
    """`holds_covering` for the share of the enclosing query (one from `shares_with_days`)."""
    return holds_covering(
        organization.pk,
        author=OuterRef("author_id"),
        team=OuterRef("team_id"),
        first_day=OuterRef("first_day"),
        last_day=OuterRef("last_day"),
        active=active,
    )


def active_hold_on(share: Share, organization: Organization) -> LegalHold | None:
    """The earliest active hold that covers `share` (with who placed it), or None."""
    zone = organization_zone(organization)
    last = max(share.submitted_at, share.updated_at or share.submitted_at)
    return (
        holds_covering(
            organization.pk,
            author=share.author_id,
            team=share.team_id,
            first_day=timezone.localtime(share.created_at or share.submitted_at, zone).date(),
            last_day=timezone.localtime(last, zone).date(),
        )
        .select_related("placed_by")
        .order_by("placed_at", "pk")
        .first()
    )


def covered_share_count(organization: Organization, shares: QuerySet[Share] | None = None) -> Subquery:
    """For a LegalHold queryset: how many of `shares` (from `shares_with_days`; all the
    organization's by default) the hold's scope covers, released or not."""
    shares = shares if shares is not None else shares_with_days(organization)
    in_scope = _covering_the_outer_share(organization, active=False).filter(pk=OuterRef(OuterRef("pk")))
    counted = shares.filter(Exists(in_scope)).order_by().values("organization").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def shares_covered_by(hold: LegalHold, organization: Organization) -> QuerySet[Share]:
    """The shares whose records `hold`'s scope covers (whether or not it is still active)."""
    in_scope = _covering_the_outer_share(organization, active=False).filter(pk=hold.pk)
    return shares_with_days(organization).filter(Exists(in_scope))


def legal_holds(organization: Organization) -> QuerySet[LegalHold]:
    """Every hold of the organization, active first, newest first, with the person, team, who
    placed and who released it, and `share_count`: the shares an active hold holds now (a
    released one: `shares_held_at_release`). One query."""
    return (
        LegalHold.objects.for_org(organization)
        .select_related("membership__user", "team", "placed_by", "released_by")
        .annotate(
            share_count=Case(  # counted for active holds only: a released one kept its number
                When(released_at__isnull=True, then=covered_share_count(organization)),
                default=F("shares_held_at_release"),
                output_field=IntegerField(),
            )
        )
        .order_by(F("released_at").desc(nulls_first=True), "-placed_at", "-pk")
    )


def hold_scope_words(hold: LegalHold) -> str:
    """The scope in words: "Emma Employee's shares from 1 Jan 2026 to 31 Mar 2026"."""
    if hold.membership_id:
        subject = _("%(name)s's shares") % {"name": hold.membership.user.get_full_name()}
    elif hold.team_id:
        subject = _("shares of team %(team)s") % {"team": hold.team.name}
    else:
        subject = _("every share")
    if hold.date_from and hold.date_to:
        # Translators: subject is "Emma Employee's shares", "shares of team Sales" or "every share".
        return _("%(subject)s active from %(first)s to %(last)s") % {
            "subject": subject,
            "first": _day(hold.date_from),
            "last": _day(hold.date_to),
        }
    if hold.date_from:
        # Translators: subject is "Emma Employee's shares", "shares of team Sales" or "every share".
        return _("%(subject)s active on or after %(first)s") % {"subject": subject, "first": _day(hold.date_from)}
    if hold.date_to:
        # Translators: subject is "Emma Employee's shares", "shares of team Sales" or "every share".
        return _("%(subject)s created on or before %(last)s") % {"subject": subject, "last": _day(hold.date_to)}
    return subject


def _day(day: datetime.date) -> str:
    return date_format(day, "j M Y")  # "1 Jan 2026", the month in the reader's language

"""Writes for the leaderboard and the weekly summary: points rules, hiding, opting in."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import Permission, can, require
from advocacy import audit
from advocacy.errors import NotAllowed, ValidationFailed
from analytics.models import AdvocatePreference, PointsRules

RULE_FIELDS = ("points_per_share", "points_per_post", "points_per_click", "points_per_engagement")
MAX_POINTS = 1000


@transaction.atomic
def update_points_rules(*, actor: Membership, **values: int) -> PointsRules:
    """Set how advocates score. Every rule is a whole number from 0 to 1000; raises
    ValidationFailed (and saves nothing) otherwise."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    organization = actor.organization
    errors: dict[str, list[str]] = {}
    clean: dict[str, int] = {}
    for name in RULE_FIELDS:
        value = values.get(name)
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not 0 <= number <= MAX_POINTS or str(value).strip() not in (str(number), f"+{number}"):
            errors[name] = [_("Enter a whole number from 0 to %(max)s.") % {"max": MAX_POINTS}]
            continue
        clean[name] = number
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        errors.update({name: [_("Not a points rule.")] for name in sorted(unknown)})
    if errors:
        raise ValidationFailed(_("The points rules were not saved: check the highlighted values."), fields=errors)
    rules = PointsRules.objects.for_org(organization).select_for_update().first()
    before = {name: getattr(rules, name) for name in RULE_FIELDS} if rules else None
    if rules is None:
        rules = PointsRules(organization=organization)
    for name, number in clean.items():
        setattr(rules, name, number)
    rules.save()
    audit.record(
        "analytics.points_rules_changed",
        organization_id=organization.pk,
        target=rules,
        before=before,
        after={name: getattr(rules, name) for name in RULE_FIELDS},
    )
    return rules


def _preference(membership: Membership) -> AdvocatePreference:
    preference, _ = (
        AdvocatePreference.objects.for_org(membership.organization_id)
        .select_for_update()
        .get_or_create(organization_id=membership.organization_id, user_id=membership.user_id)
    )
    return preference


@transaction.atomic
def set_leaderboard_hidden(*, actor: Membership, hidden: bool) -> AdvocatePreference:
    """Hide the member from the leaderboard others see (they keep seeing their own rank), or show them."""
    require(actor, Permission.ORG_VIEW)
    membership = actor
    preference = _preference(membership)
    if preference.hidden_from_leaderboard != bool(hidden):
        before = preference.hidden_from_leaderboard
        preference.hidden_from_leaderboard = bool(hidden)
        preference.save(update_fields=["hidden_from_leaderboard", "updated_at"])
        audit.record(
            "analytics.leaderboard_visibility_changed",
            organization_id=membership.organization_id,
            target=preference,
            before={"hidden": before},
            after={"hidden": preference.hidden_from_leaderboard},
        )
    return preference


@transaction.atomic
def set_weekly_summary(*, actor: Membership, enabled: bool) -> AdvocatePreference:
    """Opt in to (or out of) the weekly e-mail summary of the program. Only members who can
    read the reports (executives, org admins) may opt in; raises NotAllowed otherwise."""
    require(actor, Permission.ORG_VIEW)
    membership = actor
    if enabled and not can(membership, Permission.REPORTS_VIEW):
        raise NotAllowed(_("The weekly summary is for members who can read the reports (executives)."))
    preference = _preference(membership)
    if preference.weekly_summary != bool(enabled):
        before = preference.weekly_summary
        preference.weekly_summary = bool(enabled)
        preference.save(update_fields=["weekly_summary", "updated_at"])
        audit.record(
            "analytics.weekly_summary_changed",
            organization_id=membership.organization_id,
            target=preference,
            before={"weekly_summary": before},
            after={"weekly_summary": preference.weekly_summary},
        )
    return preference


WEEKLY_SUMMARY_MAIL = "weekly_summary"  # its one-click unsubscribe kind (accounts.services.unsubscribe)


def stop_weekly_summary(membership: Membership) -> None:
    """The weekly summary's one-click unsubscribe (RFC 8058): the member's own opt-out."""
    set_weekly_summary(actor=membership, enabled=False)

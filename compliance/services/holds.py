"""Legal holds: an officer places one on a person, a team or a range of days (or a person or
team within a range), changes its name or reason, and releases it.

Guarantees:
* Only a member allowed `compliance.hold` acts (PermissionDenied otherwise).
* Bad input (no scope at all, a person and a team together, the last day before the first,
  no name or reason, a person or team of another organization) raises ValidationFailed in
  plain words and writes nothing.
* While a hold is active, no share it covers is deleted by anyone: the database's retention
  guard refuses it (migration 0011_legal_hold), `retention.check_share_deletable` says so in
  words, and the retention purge skips it.
* Placing, changing and releasing are audited ("legal_hold.*") inside their transaction. A
  hold is never deleted and its scope never changes (the database refuses both); releasing
  records who, when, why and how many shares it held then.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Team
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed, conflict_on_duplicate
from compliance.models import LegalHold
from compliance.selectors.holds import hold_scope_words, shares_covered_by

MAX_NAME = 200


def _text(value, field: str, words: str, *, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(words, fields={field: [_("Required.")]})
    if limit and len(value) > limit:
        raise ValidationFailed(
            _("At most %(limit)s characters for the %(field)s.") % {"limit": limit, "field": field},
            fields={field: [_("At most %(limit)s characters.") % {"limit": limit}]},
        )
    return value


def _day(value, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("A day is written as YYYY-MM-DD."), fields={field: [_("Not a day.")]}) from None


def _of_org(model, organization_id: int, pk, field: str, words: str):
    if pk in (None, ""):
        return None
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ValidationFailed(words, fields={field: [words]}) from None
    found = model.objects.for_org(organization_id).filter(pk=pk).first()
    if found is None:  # missing or another organization's: the same words
        raise ValidationFailed(words, fields={field: [words]})
    return found


def _name_and_reason(name, reason) -> tuple[str, str]:
    return (
        _text(name, "name", _("Name the matter the hold is for (e.g. Matter 2026-14)."), limit=MAX_NAME),
        _text(reason, "reason", _("Say why the records are held."), limit=2000),
    )


def _name_free(name: str):
    """Around the write: a name another active hold has (the database decides) is a Conflict."""
    return conflict_on_duplicate(
        _("An active legal hold is already called '%(name)s'; choose another name.") % {"name": name},
        fields={"name": [_("Taken.")]},
    )


def _state(hold: LegalHold) -> dict:
    with translation.override(settings.LANGUAGE_CODE):  # the audit record's words stay in one language
        scope = hold_scope_words(hold)
    return {
        "name": hold.name,
        "reason": hold.reason,
        "scope": scope,
        "membership_id": hold.membership_id,
        "team_id": hold.team_id,
        "date_from": hold.date_from.isoformat() if hold.date_from else None,
        "date_to": hold.date_to.isoformat() if hold.date_to else None,
    }


def _locked(actor: Membership, hold_id) -> LegalHold:
    hold = (
        LegalHold.objects.for_org(actor.organization_id)
        .select_for_update(of=("self",))
        .select_related("membership__user", "team")
        .filter(pk=hold_id)
        .first()
    )
    if hold is None:
        raise NotFound(_("No such legal hold."))
    return hold


@transaction.atomic
def place_hold(
    *,
    actor: Membership,
    name: str,
    reason: str,
    membership_id: int | None = None,
    team_id: int | None = None,
    date_from: datetime.date | str | None = None,
    date_to: datetime.date | str | None = None,
) -> LegalHold:
    """Place a legal hold on a person's or a team's shares, on the shares active in a range of
    days, or on a person's or team's shares within a range. Audited ("legal_hold.placed", with
    the number of shares it holds). Raises PermissionDenied, ValidationFailed (see the module),
    Conflict (an active hold already has this name)."""
    require(actor, Permission.COMPLIANCE_HOLD)
    org_id = actor.organization_id
    name, reason = _name_and_reason(name, reason)
    membership = _of_org(Membership, org_id, membership_id, "membership", _("Choose a person of this organization."))
    team = _of_org(Team, org_id, team_id, "team", _("Choose a team of this organization."))
    first, last = _day(date_from, "date_from"), _day(date_to, "date_to")
    if membership is None and team is None and first is None and last is None:
        raise ValidationFailed(
            _("Say what the hold covers: a person, a team, a range of days, or a person or team within a range."),
            fields={"membership": [_("Choose a person, a team or days.")]},
        )
    if membership is not None and team is not None:
        raise ValidationFailed(
            _("A hold covers one person or one team; place a second hold for the other."),
            fields={"team": [_("Choose a person or a team, not both.")]},
        )
    if first and last and last < first:
        raise ValidationFailed(
            _("The last day (%(last)s) is before the first day (%(first)s).")
            % {"last": f"{last:%Y-%m-%d}", "first": f"{first:%Y-%m-%d}"},
            fields={"date_to": [_("Before the first day.")]},
        )
    with _name_free(name):
        hold = LegalHold.objects.create(
            organization_id=org_id,
            name=name,
            reason=reason,
            membership=membership,
            team=team,
            date_from=first,
            date_to=last,
            placed_by_id=actor.user_id,
            placed_at=timezone.now(),
        )
    audit.record(
        "legal_hold.placed",
        organization_id=org_id,
        target=hold,
        after={**_state(hold), "shares_held": shares_covered_by(hold, actor.organization).count()},
    )
    return hold


@transaction.atomic
def change_hold(*, actor: Membership, hold_id: int, name: str, reason: str) -> LegalHold:
    """Change an active hold's name or reason (its scope never changes: place a new hold).
    Audited ("legal_hold.changed") when something changed. Raises PermissionDenied, NotFound
    (missing or another organization's), Conflict (released, or the name is taken),
    ValidationFailed."""
    require(actor, Permission.COMPLIANCE_HOLD)
    hold = _locked(actor, hold_id)
    if not hold.is_active:
        raise Conflict(_("The legal hold '%(name)s' was released; it can no longer be changed.") % {"name": hold.name})
    name, reason = _name_and_reason(name, reason)
    before = {"name": hold.name, "reason": hold.reason}
    after = {"name": name, "reason": reason}
    if before == after:
        return hold
    hold.name, hold.reason = name, reason
    with _name_free(name):
        hold.save(update_fields=["name", "reason", "updated_at"])
    changed = [k for k in after if after[k] != before[k]]
    audit.record(
        "legal_hold.changed",
        organization_id=hold.organization_id,
        target=hold,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return hold


@transaction.atomic
def release_hold(*, actor: Membership, hold_id: int, reason: str) -> LegalHold:
    """Release an active hold: its shares fall back under the retention period alone. The hold
    stays, with who released it, when, why and how many shares it held. Audited
    ("legal_hold.released"). Raises PermissionDenied, NotFound, Conflict (already released),
    ValidationFailed (no reason)."""
    require(actor, Permission.COMPLIANCE_HOLD)
    hold = _locked(actor, hold_id)
    if not hold.is_active:
        raise Conflict(_("The legal hold '%(name)s' was already released.") % {"name": hold.name})
    reason = _text(reason, "release_reason", _("Say why the hold is released (e.g. the matter closed)."), limit=2000)
    hold.shares_held_at_release = shares_covered_by(hold, actor.organization).count()
    hold.released_at = timezone.now()
    hold.released_by_id = actor.user_id
    hold.release_reason = reason
    hold.save(update_fields=["shares_held_at_release", "released_at", "released_by", "release_reason", "updated_at"])
    audit.record(
        "legal_hold.released",
        organization_id=hold.organization_id,
        target=hold,
        before={"released_at": None},
        after={
            "name": hold.name,
            "released_at": hold.released_at.isoformat(),
            "release_reason": reason,
            "shares_held": hold.shares_held_at_release,
        },
    )
    return hold

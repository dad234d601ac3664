"""Social media guidelines and training: publish a version, accept it, keep the lessons.

Guarantees:
* Versions of an organization are numbered 1, 2, 3… without gaps or duplicates, even when
  two people publish at once (the organization row is locked while numbering).
* The *current* guideline is the highest version. A member has to accept the current
  version; an acceptance of an older one stays on record but does not count any more.
* Accepting is idempotent: accepting twice keeps the first time.

"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    Guideline,
    GuidelineAcceptance,
    Membership,
    Organization,
    TrainingItem,
)
from accounts.permissions import Permission, require
from accounts.selectors import current_guideline, current_guideline_for
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed

TITLE_MAX = 200
POSITION_MAX = 32767


def _clean_text(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = [_("Required.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(max)s characters.") % {"max": TITLE_MAX}]
    if not body:
        errors["body"] = [_("Required.")]
    if errors:
        raise ValidationFailed(_("Give it a title and a text."), fields=errors)
    return title, body


# --- guidelines ---------------------------------------------------------------------------


@transaction.atomic
def publish_guideline(*, actor: Membership, title: str, body: str) -> Guideline:
    """Publish the next version of the guidelines; every member must accept it again.

    Raises ValidationFailed for an empty title or text.
    """
    require(actor, Permission.GUIDELINES_MANAGE)
    organization, published_by = actor.organization, actor.user
    title, body = _clean_text(title, body)
    # Numbering reads the highest version then inserts the next: serialise per organization.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    latest = Guideline.objects.for_org(organization).order_by("-version").values_list("version", flat=True).first()
    guideline = Guideline.objects.create(
        organization=organization,
        version=(latest or 0) + 1,
        title=title,
        body=body,
        published_by=published_by,
        published_at=timezone.now(),
    )
    audit.record(
        "guidelines.published",
        organization_id=organization.pk,
        target=guideline,
        before={"version": latest} if latest else None,
        after={"version": guideline.version, "title": title, "body_sha256": _sha256(body)},
    )
    return guideline


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def accept_guidelines(*, actor: Membership, guideline_id: int) -> GuidelineAcceptance:
    """Record that the member accepted the guideline `guideline_id`, which must be the current one.

    Idempotent: a second call returns the first acceptance. Raises NotFound for a
    guideline of another organization (or none), Conflict when a newer version exists.
    """
    require(actor, Permission.ORG_VIEW)
    membership = actor
    try:
        guideline = Guideline.objects.for_org(membership.organization_id).get(pk=guideline_id)
    except (Guideline.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such guidelines.")) from None
    current = current_guideline(membership.organization_id)
    if current.pk != guideline.pk:
        raise Conflict(
            _("A newer version of the guidelines (version %(version)s) was published: read it, then accept that one.")
            % {"version": current.version}
        )
    acceptance, created = GuidelineAcceptance.objects.for_org(membership.organization_id).get_or_create(
        organization_id=membership.organization_id,
        guideline=guideline,
        user_id=membership.user_id,
        defaults={"accepted_at": timezone.now()},
    )
    if created:
        audit.record(
            "guidelines.accepted",
            organization_id=membership.organization_id,
            target=acceptance,
            after={"version": guideline.version, "user": membership.user_id},
        )
    return acceptance


def needs_acceptance(membership: Membership) -> Guideline | None:
    """The current guideline if the member has not accepted it; None when accepted or none published.

    One query. Pages and services that let a member share ask this first.
    """
    current = current_guideline_for(membership)
    return current if current is not None and current.accepted_at is None else None


# --- training items -----------------------------------------------------------------------


def _clean_position(position) -> int:
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("The position is a whole number."), fields={"position": [_("A whole number.")]}
        ) from None
    if not 0 <= position <= POSITION_MAX:
        raise ValidationFailed(
            _("The position is between 0 and %(max)s.") % {"max": POSITION_MAX},
            fields={"position": [_("Out of range.")]},
        )
    return position


def _check_same_organization(actor: Membership, item: TrainingItem) -> None:
    if item.organization_id != actor.organization_id:
        raise TrainingItem.DoesNotExist("No training item found")  # another organization's: as missing


@transaction.atomic
def create_training_item(
    *, actor: Membership, title: str, body: str, position: int | None = None, is_published: bool = True
) -> TrainingItem:
    """Add a lesson; without a position it goes last. Raises ValidationFailed for empty text."""
    require(actor, Permission.GUIDELINES_MANAGE)
    organization = actor.organization
    title, body = _clean_text(title, body)
    if position is None:
        last = TrainingItem.objects.for_org(organization).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else min(last + 1, POSITION_MAX)
    item = TrainingItem.objects.create(
        organization=organization,
        title=title,
        body=body,
        position=_clean_position(position),
        is_published=is_published,
    )
    audit.record(
        "training_item.created",
        organization_id=organization.pk,
        target=item,
        after={"title": item.title, "position": item.position, "is_published": item.is_published},
    )
    return item


@transaction.atomic
def update_training_item(
    *, actor: Membership, item: TrainingItem, title: str, body: str, position: int, is_published: bool
) -> TrainingItem:
    """Change a lesson's text, place or visibility. Raises ValidationFailed for empty text."""
    require(actor, Permission.GUIDELINES_MANAGE)
    _check_same_organization(actor, item)
    fields = ["title", "body", "position", "is_published"]
    before = {f: getattr(item, f) for f in fields}
    item.title, item.body = _clean_text(title, body)
    item.position = _clean_position(position)
    item.is_published = is_published
    item.save(update_fields=["title", "body", "position", "is_published", "updated_at"])
    changed = [f for f in fields if before[f] != getattr(item, f)]
    if changed:
        audit.record(
            "training_item.updated",
            organization_id=item.organization_id,
            target=item,
            before={f: before[f] for f in changed},
            after={f: getattr(item, f) for f in changed},
        )
    return item


@transaction.atomic
def delete_training_item(*, actor: Membership, item: TrainingItem) -> None:
    """Remove a lesson for good."""
    require(actor, Permission.GUIDELINES_MANAGE)
    _check_same_organization(actor, item)
    deleted, _rows = TrainingItem.objects.for_org(item.organization_id).filter(pk=item.pk).delete()
    if deleted:
        audit.record(
            "training_item.deleted",
            organization_id=item.organization_id,
            target=item,
            before={"title": item.title, "position": item.position},
        )

"""Writes for the person's own settings, the same in every organization."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Membership, User
from accounts.permissions import Permission, require
from accounts.services.organizations import _check_timezone


@transaction.atomic
def update_profile(*, actor: Membership, name: str, timezone_name: str, review_shortcuts: bool) -> User:
    """The person's own settings, the same in every organization: their name, their time
    zone ("" = follow the organization's) and whether the review queue's single-key
    shortcuts are on. Raises ValidationFailed for an unknown zone; nothing is saved then."""
    require(actor, Permission.ORG_VIEW)
    user = actor.user
    timezone_name = (timezone_name or "").strip()
    if timezone_name:
        _check_timezone(timezone_name)
    user.name = (name or "").strip()[:150]
    user.timezone = timezone_name
    user.review_shortcuts = review_shortcuts
    user.save(update_fields=["name", "timezone", "review_shortcuts"])
    return user


def switch_organization(*, actor: Membership) -> None:
    """Remember the organization the member works in, for the next login."""
    require(actor, Permission.ORG_VIEW)
    user, organization = actor.user, actor.organization
    if user.last_organization_id != organization.pk:
        user.last_organization = organization
        user.save(update_fields=["last_organization"])

"""Writes for the person's own settings, the same in every organization."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.permissions import Permission, require
from accounts.services.organizations import _check_timezone
from advocacy.errors import ValidationFailed
from advocacy.languages import CODES


@transaction.atomic
def update_profile(
    *, actor: Membership, name: str, timezone_name: str, review_shortcuts: bool, language: str | None = None
) -> User:
    """The person's own settings, the same in every organization: their name, their time
    zone ("" = follow the organization's), their language ("" = the organization's default;
    None leaves it as it is) and whether the review queue's single-key shortcuts are on.
    Raises ValidationFailed for an unknown zone or language; nothing is saved then."""
    require(actor, Permission.ORG_VIEW)
    user = actor.user
    timezone_name = (timezone_name or "").strip()
    if timezone_name:
        _check_timezone(timezone_name)
    fields = ["name", "timezone", "review_shortcuts"]
    if language is not None:
        user.language = _check_language(language)
        fields.append("language")
    user.name = (name or "").strip()[:150]
    user.timezone = timezone_name
    user.review_shortcuts = review_shortcuts
    user.save(update_fields=fields)
    return user


def set_language(*, user: User, language: str) -> str:
    """The language switcher: the person's own language from now on, in every organization
    and in the e-mails they get. No `actor`: it is the person's own setting, and they may
    switch before they belong to an organization. Raises ValidationFailed for a
    language not shipped."""
    user.language = _check_language(language)
    user.save(update_fields=["language"])
    return user.language


def _check_language(language: str) -> str:
    code = (language or "").strip()
    if code and code not in CODES:
        raise ValidationFailed(
            _("We do not have the product in “%(language)s”. Pick one of the languages in the list.")
            % {"language": code},
            fields={"language": [_("Not a language we offer.")]},
        )
    return code


def switch_organization(*, actor: Membership) -> None:
    """Remember the organization the member works in, for the next login."""
    require(actor, Permission.ORG_VIEW)
    user, organization = actor.user, actor.organization
    if user.last_organization_id != organization.pk:
        user.last_organization = organization
        user.save(update_fields=["last_organization"])

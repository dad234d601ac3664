"""Writes for personal API tokens: create, revoke."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import (
    ApiToken,
    Membership,
)
from accounts.permissions import Permission, require
from advocacy import audit, bearer_keys


@transaction.atomic
def create_api_token(*, actor: Membership, name: str) -> tuple[ApiToken, str]:
    """Make a personal token for this user in this organization; returns (row, plain token).

    The plain token exists only in the return value: store it now, it is never shown again.
    """
    require(actor, Permission.TOKENS_MANAGE_OWN)
    membership = actor
    token, plain = bearer_keys.issue_key(
        ApiToken,
        "adv",
        name=name,
        unnamed=_("Name the token after what will use it."),
        organization_id=membership.organization_id,
        user_id=membership.user_id,
    )
    audit.record(
        "api_token.created",
        organization_id=membership.organization_id,
        target=token,
        after={"name": token.name, "prefix": token.prefix, "user": membership.user_id},
    )
    return token, plain


@transaction.atomic
def revoke_api_token(*, actor: Membership, token: ApiToken) -> ApiToken:
    """Stop one of the actor's own tokens from working, at once. Someone else's token, or
    another organization's: ApiToken.DoesNotExist (it answers like a missing one)."""
    require(actor, Permission.TOKENS_MANAGE_OWN)
    token = ApiToken.objects.for_org(actor.organization_id).get(pk=token.pk, user_id=actor.user_id)
    return _revoke(token)


def _revoke(token: ApiToken, reason: str = "") -> ApiToken:
    if bearer_keys.revoke_key(token):
        audit.record(
            "api_token.revoked",
            organization_id=token.organization_id,
            target=token,
            before={"revoked_at": None},
            after={
                "revoked_at": token.revoked_at,
                "name": token.name,
                "prefix": token.prefix,
                **({"reason": reason} if reason else {}),
            },
        )
    return token


@transaction.atomic
def revoke_api_tokens_after_password_change(*, user) -> int:
    """A new password (changed or reset) ends every API token of the user, in every org.

    System operation: called by the allauth adapter's `set_password`, the one door both
    flows go through (the password proved the person; no membership acts).
    """
    tokens = list(
        ApiToken.objects.all_organizations()  # the user's tokens, whatever their organization
        .select_for_update()
        .filter(user_id=user.pk, revoked_at__isnull=True)
    )
    for token in tokens:
        _revoke(token, reason="password changed")
    return len(tokens)

"""One-click unsubscribe from one kind of e-mail (RFC 8058), for every notification and digest
e-mail: the `List-Unsubscribe` and `List-Unsubscribe-Post` headers and the signed link behind them.

Guarantees:
* The link names one organization, member and kind, signed with SECRET_KEY (its own salt);
  it does not expire (a mail client may press it months later) and changing a character
  makes it invalid.
* Only a POST acts (the mail provider's one-click POST, or the page's one button); it turns
  off e-mails of exactly that kind for that member through the notification preferences
  (`set_preferences`), and again is harmless. A GET only shows what the button will do.
* A higher layer's own e-mail (analytics' weekly summary) gets the same link through the
  seam `register_kind(kind, label, turn_off)`, called from its AppConfig.ready: its kind is
  signed the same way and a POST calls its `turn_off(membership)`, which owns its preference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Membership, Notification
from advocacy.errors import NotFound, ValidationFailed

SALT = "accounts.unsubscribe"
Kind = Notification.Kind


@dataclass(frozen=True)
class OtherKind:
    """An e-mail a higher layer sends and owns the preference of (registered at startup)."""

    label: str
    turn_off: Callable[[Membership], None]


_other_kinds: dict[str, OtherKind] = {}


def register_kind(kind: str, *, label: str, turn_off: Callable[[Membership], None]) -> None:
    """Give a higher layer's e-mail the one-click link: `turn_off(membership)` stops it."""
    if kind in Kind.values:
        raise ValueError(f"{kind!r} is a notification kind already")
    _other_kinds[kind] = OtherKind(label=label, turn_off=turn_off)


def kind_label(kind: str) -> str:
    """What the unsubscribe page calls this kind of e-mail."""
    return _other_kinds[kind].label if kind in _other_kinds else Kind(kind).label


def unsubscribe_url(*, organization_id: int, user_id: int, kind: str) -> str:
    """The absolute URL that turns e-mails of `kind` off for the member (a POST does it)."""
    token = signing.dumps([organization_id, user_id, kind], salt=SALT)
    return settings.SITE_URL + reverse("email_unsubscribe", kwargs={"token": token})


def unsubscribe_headers(*, organization_id: int, user_id: int, kind: str) -> dict[str, str]:
    """The RFC 8058 headers for an e-mail of `kind` to the member."""
    url = unsubscribe_url(organization_id=organization_id, user_id=user_id, kind=kind)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def read_unsubscribe_link(token: str) -> tuple[Membership, str]:
    """The active membership and kind a link names. Raises ValidationFailed for a changed
    link, NotFound when the member is no longer in the organization."""
    try:
        organization_id, user_id, kind = signing.loads(token, salt=SALT)
    except (signing.BadSignature, TypeError, ValueError):
        raise ValidationFailed(
            _(
                "This unsubscribe link is not valid: it may have been cut or changed on the way. You can choose "
                "which e-mails you get in your notification settings."
            )
        ) from None
    if kind not in Kind.values and kind not in _other_kinds:
        raise ValidationFailed(_("This unsubscribe link names no kind of e-mail we send."))
    membership = (
        Membership.objects.for_org(organization_id)
        .filter(user_id=user_id, is_active=True, user__is_active=True)
        .select_related("organization", "user")
        .first()
    )
    if membership is None:
        raise NotFound(_("This link's member is no longer in the organization."))
    return membership, kind


def unsubscribe(*, token: str) -> tuple[Membership, str]:
    """Turn e-mails of the link's kind off for its member (no login: the signed link is the
    proof). Returns the membership and the kind. Raises what `read_unsubscribe_link` raises;
    then nothing changes."""
    from accounts.services.notifications import set_preferences  # notifications imports this module

    membership, kind = read_unsubscribe_link(token)
    if kind in _other_kinds:
        _other_kinds[kind].turn_off(membership)
    else:
        set_preferences(actor=membership, preferences={kind: {"email": False}})
    return membership, kind

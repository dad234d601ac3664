"""Web Push: the member's devices and the push channel of the notifications.

A device is a browser's PushSubscription (endpoint and keys), saved per member
(`subscribe_device`, `unsubscribe_device`). `notifications.notify()` asks for a push when the
member's preference for the kind has `push` on and the kind is one of PUSH_KINDS; the push
itself leaves from a Celery task (`accounts.tasks.push_notification`, enqueued by name
after commit), never from the request, one `deliver_push` per device.

Guarantees:
* Only endpoints of the browsers' push services (settings.WEB_PUSH_SERVICE_HOSTS, https)
  or an origin named in WEB_PUSH_EXTRA_ORIGINS are saved, so the worker never posts to an
  address a member made up (an internal host, say).
* A 404 or 410 from the push service deletes that subscription (it expired or the browser
  unsubscribed); 429, 5xx and network failures raise PushUnavailable for the task to retry
  a bounded number of times; any other refusal is logged and dropped.
* The VAPID key comes from settings.VAPID_PRIVATE_KEY, else it is generated once into
  PRIVATE_ROOT/webpush/ (two processes starting together keep the same one) and never
  leaves the server; browsers get only its public half.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Notification, NotificationPreference, Organization, PushSubscription
from accounts.permissions import Permission, require
from accounts.selectors import recipient_of
from advocacy.errors import NotFound, ValidationFailed
from advocacy.languages import for_recipient
from integrations.webpush import keys
from integrations.webpush.client import Subscription, WebPushClient
from integrations.webpush.errors import PushRejected, SubscriptionGone

logger = logging.getLogger(__name__)

Kind = Notification.Kind
# The kinds a member may have pushed to their devices, with the words the preferences page shows.
PUSH_KINDS = {
    Kind.CONTENT_DIGEST: gettext_lazy("New content for you"),
    Kind.SHARE_CHANGES_REQUESTED: gettext_lazy("Your share was sent back"),
    Kind.SHARE_PUBLISHED: gettext_lazy("Your post is live"),
}
PUSH_TASK = "accounts.tasks.push_notification"
DELIVER_TASK = "accounts.tasks.deliver_push"
DEVICES_PER_MEMBER = 20  # a member with more is not using them all: the oldest go
SESSION_ENDPOINTS = "push_endpoints"  # the devices subscribed in this browser session


# --- the VAPID key ---------------------------------------------------------------------------


def vapid_private_pem() -> str:
    """The deployment's VAPID private key (PEM): the setting, else the generated file."""
    if settings.VAPID_PRIVATE_KEY:
        return settings.VAPID_PRIVATE_KEY
    path = Path(settings.PRIVATE_ROOT) / "webpush" / "vapid_private.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a file of its own, then linked into place: of two processes
        # generating at once the first link wins, and nobody reads a half-written key.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(keys.generate_private_pem())
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text()


def application_server_key() -> str:
    """The VAPID public key the browser subscribes with (base64url)."""
    return keys.application_server_key(vapid_private_pem())


def push_client() -> WebPushClient:
    return WebPushClient(vapid_private_pem=vapid_private_pem(), subject=settings.VAPID_SUBJECT)


# --- devices ---------------------------------------------------------------------------------


def allowed_endpoint(endpoint: str) -> bool:
    """Whether the worker may post to `endpoint`: a known push service over https, or an
    origin the settings name (the local push emulator)."""
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin in settings.WEB_PUSH_EXTRA_ORIGINS:
        return True
    host = (parts.hostname or "").lower()
    return (
        parts.scheme == "https"
        and parts.username is None
        and any(host == known or host.endswith("." + known) for known in settings.WEB_PUSH_SERVICE_HOSTS)
    )


@transaction.atomic
def subscribe_device(
    *, actor: Membership, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Save this browser's PushSubscription for the member (again: its keys are renewed;
    another member's on the same browser: it becomes this member's). Keeps the newest
    DEVICES_PER_MEMBER devices. Raises ValidationFailed for an endpoint that is not a push
    service's or keys that are not a P-256 key and a 16-byte secret; nothing is saved then."""
    require(actor, Permission.ORG_VIEW)
    endpoint, p256dh, auth = (str(v or "").strip() for v in (endpoint, p256dh, auth))
    if len(endpoint) > 1000 or not allowed_endpoint(endpoint):
        raise ValidationFailed(
            _("This browser's push service is not one we can send to."),
            fields={"endpoint": [_("Not a push service.")]},
        )
    if len(p256dh) > 200 or len(auth) > 100 or not keys.valid_subscription_keys(p256dh, auth):
        raise ValidationFailed(_("This browser sent push keys we cannot use."), fields={"keys": [_("Invalid keys.")]})
    subscription, _created = PushSubscription.objects.for_org(actor.organization_id).update_or_create(
        endpoint=endpoint,
        defaults={"user_id": actor.user_id, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
        create_defaults={
            "organization_id": actor.organization_id,
            "user_id": actor.user_id,
            "p256dh": p256dh,
            "auth": auth,
            "user_agent": user_agent[:300],
        },
    )
    mine = PushSubscription.objects.for_org(actor.organization_id).filter(user_id=actor.user_id)
    stale = list(mine.order_by("-created_at", "-pk").values_list("pk", flat=True)[DEVICES_PER_MEMBER:])
    if stale:
        mine.filter(pk__in=stale).delete()
    return subscription


@transaction.atomic
def unsubscribe_device(*, actor: Membership, endpoint: str) -> None:
    """Forget one of the member's devices. Raises NotFound for an endpoint that is not the
    member's (another member's, another organization's or none), like a missing one."""
    require(actor, Permission.ORG_VIEW)
    deleted, _rows = (
        PushSubscription.objects.for_org(actor.organization_id)
        .filter(user_id=actor.user_id, endpoint=str(endpoint or "").strip())
        .delete()
    )
    if not deleted:
        raise NotFound(_("This device does not receive notifications."))


def forget_devices_on_sign_out(*, user_id: int, endpoints: list[str]) -> int:
    """System operation (sign-out): stop pushing to the devices this browser session
    subscribed, in every organization of the user, so that the next person on a shared
    phone does not see this member's notifications. Returns how many were forgotten."""
    if not endpoints:
        return 0
    deleted, _rows = (
        PushSubscription.objects.all_organizations().filter(user_id=user_id, endpoint__in=endpoints).delete()
    )
    return deleted


# --- sending ---------------------------------------------------------------------------------


def _send_push_task(organization_id: int, user_id: int, kind: str, message: str, url: str) -> None:
    current_app.send_task(PUSH_TASK, args=[organization_id, user_id, kind, message, url])


def enqueue_push(*, organization_id: int, user_id: int, kind: str, message: str, url: str) -> None:
    """System operation: push `message` to the member's devices once the transaction commits
    (`notify()` calls it when the preference says so; the callback is a `partial` whose
    `.func` is `_send_push_task`). Raises ValueError for a kind that is never pushed."""
    if kind not in PUSH_KINDS:
        raise ValueError(f"Notifications of kind {kind!r} are never pushed.")
    transaction.on_commit(partial(_send_push_task, organization_id, user_id, kind, message, url))


def push_targets(*, organization_id: int, user_ids: Iterable[int] | QuerySet, kind: str) -> list[int]:
    """The devices (subscription ids) of those members who want `kind` pushed (1 query;
    `user_ids` may be a query of user ids, used as a subquery).
    Read again at sending time: a member who turned push off meanwhile gets nothing."""
    if kind not in PUSH_KINDS:
        return []
    wanting = NotificationPreference.objects.for_org(organization_id).filter(user_id__in=user_ids, kind=kind, push=True)
    return list(
        PushSubscription.objects.for_org(organization_id)
        .filter(user_id__in=wanting.values("user_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def push_payload(
    *, organization_id: int, kind: str, message: str, url: str, user_id: int | None = None
) -> dict[str, Any]:
    """What the service worker shows: a title, the words, where a tap leads (a path of this
    site; anything else opens the notifications page). With `user_id` (one recipient) the
    title is in that member's language (one more query); without, in the active one."""
    organization = Organization.objects.filter(pk=organization_id).values_list("name", "slug").first()
    name, slug = organization or ("", "")
    if not (url.startswith("/") and not url.startswith("//")):
        url = f"/o/{slug}/notifications/" if slug else "/"
    if user_id is None:
        label = str(PUSH_KINDS.get(kind, ""))
    else:
        with for_recipient(*recipient_of(organization_id=organization_id, user_id=user_id)):
            label = str(PUSH_KINDS.get(kind, ""))
    return {"kind": kind, "title": f"{label} · {name}"[:120], "body": message[:500], "url": url}


def deliver_push(*, subscription_id: int, organization_id: int, payload: dict[str, Any]) -> str:
    """System operation: send `payload` to one device. Returns "sent", "gone" (404/410: the
    subscription was deleted), "missing" (deleted meanwhile), "rejected" (refused for
    good: logged) or "not_allowed" (its push service is no longer one the settings allow:
    nothing is posted). Raises PushUnavailable when the push service may take it later."""
    subscription = PushSubscription.objects.for_org(organization_id).filter(pk=subscription_id).first()
    if subscription is None:
        return "missing"
    if not allowed_endpoint(subscription.endpoint):  # the allowed push services changed since
        logger.warning(
            "Not pushing to device %s (org %s): its push service is not allowed", subscription_id, organization_id
        )
        return "not_allowed"
    try:
        push_client().send(
            Subscription(subscription.endpoint, subscription.p256dh, subscription.auth),
            payload,
            ttl=settings.WEB_PUSH_TTL,
        )
    except SubscriptionGone:
        PushSubscription.objects.for_org(organization_id).filter(pk=subscription_id).delete()
        return "gone"
    except PushRejected:
        logger.exception("The push service refused a push to device %s (org %s)", subscription_id, organization_id)
        return "rejected"
    PushSubscription.objects.for_org(organization_id).filter(pk=subscription_id).update(last_sent_at=timezone.now())
    return "sent"

"""The content digest: one e-mail per member listing what became shareable since the last one.

`send_digests()` runs from the beat schedule (daily); each member's `content_digest`
preference says how often they get one: daily, weekly (the default) or off.

Guarantees:
* One e-mail per member per digest, never one per item; nothing is sent when nothing new
  is live for them.
* Running twice (a re-run, two beat processes) sends no second digest: the member's row is
  locked while the last digest is re-checked, the mail sent and the digest recorded (a
  `Notification` of kind content_digest with `emailed_at`), all in one transaction.
* A mail failure is logged and rolls that member back, so the next run tries again; the
  other members are not affected.
* Each item carries a "Share" link, signed for this member and item, expiring, single-use
  (content.services.email_links); the mail has a plain and an HTML part and one-click
  unsubscribe from the digest (List-Unsubscribe, RFC 8058).
* Queries: 1 for the organizations, 3 per organization (members, preferences, last
  digests), then per member due: 1 (nothing new), or 3 (new items: feed, lock and
  re-check, record), and 1 more when an item is in another language than the member's
  (its variants: the member reads the one in their language). Never one per item.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Membership, Notification, NotificationPreference, Organization
from accounts.services.notifications import MAIL_ERRORS, record_emailed_notification
from accounts.services.unsubscribe import unsubscribe_headers, unsubscribe_url
from advocacy.languages import for_recipient
from content.selectors import languages
from content.selectors.sharing import feed_for
from content.services.email_links import share_link_url

logger = logging.getLogger(__name__)

Digest = NotificationPreference.Digest
DIGEST_KIND = Notification.Kind.CONTENT_DIGEST
EVERY = {Digest.DAILY: timedelta(days=1), Digest.WEEKLY: timedelta(days=7)}
# The beat runs once a day at a fixed time; a run a few minutes earlier than yesterday's
# must still count as "a day later".
GRACE = timedelta(hours=2)
MAX_ITEMS = 20


def send_digests(now: datetime | None = None) -> int:
    """Send every due digest; returns how many e-mails went out. Safe to run at any time, twice."""
    now = now or timezone.now()
    sent = 0
    for organization in Organization.objects.order_by("pk"):
        sent += _send_for_organization(organization, now)
    return sent


def _send_for_organization(organization: Organization, now: datetime) -> int:
    members = list(
        Membership.objects.for_org(organization)
        .filter(is_active=True, is_employee=True, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    if not members:
        return 0
    preferences = {
        user_id: (digest, in_app, email)
        for user_id, digest, in_app, email in NotificationPreference.objects.for_org(organization)
        .filter(kind=DIGEST_KIND)
        .values_list("user_id", "digest", "in_app", "email")
    }
    last_digest = dict(
        _digests(organization.pk).values("user_id").annotate(last=Max("emailed_at")).values_list("user_id", "last")
    )
    sent = 0
    for membership in members:
        membership.organization = organization  # the feed and the e-mail need it; no query
        digest, in_app, email = preferences.get(membership.user_id, (Digest.WEEKLY, True, True))
        if digest == Digest.OFF or not email:
            continue
        last = last_digest.get(membership.user_id)
        if last is not None and now - last < EVERY[digest] - GRACE:
            continue
        since = last or now - EVERY[digest]
        items = list(
            feed_for(membership, now=now).filter(Q(published_at__gt=since) | Q(starts_at__gt=since))[: MAX_ITEMS + 1]
        )
        if not items:
            continue
        try:
            if _send_one(membership, items, last=last, digest=digest, in_app=in_app, now=now):
                sent += 1
        except MAIL_ERRORS:
            logger.exception(
                "Could not e-mail the content digest to user %s (org %s)", membership.user_id, organization.pk
            )
    return sent


def _digests(organization_id: int):
    return Notification.objects.for_org(organization_id).filter(kind=DIGEST_KIND, emailed_at__isnull=False)


@transaction.atomic
def _send_one(
    membership: Membership, items: list, *, last: datetime | None, digest: str, in_app: bool, now: datetime
) -> bool:
    """Lock the member, check no digest went out meanwhile, send, record. False if one did."""
    latest = _digests(membership.organization_id).filter(user_id=OuterRef("user_id")).order_by("-emailed_at")
    locked = (
        Membership.objects.for_org(membership.organization_id)
        .select_for_update(of=("self",))
        .annotate(last_digest=Subquery(latest.values("emailed_at")[:1]))
        .get(pk=membership.pk)
    )
    if locked.last_digest != last:
        return False  # another run sent one since we looked
    organization = membership.organization
    shown, more = items[:MAX_ITEMS], len(items) > MAX_ITEMS
    # In the member's language and zone (issue 23), whichever process sends it.
    with for_recipient(membership.user, organization):
        feed_path = reverse("content:feed", kwargs={"org_slug": organization.slug})
        count = f"{len(shown)}{'+' if more else ''}"
        number = len(shown) + (1 if more else 0)  # "20+" reads as a plural
        languages.serve_items(organization, shown, translation.get_language())  # the variant they read
        for item in shown:  # one signed, single-use link per member and item (its own nonce)
            item.share_url = share_link_url(
                org_slug=organization.slug, organization_id=organization.pk, user_id=membership.user_id, item_id=item.pk
            )
        recipient = {"organization_id": organization.pk, "user_id": membership.user_id, "kind": DIGEST_KIND}
        context = {
            "user": membership.user,
            "organization": organization,
            "items": shown,
            "more": more,
            "frequency": _("every day") if digest == Digest.DAILY else _("once a week"),
            "feed_url": settings.SITE_URL + feed_path,
            "preferences_url": settings.SITE_URL
            + reverse("notification_preferences", kwargs={"org_slug": organization.slug}),
            "unsubscribe_url": unsubscribe_url(**recipient),
            "link_days": settings.EMAIL_SHARE_LINK_MAX_AGE // 86400,
        }
        mail = EmailMultiAlternatives(
            subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
            + ngettext(
                "%(count)s new post to share from %(organization)s",
                "%(count)s new posts to share from %(organization)s",
                number,
            )
            % {"count": count, "organization": organization.name},
            body=render_to_string("accounts/notifications/email/content_digest.txt", context),
            to=[membership.user.email],
            headers=unsubscribe_headers(**recipient),
        )
        mail.attach_alternative(
            render_to_string("accounts/notifications/email/content_digest.html", context), "text/html"
        )
        mail.send()
        record_emailed_notification(
            organization_id=membership.organization_id,
            user_id=membership.user_id,
            kind=DIGEST_KIND,
            message=ngettext(
                "%(count)s new post to share since your last digest.",
                "%(count)s new posts to share since your last digest.",
                number,
            )
            % {"count": count},
            url=feed_path,
            sent_at=now,
            in_app=in_app,  # in-app notices of digests off: kept only as the record
        )
    return True

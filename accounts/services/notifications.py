"""Notifications: tell a member something, in the app and/or by e-mail, as they prefer.

Other apps call `notify()` (content when a share is approved or fails, accounts when a
connection must be reconnected); it is the one door for every kind.

Guarantees:
* The member's preference for the kind decides: an in-app row if `in_app`, an e-mail if
  `email`, a push to their devices if `push` (only the kinds of push.PUSH_KINDS; sent by
  a Celery task after commit). Without a saved preference in-app and e-mail are on, push off.
* The e-mail leaves only after the surrounding transaction commits (a rolled-back action
  sends nothing), as plain text, with one-click unsubscribe from its kind (RFC 8058:
  accounts.services.unsubscribe), and a mail failure is logged, never raised: the action
  that notified has already happened and must not be undone by a mail server.
* A member only ever reads or marks their own notifications; another member's (or
  another organization's) id answers NotFound, like a missing one.
* Everything is in the RECIPIENT's language (issue 23): `message` is a lazy text
  (`advocacy.languages.later(gettext_noop("…"), ...)`) put into words once, inside
  `for_recipient(user, organization)`, for the stored row, the e-mail and the push alike;
  the e-mail's subject and body, and the push's title, are rendered in that language too.
  A plain str (an old caller, or a text already in the recipient's words) is kept as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from smtplib import SMTPException
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Membership, Notification, NotificationPreference, Organization, SocialConnection, User
from accounts.permissions import Permission, require
from accounts.selectors import recipient_of
from accounts.services import push
from accounts.services.unsubscribe import unsubscribe_headers, unsubscribe_url
from advocacy.errors import NotFound, ValidationFailed, conflict_on_duplicate
from advocacy.languages import for_recipient, later

logger = logging.getLogger(__name__)

EMAIL_TASK = "accounts.tasks.send_notification_emails"

Kind = Notification.Kind
# What a mail backend raises when the server is down or refuses; anything else is a bug.
MAIL_ERRORS = (SMTPException, OSError, BadHeaderError)


def absolute_url(url: str) -> str:
    """A site path made absolute for an e-mail; absolute URLs and "" are kept."""
    return settings.SITE_URL + url if url.startswith("/") else url


def preference_for(*, organization_id: int, user_id: int, kind: str) -> NotificationPreference:
    """The saved preference, or an unsaved one with the defaults (1 query)."""
    saved = NotificationPreference.objects.for_org(organization_id).filter(user_id=user_id, kind=kind).first()
    return saved or NotificationPreference(organization_id=organization_id, user_id=user_id, kind=kind)


def in_words(message: str | Promise, *, organization_id: int, user_id: int) -> str:
    """`message` put into the recipient's words: a lazy text is translated inside
    `for_recipient` (one query for the languages); a plain str is returned as it is."""
    if not isinstance(message, Promise):
        return message
    user, organization = recipient_of(organization_id=organization_id, user_id=user_id)
    with for_recipient(user, organization):
        return str(message)


@dataclass(frozen=True)
class Notice:
    """One member of an organization to tell something (`notify_many`): `message` and `url`
    as for `notify`."""

    user_id: int
    kind: str
    message: str | Promise
    url: str = ""


def notify(
    *,
    organization_id: int,
    user_id: int,
    kind: str,
    message: str | Promise,
    url: str = "",
    email_by_task: bool = False,
) -> Notification | None:
    """System operation (called by other services on an event, not by a person): tell one
    member about something, as their preference for `kind` says.

    Returns the in-app notification, or None when the member turned in-app notices of
    this kind off. The e-mail (when wanted) is sent after commit; it never raises.
    `message` is `later(gettext_noop("…"), name=value)`, put into words in the recipient's
    language (one query: theirs and their organization's), or a plain str kept as it is.
    `url` is a path on this site (made absolute in the e-mail) or an absolute URL.
    `email_by_task`: the e-mail is sent by a task on the default queue (the publisher's
    threads never render it or wait on the mail server), else by this process after commit.
    Raises ValueError for an unknown kind (a programming error in the caller).
    """
    notice = Notice(user_id=user_id, kind=kind, message=message, url=url)
    return notify_many(organization_id, [notice], email_by_task=email_by_task)[0]


def notify_many(
    organization_id: int, notices: Sequence[Notice], *, email_by_task: bool = False
) -> list[Notification | None]:
    """System operation: `notify` for several members of one organization at once (the
    publishing batch's "is live" notices): every notice as its member's preference for its
    kind says, with one read of the preferences, one INSERT of the in-app rows and, with
    `email_by_task`, one task message for all the e-mails (a lazy `message` still costs one
    read of its recipient's language: pass words already put into the recipient's language
    for many). Returns each notice's in-app
    notification or None, in order. Raises ValueError for an unknown kind, before anything
    is written."""
    for notice in notices:
        if notice.kind not in Kind.values:
            raise ValueError(f"Unknown notification kind {notice.kind!r}.")
    if not notices:
        return []
    # Alone, one transaction; inside the caller's (a decision, a publishing record), part of
    # it without a savepoint of its own: an error here fails the caller's transaction anyway,
    # and a savepoint is two round trips more on the publisher's hot path.
    with transaction.atomic(savepoint=False):
        return _notify_many(organization_id, notices, email_by_task)


def _notify_many(organization_id: int, notices: Sequence[Notice], email_by_task: bool) -> list[Notification | None]:
    saved = {
        (preference.user_id, preference.kind): preference
        for preference in NotificationPreference.objects.for_org(organization_id).filter(
            user_id__in={notice.user_id for notice in notices}, kind__in={notice.kind for notice in notices}
        )
    }
    wanted: list[tuple[int, NotificationPreference, str, bool]] = []  # (index, preference, words, pushed)
    rows: list[Notification | None] = [None] * len(notices)
    for index, notice in enumerate(notices):
        preference = saved.get((notice.user_id, notice.kind)) or NotificationPreference(
            organization_id=organization_id, user_id=notice.user_id, kind=notice.kind
        )
        pushed = preference.push and notice.kind in push.PUSH_KINDS
        if not (preference.in_app or preference.email or pushed):
            continue
        message = in_words(notice.message, organization_id=organization_id, user_id=notice.user_id)
        wanted.append((index, preference, message, pushed))
        if preference.in_app:
            rows[index] = Notification(
                organization_id=organization_id,
                user_id=notice.user_id,
                kind=notice.kind,
                message=message[:1000],
                url=notice.url[:2000],
            )
    Notification.objects.bulk_create([row for row in rows if row is not None])
    emails = []
    for index, preference, message, pushed in wanted:
        notice, row = notices[index], rows[index]
        if preference.email:
            emails.append(
                {
                    "organization_id": organization_id,
                    "user_id": notice.user_id,
                    "kind": notice.kind,
                    "message": message,
                    "url": notice.url,
                    "notification_id": row.pk if row else None,
                }
            )
        if pushed:
            push.enqueue_push(
                organization_id=organization_id,
                user_id=notice.user_id,
                kind=notice.kind,
                message=message,
                url=notice.url,
            )
    if emails and email_by_task:
        # robust: a broker that is down must not fail what was notified (logged by Django).
        transaction.on_commit(lambda: _emails_by_task(emails), robust=True)
    elif emails:
        transaction.on_commit(lambda: send_notification_emails(emails))
    return rows


def _emails_by_task(emails: list[dict]) -> None:
    """Hand the e-mails to their task, one message for all (by name: services do not import
    tasks)."""
    current_app.send_task(EMAIL_TASK, kwargs={"emails": emails})


def send_notification_emails(emails: Sequence[Mapping[str, Any]]) -> int:
    """System operation (after `notify_many`'s commit, or its task): `send_notification_email`
    for each; returns how many were sent. One that fails is logged and does not stop the
    others."""
    return sum(send_notification_email(**email) for email in emails)


def send_notification_email(
    *, organization_id: int, user_id: int, kind: str, message: str, url: str, notification_id: int | None
) -> bool:
    """System operation (after `notify`'s commit, or its task): e-mail one notification to its
    member in their language, and mark it e-mailed. False when the member or the
    organization is gone, or the mail server refused (logged); never raises for that."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    organization = Organization.objects.filter(pk=organization_id).first()
    if user is None or organization is None:
        return False
    preferences_url = absolute_url(reverse("notification_preferences", kwargs={"org_slug": organization.slug}))
    context = {
        "user": user,
        "organization": organization,
        "message": message,
        "url": absolute_url(url),
        "kind_label": Kind(kind).label,
        "preferences_url": preferences_url,
        "unsubscribe_url": unsubscribe_url(organization_id=organization_id, user_id=user_id, kind=kind),
    }
    with for_recipient(user, organization):
        context["kind_label"] = str(Kind(kind).label)
        body = render_to_string("accounts/email/notification.txt", context)
        first_line = message.splitlines()[0] if message else str(Kind(kind).label)
        subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{organization.name}: {first_line}"[:200]
    try:
        EmailMessage(
            subject=subject,
            body=body,
            to=[user.email],
            headers=unsubscribe_headers(organization_id=organization_id, user_id=user_id, kind=kind),
        ).send()
    except MAIL_ERRORS:
        logger.exception("Could not e-mail the %s notification to user %s (org %s)", kind, user_id, organization_id)
        return False
    if notification_id is not None:
        Notification.objects.for_org(organization_id).filter(pk=notification_id).update(emailed_at=timezone.now())
    return True


def notify_needs_reconnect(connection: SocialConnection, reason: str = "") -> Notification | None:
    """System operation: tell the employee that a connected account stopped working and must be reconnected.

    Call it when the connection *becomes* `needs_reconnect`. An unread notice with the same
    words is not repeated, so a caller that cannot tell a transition apart stays quiet.
    """
    network = connection.get_network_display()
    why = (reason or connection.status_reason or "").strip()
    params = {"network": network, "account": connection.name or connection.remote_id, "why": why}
    if why:
        message = later(gettext_noop("Your %(network)s account %(account)s needs reconnecting: %(why)s"), **params)
    else:
        message = later(gettext_noop("Your %(network)s account %(account)s needs reconnecting."), **params)
    # In the recipient's words now, to compare with an unread notice already stored.
    message = in_words(message, organization_id=connection.organization_id, user_id=connection.user_id)
    org_slug = Organization.objects.filter(pk=connection.organization_id).values_list("slug", flat=True).first()
    url = reverse("connections", kwargs={"org_slug": org_slug}) if org_slug else ""
    already = (
        Notification.objects.for_org(connection.organization_id)
        .filter(user_id=connection.user_id, kind=Kind.CONNECTION_NEEDS_RECONNECT, message=message[:1000])
        .filter(read_at__isnull=True)
        .exists()
    )
    if already:
        return None
    return notify(
        organization_id=connection.organization_id,
        user_id=connection.user_id,
        kind=Kind.CONNECTION_NEEDS_RECONNECT,
        message=message,
        url=url,
    )


# --- reading and marking ------------------------------------------------------------------


def _own(membership: Membership, notification_id: int) -> QuerySet[Notification]:
    return Notification.objects.for_org(membership.organization_id).filter(
        pk=notification_id, user_id=membership.user_id
    )


@transaction.atomic
def mark_read(*, actor: Membership, notification_id: int) -> Notification:
    """Mark one of the member's notifications read (again is harmless); NotFound for anyone else's."""
    require(actor, Permission.ORG_VIEW)
    membership = actor
    try:
        notification = _own(membership, notification_id).select_for_update().get()
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such notification.")) from None
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, actor: Membership) -> int:
    """Mark every unread notification of the member read; returns how many changed."""
    require(actor, Permission.ORG_VIEW)
    membership = actor
    return (
        Notification.objects.for_org(membership.organization_id)
        .filter(user_id=membership.user_id, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


@transaction.atomic
def set_preferences(
    *, actor: Membership, preferences: Mapping[str, Mapping[str, Any]]
) -> dict[str, NotificationPreference]:
    """Save the member's choices, kind -> {"in_app": bool, "email": bool, "push": bool,
    "digest": daily|weekly|off} ("push" only counts for push.PUSH_KINDS).

    Kinds not named keep what they had; keys not given keep their current value. Raises
    ValidationFailed for an unknown kind or digest frequency, and then saves nothing.
    """
    require(actor, Permission.ORG_VIEW)
    membership = actor
    unknown = sorted(set(preferences) - set(Kind.values))
    if unknown:
        raise ValidationFailed(_("Unknown notification kind: %(kinds)s.") % {"kinds": ", ".join(unknown)})
    for values in preferences.values():
        digest = values.get("digest")
        if digest is not None and digest not in NotificationPreference.Digest.values:
            raise ValidationFailed(
                _("Choose daily, weekly or off for the digest."), fields={"digest": [_("Not a valid choice.")]}
            )
    current = preferences_of(membership, lock=True)
    with conflict_on_duplicate(_("Your preferences were changed in another window at the same time; try again.")):
        for kind, values in preferences.items():
            preference = current[kind]
            for field in ("in_app", "email"):
                if field in values:
                    setattr(preference, field, bool(values[field]))
            if "push" in values and kind in push.PUSH_KINDS:  # other kinds are never pushed: stays off
                preference.push = bool(values["push"])
            if values.get("digest") is not None:
                preference.digest = values["digest"]
            preference.save()
    return current


def preferences_of(membership: Membership, *, lock: bool = False) -> dict[str, NotificationPreference]:
    """Every kind -> the member's preference (saved or default, unsaved), in the kinds' order (1 query)."""
    saved = NotificationPreference.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)
    if lock:
        saved = saved.select_for_update()
    by_kind = {p.kind: p for p in saved}
    return {
        kind: by_kind.get(kind)
        or NotificationPreference(organization_id=membership.organization_id, user_id=membership.user_id, kind=kind)
        for kind in Kind.values
    }


def record_emailed_notification(
    *, organization_id: int, user_id: int, kind: str, message: str, url: str, sent_at: Any, in_app: bool
) -> Notification:
    """System operation: the notification of an e-mail its sender already sent (the content
    digest mails in its own transaction, so the row is the record a second run looks for).
    `sent_at` is the aware datetime of the e-mail. With in-app notices of `kind` off it is
    stored already read: kept only as the record.
    Raises ValueError for an unknown kind (a programming error in the caller)."""
    if kind not in Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    return Notification.objects.create(
        organization_id=organization_id,
        user_id=user_id,
        kind=kind,
        message=message[:1000],
        url=url[:2000],
        created_at=sent_at,
        emailed_at=sent_at,
        read_at=None if in_app else sent_at,
    )

"""Conversions reported by the organization's site or server, attributed to employees' posts
(issue 17, point 2): the one writer of `Conversion` and of the conversion rollup counters.

Guarantees:
* Idempotent by the caller's event id per organization: the same event sent again changes
  nothing (counted in `replays`); the same id with a different event is refused (Conflict),
  so a caller's bug cannot silently replace a booked conversion.
* Attribution is last click within the organization's window (`AnalyticsSettings.
  attribution_window_days`, default 30): the tracking code (`utm_content` of the landing URL,
  put there by `/r/<code>`) names the post; the latest counted click on it at or before the
  event must be within the window. A click still in the redirect's buffer is waited for
  (`PENDING`, re-tried by `attribute_pending` every minute for `PENDING_GRACE`).
* Nothing is dropped: an unknown code, no code, no click, a click too old each leave the
  conversion stored as UNATTRIBUTED with its reason, shown on the dashboards' own line.
* An attributed conversion is added to the rollups (`rollups.add`) in the transaction that
  attributes it, on the event's local day, under the post's team, network and item; its
  value only when in the organization's currency (no exchange rates are guessed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import Permission, require
from advocacy import audit, bearer_keys
from advocacy.errors import Conflict, ValidationFailed
from analytics.models import (
    AnalyticsSettings,
    Click,
    Conversion,
    ConversionKey,
    ConversionStatus,
    UnattributedReason,
)
from analytics.services import report_version, rollups
from content.models import Delivery

PENDING_GRACE = timedelta(minutes=10)  # how long a conversion waits for its click to be flushed
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ: an event this far ahead is still accepted
EVENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")
MAX_VALUE = Decimal("1000000000")
COMPARED = ("event_name", "value", "currency", "occurred_at", "tracking_code", "email_digest")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def email_digest(email: str) -> str:
    """A keyed hash of an e-mail address (trimmed, lowercased): conversions and CRM deals
    are matched on it, and the address itself is never stored. Keyed with SECRET_KEY (a
    new key leaves earlier digests unmatched)."""
    return salted_hmac("analytics.email", email.strip().lower(), algorithm="sha256").hexdigest()


# --- keys -------------------------------------------------------------------------------


@transaction.atomic
def create_key(*, actor: Membership, name: str) -> tuple[ConversionKey, str]:
    """A new conversion key; returns (row, plain key). The plain key is never shown again."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    organization, user = actor.organization, actor.user
    key, plain = bearer_keys.issue_key(
        ConversionKey,
        "cvk",
        name=name,
        unnamed="Name the key after the site or server that will use it.",
        organization=organization,
        created_by=user,
    )
    report_version.bump(organization.pk)  # "not set" turns into a figure
    after = {"name": key.name, "prefix": key.prefix}
    audit.record("conversion_key.created", organization_id=organization.pk, target=key, after=after)
    return key, plain


@transaction.atomic
def revoke_key(*, actor: Membership, key: ConversionKey) -> ConversionKey:
    """Stop a conversion key from working, at once. Another organization's: ConversionKey.DoesNotExist."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    if key.organization_id != actor.organization_id:
        raise ConversionKey.DoesNotExist("No conversion key found")
    user = actor.user
    if bearer_keys.revoke_key(key):
        report_version.bump(key.organization_id)
        audit.record("conversion_key.revoked", organization_id=key.organization_id, target=key, after={"by": user.pk})
    return key


def authenticate_key(plain: str) -> ConversionKey | None:
    """The active key whose secret is `plain`, with its organization; else None."""
    rows = ConversionKey.objects.all_organizations().select_related("organization")  # the secret decides the org
    return bearer_keys.find_key(rows, "cvk", plain)


# --- reporting a conversion --------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    event_name: str
    value: Decimal | None
    currency: str
    occurred_at: datetime
    tracking_code: str
    occurred_at_given: bool = True  # False: the time of arrival stood in (a replay may not repeat it)
    email_digest: str = ""  # of the visitor's e-mail when sent: CRM deals are matched on it


def parse_event(data: dict, *, now: datetime) -> Event:
    """The event as sent, checked whole; ValidationFailed names every bad field in words."""
    errors: dict[str, list[str]] = {}
    event_id = str(data.get("event_id") or "").strip()
    if not EVENT_ID.match(event_id):
        errors["event_id"] = [_("Your own id of the event: 1 to 100 letters, digits or _ . : / -.")]
    event_name = str(data.get("event_name") or "").strip().lower()
    if not EVENT_NAME.match(event_name):
        errors["event_name"] = [_("A name such as signup or purchase: 1 to 64 lowercase letters, digits or _ . -.")]
    value, currency = None, str(data.get("currency") or "").strip().upper()
    if data.get("value") not in (None, ""):
        try:
            value = Decimal(str(data["value"])).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors["value"] = [_("A number such as 49.90.")]
        else:
            if not Decimal(0) <= value < MAX_VALUE:
                errors["value"] = [_("A value of 0 or more.")]
        if not (len(currency) == 3 and currency.isalpha()):
            errors["currency"] = [_("Three letters, for example EUR, with a value.")]
    elif currency:
        errors["value"] = [_("A currency was given without a value.")]
    occurred_at = now
    if data.get("occurred_at"):
        parsed = parse_datetime(str(data["occurred_at"]))
        if parsed is None or parsed.tzinfo is None:
            errors["occurred_at"] = [_("An ISO 8601 time with its offset, such as 2026-11-30T14:05:00+01:00.")]
        elif parsed > now + FUTURE_SLACK:
            errors["occurred_at"] = [_("This time is in the future.")]
        else:
            occurred_at = parsed
    code = str(data.get("tracking_code") or "").strip()
    if code and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        errors["tracking_code"] = [_("The utm_content of the landing page: letters, digits, _ or -.")]
    email = str(data.get("email") or "").strip()
    if email and not EMAIL.match(email):
        errors["email"] = [_("The visitor's e-mail address, such as ada@example.com (kept only as a keyed hash).")]
    if errors:
        raise ValidationFailed(_("The conversion was not recorded: some fields are not valid."), fields=errors)
    return Event(
        event_id,
        event_name,
        value,
        currency,
        occurred_at,
        code,
        occurred_at_given=bool(data.get("occurred_at")),
        email_digest=email_digest(email) if email else "",
    )


def record(*, organization, event: Event, source: str = "api", now: datetime | None = None) -> tuple[Conversion, bool]:
    """Store and attribute one conversion; returns (conversion, created). A replay of the same
    event returns the stored one (created False, `replays` + 1); the same event id with other
    fields raises Conflict and changes nothing."""
    now = now or timezone.now()
    settings = AnalyticsSettings.objects.for_org(organization).first() or AnalyticsSettings(organization=organization)
    with transaction.atomic():
        existing = Conversion.objects.for_org(organization).select_for_update().filter(event_id=event.event_id).first()
        if existing is None:
            try:
                with transaction.atomic():
                    conversion = Conversion.objects.create(
                        organization=organization,
                        event_id=event.event_id,
                        event_name=event.event_name,
                        value=event.value,
                        currency=event.currency,
                        value_counted=event.value is not None and event.currency == settings.currency,
                        occurred_at=event.occurred_at,
                        day=rollups.local_day(event.occurred_at, organization.timezone),
                        tracking_code=event.tracking_code,
                        email_digest=event.email_digest,
                        source=source,
                        status=ConversionStatus.PENDING,
                        attribution="last_click",
                    )
            except IntegrityError:  # the same event id, sent twice at once: the other one won
                existing = Conversion.objects.for_org(organization).select_for_update().get(event_id=event.event_id)
            else:
                _attribute(conversion, organization, window_days=settings.attribution_window_days, now=now)
                return conversion, True
        compared = COMPARED if event.occurred_at_given else tuple(n for n in COMPARED if n != "occurred_at")
        if any(getattr(existing, name) != getattr(event, name) for name in compared):
            raise Conflict(
                _(
                    "The event id %(event_id)s was already used for another event; "
                    "send each event with its own id (a replay must repeat the same fields)."
                )
                % {"event_id": repr(event.event_id)}
            )
        Conversion.objects.for_org(organization).filter(pk=existing.pk).update(replays=F("replays") + 1)
        report_version.bump(organization.pk)  # the page counts replays
        existing.refresh_from_db()
        return existing, False


def _attribute(conversion: Conversion, organization, *, window_days: int, now: datetime) -> None:
    """Last click within the window: attributed (and counted), pending, or unattributed with
    its reason. Call inside the transaction that holds the conversion's row."""
    status, reason, click, delivery = ConversionStatus.UNATTRIBUTED, UnattributedReason.NO_TOUCH, None, None
    if conversion.tracking_code:
        delivery = (
            Delivery.objects.for_org(organization)
            .select_related("share")
            .filter(tracking_code=conversion.tracking_code)
            .first()
        )
        if delivery is None:
            reason = UnattributedReason.UNKNOWN_CODE
        else:
            click = (
                Click.objects.for_org(organization)
                .filter(delivery=delivery, discard_reason="", at__lte=conversion.occurred_at)
                .order_by("-at")
                .first()
            )
            if click is None:
                waited = now - conversion.received_at
                status = ConversionStatus.PENDING if waited < PENDING_GRACE else ConversionStatus.UNATTRIBUTED
                reason = "" if status == ConversionStatus.PENDING else UnattributedReason.NO_CLICK
            elif conversion.occurred_at - click.at > timedelta(days=window_days):
                reason = UnattributedReason.OUTSIDE_WINDOW
            else:
                status, reason = ConversionStatus.ATTRIBUTED, ""
    conversion.status, conversion.reason = status, reason
    if status == ConversionStatus.ATTRIBUTED:
        share = delivery.share
        conversion.delivery, conversion.clicked_at = delivery, click.at
        conversion.author_id, conversion.item_id = share.author_id, share.item_id
        conversion.team_key, conversion.network = share.team_id or 0, delivery.network
        rollups.add(
            organization_id=organization.pk,
            day=conversion.day,
            team_key=conversion.team_key,
            network=conversion.network,
            item_id=conversion.item_id,
            author_key=conversion.author_id or 0,
            conversions=1,
            conversion_value=int(conversion.value * 100) if conversion.value_counted else 0,
        )
    conversion.save()
    if status == ConversionStatus.ATTRIBUTED:
        from analytics.services import deals  # deals reads conversions: imported here, not at the top

        deals.attribute_waiting_deals(conversion=conversion)
    report_version.bump(organization.pk)  # its outcome (attributed, pending, which reason)


def attribute_pending(*, now: datetime | None = None) -> int:
    """Try again the conversions waiting for their click (every organization); after
    PENDING_GRACE one without a click is unattributed ("no click"). Returns how many were
    decided. Run every minute by the beat."""
    now = now or timezone.now()
    decided = 0
    pending = (
        Conversion.objects.all_organizations()
        .filter(status=ConversionStatus.PENDING)
        .values_list("pk", "organization_id")
    )
    for pk, organization_id in pending.order_by("received_at")[:1000]:
        with transaction.atomic():
            conversion = (
                Conversion.objects.for_org(organization_id)
                .select_related("organization")
                .select_for_update(of=("self",))
                .filter(pk=pk, status=ConversionStatus.PENDING)
                .first()
            )
            if conversion is None:
                continue
            settings = AnalyticsSettings.objects.for_org(organization_id).first()
            window = settings.attribution_window_days if settings else 30
            _attribute(conversion, conversion.organization, window_days=window, now=now)
            decided += conversion.status != ConversionStatus.PENDING
    return decided

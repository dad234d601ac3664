"""The organization's analytics rates and program cost (one door for the write)."""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import ValidationFailed
from analytics.models import AnalyticsSettings
from analytics.services import report_version
from analytics.services.conversions import EVENT_NAME

MAX_RATE = Decimal("1000000000")


def settings_for(organization) -> AnalyticsSettings:
    """The saved settings, or unsaved defaults (nothing set)."""
    return AnalyticsSettings.objects.for_org(organization).first() or AnalyticsSettings(organization=organization)


@transaction.atomic
def save_settings(*, actor: Membership, currency: str = "USD", **rates) -> AnalyticsSettings:
    """Replace the organization's rates (None = not set). Raises ValidationFailed for an
    unknown field, a negative or absurd amount, or a currency that is not 3 letters;
    nothing is saved then. Audited."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    organization, user = actor.organization, actor.user
    unknown = set(rates) - set(AnalyticsSettings.RATE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    errors = {}
    for name, value in rates.items():
        if value is not None and not (Decimal(0) <= Decimal(value) < MAX_RATE):
            errors[name] = [_("Enter an amount of 0 or more.")]
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_("Three letters, for example USD or EUR.")]
    if errors:
        raise ValidationFailed(_("Some rates are not valid; nothing was saved."), fields=errors)
    current = AnalyticsSettings.objects.for_org(organization).select_for_update().first()
    before = _snapshot(current) if current else None
    current = current or AnalyticsSettings(organization=organization)
    current.currency = currency
    for name in AnalyticsSettings.RATE_FIELDS:
        if name in rates:
            setattr(current, name, None if rates[name] is None else Decimal(rates[name]))
    current.updated_by = user
    current.save()
    report_version.bump(organization.pk)
    audit.record(
        "analytics.settings_changed",
        organization_id=organization.pk,
        target=current,
        before=before,
        after=_snapshot(current),
    )
    return current


def _snapshot(row: AnalyticsSettings) -> dict:
    return {
        "currency": row.currency,
        **{name: None if getattr(row, name) is None else str(getattr(row, name)) for name in row.RATE_FIELDS},
    }


ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


@transaction.atomic
def save_conversion_settings(*, actor: Membership, origins: str, events: str, window_days: int) -> AnalyticsSettings:
    """Which sites may report conversions from the browser, which event names, and the
    attribution window. Checked whole (ValidationFailed names each bad line); audited."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    organization, user = actor.organization, actor.user
    lines = [line.strip().rstrip("/").lower() for line in (origins or "").splitlines() if line.strip()]
    names = [name.strip().lower() for name in (events or "").split(",") if name.strip()]
    errors = {}
    bad = [line for line in lines if not ORIGIN.match(line)]
    if bad:
        errors["origins"] = [
            _("Not an origin like https://www.example.com: %(origins)s.") % {"origins": ", ".join(bad[:5])}
        ]
    wrong = [name for name in names if not EVENT_NAME.match(name)]
    if wrong:
        errors["events"] = [_("Lowercase letters, digits, _ . - only: %(names)s.") % {"names": ", ".join(wrong[:5])}]
    if not 1 <= int(window_days) <= 365:
        errors["window_days"] = [_("Between 1 and 365 days.")]
    if errors:
        raise ValidationFailed(_("The conversion settings were not saved."), fields=errors)
    current = AnalyticsSettings.objects.for_org(organization).select_for_update().first()
    current = current or AnalyticsSettings(organization=organization)
    before = {
        "origins": current.conversion_origins,
        "events": current.browser_events,
        "window_days": current.attribution_window_days,
    }
    current.conversion_origins = "\n".join(dict.fromkeys(lines))
    current.browser_events = ",".join(dict.fromkeys(names))
    current.attribution_window_days = int(window_days)
    current.updated_by = user
    current.save()
    report_version.bump(organization.pk)
    after = {"origins": current.conversion_origins, "events": current.browser_events, "window_days": int(window_days)}
    audit.record(
        "analytics.conversion_settings_changed",
        organization_id=organization.pk,
        target=current,
        before=before,
        after=after,
    )
    return current

"""The organization's analytics rates and program cost (one door for the write)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from advocacy import audit
from advocacy.errors import ValidationFailed
from analytics.models import AnalyticsSettings

MAX_RATE = Decimal("1000000000")


def settings_for(organization) -> AnalyticsSettings:
    """The saved settings, or unsaved defaults (nothing set)."""
    return AnalyticsSettings.objects.for_org(organization).first() or AnalyticsSettings(organization=organization)


@transaction.atomic
def save_settings(*, organization, user, currency: str = "USD", **rates) -> AnalyticsSettings:
    """Replace the organization's rates (None = not set). Raises ValidationFailed for an
    unknown field, a negative or absurd amount, or a currency that is not 3 letters;
    nothing is saved then. Audited."""
    unknown = set(rates) - set(AnalyticsSettings.RATE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown settings: {', '.join(sorted(unknown))}.")
    errors = {}
    for name, value in rates.items():
        if value is not None and not (Decimal(0) <= Decimal(value) < MAX_RATE):
            errors[name] = ["Enter an amount of 0 or more."]
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = ["Three letters, for example USD or EUR."]
    if errors:
        raise ValidationFailed("Some rates are not valid; nothing was saved.", fields=errors)
    current = AnalyticsSettings.objects.for_org(organization).select_for_update().first()
    before = _snapshot(current) if current else None
    current = current or AnalyticsSettings(organization=organization)
    current.currency = currency
    for name in AnalyticsSettings.RATE_FIELDS:
        if name in rates:
            setattr(current, name, None if rates[name] is None else Decimal(rates[name]))
    current.updated_by = user
    current.save()
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

"""Date ranges for the dashboards: parse, default, compare with the period before.

Days are the organization's local days (the rollups' days). A `Period` is inclusive at
both ends; its previous period has the same length and ends the day before it starts.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from advocacy.errors import ValidationFailed

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
PRESETS = (7, 30, 90, 365)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    @property
    def label(self) -> str:
        """The period in the reader's words: its first and last day ("01 Dec 2026", month
        names in the active language) joined by an en dash."""
        return f"{dateformat.format(self.start, 'd M Y')} – {dateformat.format(self.end, 'd M Y')}"

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days}


def today_for(organization) -> date:
    """Today in the organization's timezone."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()


def last_days(organization, days: int = DEFAULT_DAYS) -> Period:
    """The `days` days ending today (organization's timezone)."""
    end = today_for(organization)
    return Period(end - timedelta(days=days - 1), end)


def _parse_day(value: str, name: str) -> date:
    START_NOT_A_DATE = _("The start date %(value)s is not a date like 2026-11-30.")
    END_NOT_A_DATE = _("The end date %(value)s is not a date like 2026-11-30.")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            (START_NOT_A_DATE if name == "start" else END_NOT_A_DATE) % {"value": repr(value[:20])},
            fields={name: [_("Use YYYY-MM-DD.")]},
        ) from None


def period_from(params, organization, *, default_days: int = DEFAULT_DAYS) -> Period:
    """The period asked for by `start` / `end` (YYYY-MM-DD) or `days` (a preset), else the
    last `default_days` days. Raises ValidationFailed in plain words for a bad range."""
    start, end, days = (params.get("start") or "").strip(), (params.get("end") or "").strip(), params.get("days")
    if not start and not end:
        if days:
            try:
                count = int(days)
            except ValueError:
                raise ValidationFailed(
                    _("The number of days must be a whole number."), fields={"days": [_("Bad number.")]}
                ) from None
            if not 1 <= count <= MAX_DAYS:
                raise ValidationFailed(
                    _("Pick between 1 and %(max)s days.") % {"max": MAX_DAYS}, fields={"days": [_("Out of range.")]}
                )
            return last_days(organization, count)
        return last_days(organization, default_days)
    if not start or not end:
        raise ValidationFailed(
            _("Give both a start and an end date."), fields={"start" if not start else "end": [_("Needed.")]}
        )
    period = Period(_parse_day(start, "start"), _parse_day(end, "end"))
    if period.start > period.end:
        raise ValidationFailed(_("The start date is after the end date."), fields={"start": [_("After the end.")]})
    if period.days > MAX_DAYS:
        raise ValidationFailed(
            _("A report covers at most %(max)s days.") % {"max": MAX_DAYS}, fields={"end": [_("Too long a range.")]}
        )
    return period


def change(current, previous) -> dict:
    """How `current` compares with `previous`: delta, percent (None when there is no base
    or a figure is not available), and a direction word for the page."""
    if current is None or previous is None:
        return {"delta": None, "percent": None, "direction": "none"}
    delta = current - previous
    percent = None if not previous else round(float(delta) * 100 / float(previous), 1)
    direction = "up" if delta > 0 else "down" if delta < 0 else "flat"
    return {"delta": delta, "percent": percent, "direction": direction}

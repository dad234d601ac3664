"""Times on pages: `{{ value|when }}` prints a datetime in the viewer's zone with the zone's
abbreviation, inside a <time> element that carries the exact instant ("9 Jan 2026 09:00 CET");
`{{ value|when:"H:i" }}` picks another Django date format. `{{ value|when_text }}` is the
same words without markup, for e-mails and other plain text. `{% updated_at value %}` says how
long ago a page's numbers were computed (advocacy.timezones)."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext

from advocacy.timezones import DEFAULT_FORMAT, format_when

register = template.Library()


@register.filter(expects_localtime=False)
def when(value, fmt: str = DEFAULT_FORMAT):
    if not value:
        return ""
    local = timezone.localtime(value)
    # The zone stays on the line of the clock it qualifies ("09:00 CET"), in narrow columns too.
    words = format_when(value, fmt).rsplit(" ", 1)
    return format_html('<time datetime="{}">{}\u00a0{}</time>', local.isoformat(), *words)


@register.filter(expects_localtime=False)
def when_text(value, fmt: str = DEFAULT_FORMAT) -> str:
    return format_when(value, fmt) if value else ""


@register.inclusion_tag("_updated.html")
def updated_at(value):
    """ "Updated 2 minutes ago", the exact time in the viewer's zone beside it and in the title."""
    if value is None:
        return {"value": None}
    now = timezone.now()
    if (now - value).total_seconds() < 60:
        ago = gettext("just now")
    else:
        ago = gettext("%(time)s ago") % {"time": timesince(value, now, depth=1)}
    return {"value": value, "iso": timezone.localtime(value).isoformat(), "ago": ago, "exact": format_when(value)}

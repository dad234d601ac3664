"""Times in the viewer's zone, labelled (issue 16, item 4).

One rule decides whose zone a time is shown in (`zone_name_for`): the person's own zone,
else their organization's, else UTC. `ViewerTimeZoneMiddleware` activates it for every page
request, so Django's template rendering converts every datetime; the `when` filter
(advocacy.templatetags.zones) prints it with the zone's abbreviation ("9 Jan 2026 09:00 CET"),
and `format_when` does the same for texts built in Python (e-mails, messages). An e-mail
renders inside `zone_of_recipient(...)`, so it names the recipient's zone, not the sender's.

The API is left in UTC whatever the caller's zone: machine readers get stable ISO strings.
"""

from __future__ import annotations

import contextlib
import functools
import zoneinfo
from datetime import datetime, tzinfo

from django.utils import dateformat, timezone

DEFAULT_FORMAT = "j M Y H:i"


@functools.cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the tzdata files on every call: once per process is enough.
    return frozenset(zoneinfo.available_timezones())


def zone_names() -> list[str]:
    """Every zone the server knows (IANA names), sorted: the picker's choices."""
    return sorted(_known_zones())


def is_zone(name: str) -> bool:
    return bool(name) and name in _known_zones()


def clean_browser_zone(value: str | None) -> str:
    """The zone a browser reported (Intl.DateTimeFormat().resolvedOptions().timeZone), or ""
    when it sent none or one the server does not know: "" follows the organization's zone."""
    value = (value or "").strip()[:64]
    return value if is_zone(value) else ""


def zone_name_for(user=None, organization=None) -> str:
    """The viewer's zone: their own, else their organization's, else UTC."""
    own = getattr(user, "timezone", "") if user is not None and user.is_authenticated else ""
    for name in (own, getattr(organization, "timezone", "")):
        if is_zone(name):
            return name
    return "UTC"


def abbreviation(moment: datetime) -> str:
    """The zone's short name at that moment: CET in winter, CEST in summer. Zones without a
    customary abbreviation (tzdata writes "+04") read "UTC+04"."""
    name = moment.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def format_when(value: datetime | None, fmt: str = DEFAULT_FORMAT, zone: tzinfo | str | None = None) -> str:
    """`value` in `zone` (default: the active zone) as `fmt` (Django's date format) followed
    by the zone's abbreviation; "" for None."""
    if value is None:
        return ""
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    local = timezone.localtime(value, zone)
    return f"{dateformat.format(local, fmt)} {abbreviation(local)}"


@contextlib.contextmanager
def zone_of_recipient(user=None, organization=None):
    """Render an e-mail (or any text for one person) in that person's zone."""
    with timezone.override(zoneinfo.ZoneInfo(zone_name_for(user, organization))):
        yield


class ViewerTimeZoneMiddleware:
    """Activate the viewer's zone for the page (after OrganizationMiddleware resolved the
    organization, so its zone is the fallback) and deactivate it after the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        user = getattr(request, "user", None)
        organization = getattr(request, "organization", None)
        timezone.activate(zoneinfo.ZoneInfo(zone_name_for(user, organization)))
        return None

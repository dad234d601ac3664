"""Conversions reported from the organization's own site by the snippet (`/c/snippet.js`).

`POST /c/<org_slug>/events` is public and cross-origin, so it trusts little: only an origin
the organization listed gets an answer (every other request, whatever its method, gets the
404 an unknown organization gets), only the event names it allowed, no value (values come
from the organization's server or CRM), at most `BROWSER_EVENTS_PER_MINUTE` events per
address and organization. What passes goes through the same service as the server API
(`analytics.services.conversions.record`, source "browser"), idempotent by the event id
the snippet makes.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Organization
from advocacy.addresses import address_network
from advocacy.api import error_body
from advocacy.audit import client_ip
from advocacy.errors import ApplicationError
from advocacy.tenancy import public_org_view
from analytics.models import AnalyticsSettings
from analytics.services import conversions

SNIPPET = Path(settings.BASE_DIR, "static", "js", "conversion-snippet.js")
MAX_BODY = 2_000


def snippet(request):
    """The snippet itself, for any organization (`data-org` on the script tag says which)."""
    response = HttpResponse(SNIPPET.read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # other sites load it
    return response


def _not_found() -> JsonResponse:
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def _answer(body: dict, status: int, origin: str) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _error(code: str, message: str, status: int, origin: str, field: str = "") -> JsonResponse:
    return _answer(error_body(code, message, {field: [message]} if field else None), status, origin)


@csrf_exempt  # cross-origin and cookie-less by design: the Origin check below is what guards it
@public_org_view
def events(request, org_slug: str):
    origin = request.headers.get("Origin", "").rstrip("/").lower()
    organization = Organization.objects.filter(slug=org_slug).first()
    rates = AnalyticsSettings.objects.for_org(organization).first() if organization else None
    if rates is None or not origin or origin not in rates.allowed_origins():
        return _not_found()
    if request.method == "OPTIONS":  # a preflight (the snippet's text/plain needs none)
        response = _answer({}, 204, origin)
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        return response
    if request.method != "POST":
        return _error("method_not_allowed", _("Send events with POST."), 405, origin)
    source = address_network(client_ip(request) or "")
    key = f"conversions:browser:{organization.pk}:{source}:{timezone.now():%Y%m%d%H%M}"
    if cache.get_or_set(key, 0, 120) >= settings.BROWSER_EVENTS_PER_MINUTE:
        return _error("throttled", _("Too many events from here; try again in a minute."), 429, origin)
    cache.incr(key)
    try:
        data = json.loads(request.body[:MAX_BODY] or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _error("invalid", _("Send the event as a JSON object."), 400, origin)
    name = str(data.get("event_name") or "").strip().lower()
    if name not in rates.allowed_browser_events():
        message = _("The event %(name)s is not one this organization accepts from the browser.") % {
            "name": repr(name[:64])
        }
        return _error("invalid", message, 400, origin, field="event_name")
    if data.get("value") not in (None, "") or data.get("currency"):
        message = _("Values are reported from your server, not from the browser.")
        return _error("invalid", message, 400, origin, field="value")
    data.pop("occurred_at", None)  # a visitor's clock is neither reliable nor ours: the time it arrived
    try:
        event = conversions.parse_event(data, now=timezone.now())
        conversion, created = conversions.record(organization=organization, event=event, source="browser")
    except ApplicationError as exc:
        return _answer(error_body(exc.code, exc.message, exc.fields), exc.status, origin)
    return _answer({"status": conversion.status, "reason": conversion.reason}, 201 if created else 200, origin)

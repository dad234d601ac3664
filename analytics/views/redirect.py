"""`/r/<code>`: a delivery's tracked link. The hottest endpoint: no SQL once the code is
cached, no Redis round trip (a counted click is handed to a thread), never a redirect to
anything the request names (only the code is read from it)."""

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from advocacy.audit import client_ip
from analytics.services import clicks


@require_safe
def tracked_link(request, code: str):
    """302 to the content item's URL with UTM parameters; a GET records a click (counted or
    discarded with its reason, decided here for bots and at the flush for the rest)."""
    link = clicks.link_for(code)
    if link is None:
        return render(request, "analytics/link_not_found.html", status=404)
    if request.method == "GET":  # a bot's or a prefetch's click is recorded as discarded
        clicks.record_click(
            link=link,
            ip=client_ip(request) or "",
            at=timezone.now(),
            bot=not clicks.is_counted(request.META),
        )
    response = HttpResponseRedirect(link.url)
    # Every visit must reach us to be counted; nothing in between may keep the answer.
    response["Cache-Control"] = "no-store"
    return response

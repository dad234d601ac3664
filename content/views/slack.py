"""Slack: the settings page (install, channels per topic or team), Slack's redirect after
the install, and the interactivity endpoint Slack posts clicks and modal submissions to."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import Permission
from advocacy.errors import ApplicationError
from advocacy.views import call_service, org_view
from content.models import SlackChannelRoute
from content.selectors import slack as slack_selectors
from content.services import slack


@org_view(Permission.SLACK_MANAGE)
def slack_settings(request):
    context = slack_selectors.settings_page(request.organization)
    context["channels"], context["problem"] = [], ""
    if context["installation"] is not None:
        try:
            context["channels"] = slack.channels_to_pick(actor=request.membership)
        except ApplicationError as exc:
            context["problem"] = exc.message
    return render(request, "content/slack_settings.html", context)


def _back(request):
    return redirect("content:slack_settings", org_slug=request.organization.slug)


@org_view(Permission.SLACK_MANAGE)
@require_POST
def slack_install(request):
    url = call_service(request, None, lambda: slack.start_install(actor=request.membership, session=request.session))
    return redirect(url) if url else _back(request)


@org_view(Permission.SLACK_MANAGE)
@require_POST
def slack_uninstall(request):
    if call_service(request, None, lambda: slack.uninstall(actor=request.membership) or True):
        messages.success(request, _("The Slack app is uninstalled here; messages already posted stay in Slack."))
    return _back(request)


@org_view(Permission.SLACK_MANAGE)
@require_POST
def slack_route_add(request):
    route = call_service(
        request,
        None,
        lambda: slack.add_route(
            actor=request.membership,
            channel_id=request.POST.get("channel", ""),
            topic_id=request.POST.get("topic") or None,
            team_id=request.POST.get("team") or None,
            cadence=request.POST.get("cadence") or SlackChannelRoute.Cadence.EACH,
        ),
    )
    if route is not None:
        messages.success(
            request, _("#%(channel_name)s gets new featured content.") % {"channel_name": route.channel_name}
        )
    return _back(request)


@org_view(Permission.SLACK_MANAGE)
@require_POST
def slack_route_delete(request, slack_channel_route_id):
    call_service(
        request,
        None,
        lambda: slack.remove_route(actor=request.membership, route_id=slack_channel_route_id),
        not_found_404=True,
    )
    return _back(request)


@login_required
def slack_oauth_callback(request):
    """Where Slack sends the installer back (one URL for every organization)."""
    try:
        installation = slack.finish_install(user=request.user, session=request.session, params=request.GET)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("home")
    messages.success(
        request,
        _("The Slack app is installed in %(team_name)s.")
        % {"team_name": installation.team_name or installation.team_id},
    )
    return redirect("content:slack_settings", org_slug=installation.organization.slug)


@csrf_exempt  # Slack cannot send our CSRF token; its v0 signature is checked instead
@require_POST
def slack_interactivity(request):
    """Slack's interactivity request URL: verified first (401 and nothing done otherwise)."""
    try:
        slack.verify_request(
            body=request.body,
            timestamp=request.headers.get("X-Slack-Request-Timestamp"),
            signature=request.headers.get("X-Slack-Signature"),
        )
    except slack.BadSlackRequest as exc:
        return HttpResponse(exc.message, status=401, content_type="text/plain")
    try:
        payload = json.loads(request.POST.get("payload") or "")
    except ValueError:
        return HttpResponse("The body must be payload=<JSON>.", status=400, content_type="text/plain")
    if not isinstance(payload, dict):
        return HttpResponse("The payload must be a JSON object.", status=400, content_type="text/plain")
    answer = slack.handle_interaction(payload)
    return JsonResponse(answer) if answer else HttpResponse(status=200)


@org_view(Permission.FEED_USE)
def slack_me(request):
    """The employee's Slack: whether they get the daily DM of new content, on or off."""
    if request.method == "POST":
        enabled = request.POST.get("dm_digest") == "1"
        if call_service(request, None, lambda: slack.set_dm_digest(actor=request.membership, enabled=enabled)):
            messages.success(
                request, _("You get a daily Slack message of new content.") if enabled else _("No more Slack digest.")
            )
        return redirect("content:slack_me", org_slug=request.organization.slug)
    context = {
        "installation": slack.installation_of(request.organization),
        "link": slack.SlackMemberLink.objects.for_org(request.organization)
        .filter(membership=request.membership)
        .first(),
    }
    return render(request, "content/slack_me.html", context)

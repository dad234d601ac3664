"""The admin's Microsoft Teams settings: the channels that get new featured content as
Adaptive Cards, each by its workflow webhook URL (content.services.teams)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from content.forms import TeamsChannelForm
from content.models import TeamsChannel
from content.services import teams


@org_view(Permission.ORG_SETTINGS)
def teams_settings(request):
    form = TeamsChannelForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        channel = call_service(
            request,
            form,
            lambda: teams.add_teams_channel(
                actor=request.membership,
                name=data["name"],
                webhook_url=data["webhook_url"],
                team_id=data["team"].pk if data["team"] else None,
            ),
        )
        if channel is not None:
            messages.success(
                request,
                _("Added %(channel)s: new featured content will be posted there as a card.")
                % {"channel": channel.name},
            )
            return redirect("content:teams_settings", org_slug=request.organization.slug)
    channels = list(TeamsChannel.objects.for_org(request.organization).select_related("team"))
    for channel in channels:
        channel.shown_url = teams.masked_url(channel.webhook_url)
    return render(request, "content/teams_settings.html", {"form": form, "channels": channels})


@org_view(Permission.ORG_SETTINGS)
@require_POST
def teams_channel_delete(request, teams_channel_id):
    channel = get_for_org_or_404(TeamsChannel, request.organization, pk=teams_channel_id)
    removed = call_service(
        request, None, lambda: teams.remove_teams_channel(actor=request.membership, channel_id=channel.pk)
    )
    if removed:
        messages.success(request, _("Removed %(channel)s: nothing more is posted there.") % {"channel": channel.name})
    return redirect("content:teams_settings", org_slug=request.organization.slug)

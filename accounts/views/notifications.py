"""The member's notifications and notification preferences."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors
from accounts.forms import NotificationPreferencesForm
from accounts.models import Notification
from accounts.services import notifications as notification_services
from accounts.services import push as push_services
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate


@org_view()
@require_GET
def notifications(request):
    context = {
        "notifications": paginate(request, selectors.notifications_of(request.membership)),
        "unread": selectors.unread_count(request.membership),
    }
    return render(request, "accounts/notifications/list.html", context)


@org_view()
@require_POST
def notification_read(request, notification_id):
    """Mark one read; with `open`, go where it points (a path of this site) afterwards."""
    # Someone else's notification answers like a missing one.
    get_for_org_or_404(Notification, request.organization, pk=notification_id, user_id=request.user.pk)
    notification = notification_services.mark_read(actor=request.membership, notification_id=notification_id)
    target = notification.url
    if request.POST.get("open") and target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect("notifications", org_slug=request.organization.slug)


@org_view()
@require_POST
def notifications_read_all(request):
    count = notification_services.mark_all_read(actor=request.membership)
    messages.success(
        request,
        ngettext("Marked %(count)s notification read.", "Marked %(count)s notifications read.", count)
        % {"count": count},
    )
    return redirect("notifications", org_slug=request.organization.slug)


@org_view()
def notification_preferences(request):
    preferences = notification_services.preferences_of(request.membership)
    form = NotificationPreferencesForm(request.POST or None, preferences=preferences)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: notification_services.set_preferences(actor=request.membership, preferences=form.preferences()),
        )
        if saved is not None:
            messages.success(request, _("Notification preferences saved."))
            return redirect("notification_preferences", org_slug=request.organization.slug)
    endpoints = selectors.push_endpoints_of(request.membership)
    context = {
        "form": form,
        "push_key": push_services.application_server_key(),
        "push_devices": len(endpoints),
        "push_endpoints": json.dumps(endpoints),  # push.js: is this browser one of them?
    }
    return render(request, "accounts/notifications/preferences.html", context)

"""Sessions started through an organization's provider: which organization signed the person
in, when, and until when (an absolute lifetime, not renewed by activity).

* `note_sign_in(request, config)` (the adapter, once the provider's answer is accepted) marks
  the request; allauth then logs the user in (which may flush the session: the sign-in started
  from another signed-in session) and the `user_logged_in` receiver writes SESSION_KEY into the
  session that survives.
* `SsoSessionMiddleware` (after the organization middleware) signs out a session past its
  lifetime, and refuses an organization's pages to a member of an SSO-required organization
  whose session that organization's provider did not start (break-glass admins excepted):
  signed out, back to the sign-in page with words.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

SESSION_KEY = "sso_session"


def note_sign_in(request, config) -> None:
    minutes = config.session_minutes if config.session_minutes is not None else settings.SSO_SESSION_MINUTES
    request._sso_sign_in = {"org": config.organization_id, "name": config.organization.name, "minutes": minutes}


def remember_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: a sign-in through a provider records its organization, its
    time and its end; any other sign-in forgets an earlier one's."""
    if request is None or not hasattr(request, "session"):
        return
    started = getattr(request, "_sso_sign_in", None)
    if started is None:
        request.session.pop(SESSION_KEY, None)
        return
    now = int(time.time())
    minutes = started["minutes"]
    request.session[SESSION_KEY] = {**started, "at": now, "until": now + minutes * 60 if minutes else None}
    request.session.set_expiry(minutes * 60 if minutes else 0)


def _sign_out(request, message: str):
    next_url = request.get_full_path()
    logout(request)
    messages.error(request, message)
    return redirect_to_login(next_url)


class SsoSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        marker = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if marker and marker.get("until") and time.time() >= marker["until"] and request.user.is_authenticated:
            return _sign_out(
                request,
                _(
                    "Your session through %(organization)s's sign-in ended after %(minutes)s minutes, "
                    "as your organization set: sign in again."
                )
                % {"organization": marker["name"], "minutes": marker["minutes"]},
            )
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        membership = getattr(request, "membership", None)
        if membership is None or not getattr(membership, "sso_required_here", False):
            return None
        if membership.named_break_glass and membership.is_admin:
            return None
        marker = request.session.get(SESSION_KEY) or {}
        if marker.get("org") == membership.organization_id:
            return None
        return _sign_out(
            request,
            _(
                "%(organization)s requires its company sign-in: "
                "enter your work e-mail and continue to your company's sign-in."
            )
            % {"organization": membership.organization.name},
        )

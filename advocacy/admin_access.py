"""The Django admin is reached only through the product's login, with a second factor.

`/admin/login/` redirects to the allauth login (keeping `next`), so the admin shares its
throttle (ACCOUNT_RATE_LIMITS) and its login delays (`accounts.login_throttle`). A staff
user may use the admin only once they have a TOTP authenticator and this session was
signed in with it; without one they are sent to set it up. Wired in `advocacy.urls`
(issue 15, finding 3).
"""

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def session_used_totp(request) -> bool:
    return any(
        record.get("method") == "mfa" and record.get("type") == Authenticator.Type.TOTP
        for record in get_authentication_records(request, request.user)
    )


def staff_with_second_factor(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and has_totp(user) and session_used_totp(request))


def admin_login(request, extra_context=None):
    """Replaces AdminSite.login: send the visitor to the step they are missing."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    next_url = next_url or reverse("admin:index")
    user = request.user
    if user.is_authenticated and user.is_active and user.is_staff:
        if not has_totp(user):
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        if session_used_totp(request):
            return HttpResponseRedirect(next_url)
        # Signed in without the second factor: sign in again, through TOTP this time.
        return HttpResponseRedirect(reverse("mfa_reauthenticate") + "?" + urlencode({"next": next_url}))
    return HttpResponseRedirect(reverse("account_login") + "?" + urlencode({"next": next_url}))


def install() -> None:
    admin.site.login = admin_login
    admin.site.has_permission = staff_with_second_factor

"""The person's own settings: name, time zone, language, review shortcuts (the same in every
organization), and the header's language switcher."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.forms import ProfileForm
from advocacy.languages import clean_language
from advocacy.timezones import zone_names
from advocacy.views import call_service, org_view


@org_view()
def profile(request):
    user = request.user
    initial = {
        "name": user.name,
        "timezone": user.timezone,
        "language": user.language,
        "review_shortcuts": user.review_shortcuts,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = call_service(
            request,
            form,
            lambda: services.update_profile(
                actor=request.membership,
                name=data["name"],
                timezone_name=data["timezone"],
                review_shortcuts=data["review_shortcuts"],
                language=data["language"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Your settings are saved."))
            return redirect("profile", org_slug=request.organization.slug)
    form.fields["timezone"].help_text = _(
        "Every time is shown in this zone. Empty: your organization's (%(zone)s). Type to search, for example “Paris”."
    ) % {"zone": request.organization.timezone}
    return render(request, "accounts/profile.html", {"form": form, "zones": zone_names()})


@require_POST
def switch_language(request):
    """The switcher in every page's header: the language from now on, then back to the page.

    A signed-in person's choice is saved on them (pages and their e-mails follow it); anyone
    else gets the cookie the language rule reads. The URL stays what it was: no language in it.
    """
    code = clean_language(request.POST.get("language"))
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    response = redirect(back)
    if not code:
        messages.error(request, _("Pick one of the languages in the list."))
        return response
    if request.user.is_authenticated:
        services.set_language(user=request.user, language=code)
    # Django's set_language view would keep the code as sent ("fr-FR", or "it", which Django
    # knows and we do not ship): the cookie gets the shipped code, with Django's cookie settings.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response

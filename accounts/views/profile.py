"""The person's own settings: name, time zone, review shortcuts (the same in every organization)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from accounts import services
from accounts.forms import ProfileForm
from advocacy.timezones import zone_names
from advocacy.views import call_service, org_view


@org_view()
def profile(request):
    user = request.user
    initial = {"name": user.name, "timezone": user.timezone, "review_shortcuts": user.review_shortcuts}
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
            ),
        )
        if saved is not None:
            messages.success(request, "Your settings are saved.")
            return redirect("profile", org_slug=request.organization.slug)
    form.fields["timezone"].help_text = (
        f"Every time is shown in this zone. Empty: your organization's ({request.organization.timezone}). "
        "Type to search, for example “Paris”."
    )
    return render(request, "accounts/profile.html", {"form": form, "zones": zone_names()})

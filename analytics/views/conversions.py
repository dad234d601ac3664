"""The organization's conversion keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from analytics.models import ConversionKey
from analytics.services import conversions


class ConversionKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The site or server that will report conversions.")


@org_view("analytics.settings")
def conversion_keys(request):
    """Admins give their site or server a key to report conversions (shown once)."""
    form = ConversionKeyForm(request.POST or None)
    plain = None
    if request.method == "POST" and form.is_valid():
        created = call_service(
            request,
            form,
            lambda: conversions.create_key(
                organization=request.organization, user=request.user, name=form.cleaned_data["name"]
            ),
        )
        if created is not None:
            plain, form = created[1], ConversionKeyForm()
    slug = request.organization.slug
    context = {
        "form": form,
        "plain": plain,
        "keys": ConversionKey.objects.for_org(request.organization).order_by("-created_at"),
        "endpoint": settings.SITE_URL + reverse("api-conversions", kwargs={"org_slug": slug}),
    }
    return render(request, "analytics/conversion_keys.html", context)


@org_view("analytics.settings")
@require_POST
def conversion_key_revoke(request, conversion_key_id: int):
    key = get_for_org_or_404(ConversionKey, request.organization, pk=conversion_key_id)
    conversions.revoke_key(key=key, user=request.user)
    messages.success(request, f"Key {key.name} revoked: it reports nothing from now on.")
    return redirect("analytics:conversion_keys", org_slug=request.organization.slug)

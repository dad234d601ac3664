"""The organization's conversion keys: create (the key is shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from analytics.models import ConversionKey
from analytics.services import conversions, roi_settings


class ConversionSettingsForm(forms.Form):
    origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=gettext_lazy("Sites that may report from the browser"),
        help_text=gettext_lazy("One origin a line, such as https://www.example.com."),
    )
    events = forms.CharField(
        required=False,
        label=gettext_lazy("Events the browser may report"),
        help_text=gettext_lazy("Comma-separated, such as signup, demo_request."),
    )
    window_days = forms.IntegerField(  # its range is checked by the service, with the other fields
        label=gettext_lazy("Attribution window (days)"),
        help_text=gettext_lazy("Between 1 and 365: the last click at most this long before."),
    )


class ConversionKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("The site or server that will report conversions."),
    )


@org_view(Permission.ANALYTICS_SETTINGS)
def conversion_keys(request):
    """Admins give their site or server a key to report conversions (shown once)."""
    form = ConversionKeyForm(request.POST if request.POST.get("form") == "key" else None)
    plain = None
    if request.method == "POST" and form.is_valid():
        created = call_service(
            request,
            form,
            lambda: conversions.create_key(actor=request.membership, name=form.cleaned_data["name"]),
        )
        if created is not None:
            plain, form = created[1], ConversionKeyForm()
    current = roi_settings.settings_for(request.organization)
    settings_form = ConversionSettingsForm(
        request.POST if request.POST.get("form") == "settings" else None,
        initial={
            "origins": current.conversion_origins,
            "events": current.browser_events,
            "window_days": current.attribution_window_days,
        },
        prefix="settings",
    )
    if settings_form.is_bound and settings_form.is_valid():
        saved = call_service(
            request,
            settings_form,
            lambda: roi_settings.save_conversion_settings(actor=request.membership, **settings_form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, _("Conversion settings saved."))
            return redirect("analytics:conversion_keys", org_slug=request.organization.slug)
    slug = request.organization.slug
    context = {
        "settings_form": settings_form,
        "snippet_url": settings.SITE_URL + reverse("conversion_snippet"),
        "window_days": current.attribution_window_days,
        "form": form,
        "plain": plain,
        "keys": ConversionKey.objects.for_org(request.organization).order_by("-created_at"),
        "endpoint": settings.SITE_URL + reverse("api-conversions", kwargs={"org_slug": slug}),
    }
    return render(request, "analytics/conversion_keys.html", context)


@org_view(Permission.ANALYTICS_SETTINGS)
@require_POST
def conversion_key_revoke(request, conversion_key_id: int):
    key = get_for_org_or_404(ConversionKey, request.organization, pk=conversion_key_id)
    conversions.revoke_key(actor=request.membership, key=key)
    messages.success(request, _("Key %(name)s revoked: it reports nothing from now on.") % {"name": key.name})
    return redirect("analytics:conversion_keys", org_slug=request.organization.slug)

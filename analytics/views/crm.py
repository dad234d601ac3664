"""CRM revenue for org admins: connect HubSpot (OAuth), disconnect, sync now, import deals
from a CSV file, and see the latest deals with their attribution."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import Permission
from advocacy.errors import ApplicationError
from advocacy.views import call_service, org_view
from analytics.selectors import crm as crm_selectors
from analytics.services import crm, deals


class DealImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file of closed-won deals"),
        help_text=gettext_lazy(
            "Columns: id, amount, currency, close_date (YYYY-MM-DD), and tracking_code or email. "
            "The whole file is checked first; nothing is imported while a row is wrong."
        ),
    )


@org_view(Permission.ANALYTICS_SETTINGS)
def crm_page(request):
    form = DealImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            done = deals.import_deals_csv(actor=request.membership, content=upload.read(), filename=upload.name)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            errors = exc.fields.get("file", [])
        else:
            messages.success(
                request,
                ngettext(
                    "%(rows)s deal imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.",
                    "%(rows)s deals imported: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.",
                    done.rows,
                )
                % {"rows": done.rows, "created": done.created, "updated": done.updated, "unchanged": done.unchanged},
            )
            return redirect("analytics:crm", org_slug=request.organization.slug)
    context = {"form": form, "row_errors": errors, **crm_selectors.crm_page(request.organization)}
    return render(request, "analytics/crm.html", context, status=400 if errors or form.errors else 200)


@org_view(Permission.ANALYTICS_SETTINGS)
@require_POST
def crm_connect(request):
    url = call_service(request, None, lambda: crm.start_connect(actor=request.membership, session=request.session))
    if url is None:
        return redirect("analytics:crm", org_slug=request.organization.slug)
    return redirect(url)


@org_view(Permission.ANALYTICS_SETTINGS)
@require_POST
def crm_disconnect(request):
    try:
        crm.disconnect(actor=request.membership)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("HubSpot is disconnected. The deals already synced stay, with their revenue."))
    return redirect("analytics:crm", org_slug=request.organization.slug)


@org_view(Permission.ANALYTICS_SETTINGS)
@require_POST
def crm_sync(request):
    if call_service(request, None, lambda: crm.request_sync(actor=request.membership)):
        messages.success(request, _("A sync of HubSpot's deals has started; reload this page in a minute."))
    return redirect("analytics:crm", org_slug=request.organization.slug)


@login_required
def hubspot_callback(request):
    """Where HubSpot sends the admin back (one URL for every organization)."""
    try:
        connection = crm.finish_connect(user=request.user, session=request.session, params=request.GET)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("home")
    messages.success(
        request, _("HubSpot is connected (%(portal)s).") % {"portal": connection.portal_domain or connection.portal_id}
    )
    return redirect("analytics:crm", org_slug=connection.organization.slug)

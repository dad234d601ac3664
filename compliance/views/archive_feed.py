"""Archive feeds: where the daily EML feed goes (SFTP or S3-compatible), test it, run it now."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from compliance.forms import ArchiveDestinationForm
from compliance.models import ArchiveDestination
from compliance.selectors.archive_feed import archive_destinations, feed_runs
from compliance.services import archive_feed

RECENT_RUNS = 20


def _initial(destination: ArchiveDestination) -> dict:
    """The form's values from a destination: never a secret."""
    return {name: getattr(destination, name) for name in archive_feed.PLAIN_FIELDS}


def _page(request, form, destination=None, status=200):
    context = {
        "form": form,
        "destination": destination,
        "destinations": list(archive_destinations(request.organization)),
        "runs": list(feed_runs(request.organization)[:RECENT_RUNS]),
    }
    return render(request, "compliance/archive_feeds.html", context, status=status)


def _save(request, form, destination_id=None):
    return call_service(
        request,
        form,
        lambda: archive_feed.save_destination(
            actor=request.membership, archive_destination_id=destination_id, **form.cleaned_data
        ),
    )


@org_view(Permission.COMPLIANCE_ARCHIVE_FEEDS)
@require_http_methods(["GET", "POST"])
def feeds(request):
    form = ArchiveDestinationForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _save(request, form) is not None:
        messages.success(request, _("Destination saved. Test the connection before the first delivery."))
        return redirect("compliance:archive_feeds", org_slug=request.organization.slug)
    return _page(request, form, status=400 if form.errors else 200)


@org_view(Permission.COMPLIANCE_ARCHIVE_FEEDS)
@require_http_methods(["GET", "POST"])
def feed_edit(request, archive_destination_id):
    destination = get_for_org_or_404(ArchiveDestination, request.organization, pk=archive_destination_id)
    form = ArchiveDestinationForm(request.POST or None, initial=_initial(destination))
    if request.method == "POST" and form.is_valid() and _save(request, form, destination.pk) is not None:
        messages.success(request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]})
        return redirect("compliance:archive_feeds", org_slug=request.organization.slug)
    return _page(request, form, destination, status=400 if form.errors else 200)


@org_view(Permission.COMPLIANCE_ARCHIVE_FEEDS)
@require_POST
def feed_test(request, archive_destination_id):
    destination = get_for_org_or_404(ArchiveDestination, request.organization, pk=archive_destination_id)
    result = call_service(
        request,
        None,
        lambda: archive_feed.check_destination(actor=request.membership, archive_destination_id=destination.pk),
    )
    if result is not None:
        (messages.success if result.ok else messages.error)(request, f"{destination.name}: {result.message}")
    return redirect("compliance:archive_feeds", org_slug=request.organization.slug)


@org_view(Permission.COMPLIANCE_ARCHIVE_FEEDS)
@require_POST
def feed_run(request, archive_destination_id):
    destination = get_for_org_or_404(ArchiveDestination, request.organization, pk=archive_destination_id)
    done = call_service(
        request,
        None,
        lambda: archive_feed.request_run(actor=request.membership, archive_destination_id=destination.pk) or True,
    )
    if done:
        messages.success(
            request,
            _("Delivering to %(name)s; the run appears below when it is done.") % {"name": destination.name},
        )
    return redirect("compliance:archive_feeds", org_slug=request.organization.slug)

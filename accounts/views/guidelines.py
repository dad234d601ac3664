"""Pages for the social media guidelines and training. Thin: parse, call, render.

Every member reads the guidelines and accepts the current version; admins and compliance
officers (`guidelines.manage`) publish versions, see who accepted which, and keep the
training lessons.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors
from accounts.forms import GuidelineForm, TrainingItemForm
from accounts.models import Guideline, TrainingItem
from accounts.permissions import Permission
from accounts.services import guidelines as guideline_services
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate


@org_view()
@require_GET
def guidelines(request):
    """The current guidelines, the training lessons, and the accept button (or when accepted)."""
    context = {
        "guideline": selectors.current_guideline_for(request.membership),
        "training_items": selectors.training_items_of(request.organization, published_only=True),
    }
    return render(request, "accounts/guidelines/guidelines.html", context)


@org_view()
@require_POST
def guidelines_accept(request):
    accepted = call_service(
        request,
        None,
        lambda: guideline_services.accept_guidelines(
            actor=request.membership, guideline_id=request.POST.get("guideline_id")
        ),
    )
    if accepted is not None:
        messages.success(
            request,
            _("Thank you: you accepted version %(version)s of the guidelines.")
            % {"version": accepted.guideline.version},
        )
    return redirect("guidelines", org_slug=request.organization.slug)


# --- managing guidelines and training -------------------------------------------------------


@org_view(Permission.GUIDELINES_MANAGE)
def guidelines_manage(request):
    """Publish a new version (prefilled with the current text) and see acceptance per version."""
    org = request.organization
    current = selectors.current_guideline(org)
    initial = {"title": current.title, "body": current.body} if current else {"title": _("Social media guidelines")}
    form = GuidelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        guideline = call_service(
            request,
            form,
            lambda: guideline_services.publish_guideline(actor=request.membership, **form.cleaned_data),
        )
        if guideline is not None:
            messages.success(
                request,
                _("Version %(version)s is published; members will be asked to accept it.")
                % {"version": guideline.version},
            )
            return redirect("guidelines_manage", org_slug=org.slug)
    context = {
        "form": form,
        "versions": paginate(request, selectors.guidelines_of(org)),
        "current": current,
    }
    return render(request, "accounts/guidelines/manage.html", context)


@org_view(Permission.GUIDELINES_MANAGE)
@require_GET
def guideline_acceptances(request, guideline_id):
    guideline = get_for_org_or_404(Guideline, request.organization, pk=guideline_id)
    context = {
        "guideline": guideline,
        "members": paginate(request, selectors.acceptances_for(guideline)),
        "summary": selectors.acceptance_summary(guideline),
    }
    return render(request, "accounts/guidelines/acceptances.html", context)


@org_view(Permission.GUIDELINES_MANAGE)
def training_items(request):
    org = request.organization
    form = TrainingItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = call_service(
            request,
            form,
            lambda: guideline_services.create_training_item(actor=request.membership, **form.cleaned_data),
        )
        if item is not None:
            messages.success(request, _("Lesson “%(title)s” added.") % {"title": item.title})
            return redirect("training_items", org_slug=org.slug)
    context = {"form": form, "items": selectors.training_items_of(org)}
    return render(request, "accounts/guidelines/training_items.html", context)


@org_view(Permission.GUIDELINES_MANAGE)
def training_item_edit(request, training_item_id):
    item = get_for_org_or_404(TrainingItem, request.organization, pk=training_item_id)
    initial = {"title": item.title, "body": item.body, "position": item.position, "is_published": item.is_published}
    form = TrainingItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data}
        if data["position"] is None:
            data["position"] = item.position
        saved = call_service(
            request, form, lambda: guideline_services.update_training_item(actor=request.membership, item=item, **data)
        )
        if saved is not None:
            messages.success(request, _("Lesson saved."))
            return redirect("training_items", org_slug=request.organization.slug)
    return render(request, "accounts/guidelines/training_item_edit.html", {"form": form, "item": item})


@org_view(Permission.GUIDELINES_MANAGE)
@require_POST
def training_item_delete(request, training_item_id):
    item = get_for_org_or_404(TrainingItem, request.organization, pk=training_item_id)
    guideline_services.delete_training_item(actor=request.membership, item=item)
    messages.success(request, _("Lesson “%(title)s” deleted.") % {"title": item.title})
    return redirect("training_items", org_slug=request.organization.slug)

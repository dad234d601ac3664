"""Pages for the social media guidelines, training and notifications. Thin: parse, call, render.

Every member reads the guidelines and accepts the current version; admins and compliance
officers (`guidelines.manage`) publish versions, see who accepted which, and keep the
training lessons. Each member has their own notifications and preferences.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Guideline, Notification, NotificationPreference, TrainingItem
from accounts.services import guidelines as guideline_services
from accounts.services import notifications as notification_services
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate

# --- forms (shape only; the rules are in the services) --------------------------------------


class GuidelineForm(forms.Form):
    title = forms.CharField(max_length=guideline_services.TITLE_MAX)
    body = forms.CharField(
        label="Guidelines",
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Plain text; a blank line starts a new paragraph. Every member will be asked to accept "
        "the new version.",
    )


class TrainingItemForm(forms.Form):
    title = forms.CharField(max_length=guideline_services.TITLE_MAX)
    body = forms.CharField(label="Lesson", widget=forms.Textarea(attrs={"rows": 8}))
    position = forms.IntegerField(
        min_value=0,
        max_value=guideline_services.POSITION_MAX,
        required=False,
        help_text="Lessons are shown in increasing order. Empty: after the others.",
    )
    is_published = forms.BooleanField(label="Shown to members", required=False, initial=True)


def _pref_field(kind: str, what: str) -> str:
    return f"{kind}__{what}"


class NotificationPreferencesForm(forms.Form):
    """One row per kind: in-app and e-mail switches; the digest has a frequency instead."""

    def __init__(self, *args, preferences: dict[str, NotificationPreference], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for kind, preference in preferences.items():
            label = Notification.Kind(kind).label
            if kind == Notification.Kind.CONTENT_DIGEST:
                name = _pref_field(kind, "digest")
                self.fields[name] = forms.ChoiceField(
                    label=label, choices=NotificationPreference.Digest.choices, initial=preference.digest
                )
                self.rows.append({"kind": kind, "label": label, "is_digest": True, "digest": self[name]})
            else:
                for what in ("in_app", "email"):
                    self.fields[_pref_field(kind, what)] = forms.BooleanField(
                        label=f"{label}: {'in the app' if what == 'in_app' else 'by e-mail'}",
                        required=False,
                        initial=getattr(preference, what),
                    )
                self.rows.append(
                    {
                        "kind": kind,
                        "label": label,
                        "in_app": self[_pref_field(kind, "in_app")],
                        "email": self[_pref_field(kind, "email")],
                    }
                )

    def preferences(self) -> dict[str, dict]:
        chosen: dict[str, dict] = {}
        for name, value in self.cleaned_data.items():
            kind, what = name.split("__", 1)
            chosen.setdefault(kind, {})[what] = value
        return chosen


# --- the member's side ----------------------------------------------------------------------


@org_view()
@require_GET
def guidelines(request):
    """The current guidelines, the training lessons, and the accept button (or when accepted)."""
    context = {
        "guideline": guideline_services.current_guideline_for(request.membership),
        "training_items": guideline_services.training_items_of(request.organization, published_only=True),
    }
    return render(request, "accounts/guidelines/guidelines.html", context)


@org_view()
@require_POST
def guidelines_accept(request):
    accepted = call_service(
        request,
        None,
        lambda: guideline_services.accept_guidelines(request.membership, request.POST.get("guideline_id")),
    )
    if accepted is not None:
        messages.success(request, f"Thank you: you accepted version {accepted.guideline.version} of the guidelines.")
    return redirect("guidelines", org_slug=request.organization.slug)


# --- managing guidelines and training -------------------------------------------------------


@org_view("guidelines.manage")
def guidelines_manage(request):
    """Publish a new version (prefilled with the current text) and see acceptance per version."""
    org = request.organization
    current = guideline_services.current_guideline(org)
    initial = {"title": current.title, "body": current.body} if current else {"title": "Social media guidelines"}
    form = GuidelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        guideline = call_service(
            request,
            form,
            lambda: guideline_services.publish_guideline(
                organization=org, published_by=request.user, **form.cleaned_data
            ),
        )
        if guideline is not None:
            messages.success(request, f"Version {guideline.version} is published; members will be asked to accept it.")
            return redirect("guidelines_manage", org_slug=org.slug)
    context = {
        "form": form,
        "versions": paginate(request, guideline_services.guidelines_of(org)),
        "current": current,
    }
    return render(request, "accounts/guidelines/manage.html", context)


@org_view("guidelines.manage")
@require_GET
def guideline_acceptances(request, guideline_id):
    guideline = get_for_org_or_404(Guideline, request.organization, pk=guideline_id)
    context = {
        "guideline": guideline,
        "members": paginate(request, guideline_services.acceptances_for(guideline)),
        "summary": guideline_services.acceptance_summary(guideline),
    }
    return render(request, "accounts/guidelines/acceptances.html", context)


@org_view("guidelines.manage")
def training_items(request):
    org = request.organization
    form = TrainingItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        item = call_service(
            request, form, lambda: guideline_services.create_training_item(organization=org, **form.cleaned_data)
        )
        if item is not None:
            messages.success(request, f"Lesson “{item.title}” added.")
            return redirect("training_items", org_slug=org.slug)
    context = {"form": form, "items": guideline_services.training_items_of(org)}
    return render(request, "accounts/guidelines/training_items.html", context)


@org_view("guidelines.manage")
def training_item_edit(request, training_item_id):
    item = get_for_org_or_404(TrainingItem, request.organization, pk=training_item_id)
    initial = {"title": item.title, "body": item.body, "position": item.position, "is_published": item.is_published}
    form = TrainingItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data}
        if data["position"] is None:
            data["position"] = item.position
        saved = call_service(request, form, lambda: guideline_services.update_training_item(item=item, **data))
        if saved is not None:
            messages.success(request, "Lesson saved.")
            return redirect("training_items", org_slug=request.organization.slug)
    return render(request, "accounts/guidelines/training_item_edit.html", {"form": form, "item": item})


@org_view("guidelines.manage")
@require_POST
def training_item_delete(request, training_item_id):
    item = get_for_org_or_404(TrainingItem, request.organization, pk=training_item_id)
    guideline_services.delete_training_item(item=item)
    messages.success(request, f"Lesson “{item.title}” deleted.")
    return redirect("training_items", org_slug=request.organization.slug)


# --- notifications --------------------------------------------------------------------------


@org_view()
@require_GET
def notifications(request):
    context = {
        "notifications": paginate(request, notification_services.notifications_of(request.membership)),
        "unread": notification_services.unread_count(request.membership),
    }
    return render(request, "accounts/notifications/list.html", context)


@org_view()
@require_POST
def notification_read(request, notification_id):
    """Mark one read; with `open`, go where it points (a path of this site) afterwards."""
    # Someone else's notification answers like a missing one.
    get_for_org_or_404(Notification, request.organization, pk=notification_id, user_id=request.user.pk)
    notification = notification_services.mark_read(membership=request.membership, notification_id=notification_id)
    target = notification.url
    if request.POST.get("open") and target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect("notifications", org_slug=request.organization.slug)


@org_view()
@require_POST
def notifications_read_all(request):
    count = notification_services.mark_all_read(membership=request.membership)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications", org_slug=request.organization.slug)


@org_view()
def notification_preferences(request):
    preferences = notification_services.preferences_of(request.membership)
    form = NotificationPreferencesForm(request.POST or None, preferences=preferences)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: notification_services.set_preferences(
                membership=request.membership, preferences=form.preferences()
            ),
        )
        if saved is not None:
            messages.success(request, "Notification preferences saved.")
            return redirect("notification_preferences", org_slug=request.organization.slug)
    return render(request, "accounts/notifications/preferences.html", {"form": form})


# --- the header's unread count --------------------------------------------------------------


def unread_notifications(request) -> dict:
    """Context processor: {"unread_notifications": n} inside an organization, counted only if shown."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notification_services.unread_count(membership))}

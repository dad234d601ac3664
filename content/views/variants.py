"""The item editor's languages (issue 23): the language of the item's own words, and its
variants in other languages (add, edit, remove). Thin: parse, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Permission
from advocacy.languages import CODES
from advocacy.views import call_service, org_view
from content.language_forms import ItemLanguageForm, VariantForm
from content.models import ContentItem, ContentVariant, Suggestion
from content.selectors import languages as selectors
from content.services import library as services


def _item(request, content_item_id: int) -> ContentItem:
    return get_object_or_404(ContentItem.objects.for_org(request.organization), pk=content_item_id)


def _item_url(request, item_id: int) -> str:
    return reverse("content:library_item", kwargs={"org_slug": request.organization.slug, "content_item_id": item_id})


def languages_context(request, item: ContentItem) -> dict:
    """What the item editor's languages panel shows (3 queries: variants, members' languages)."""
    variants = selectors.variants_of(item)
    selectors.with_missing_languages(request.organization, [item])
    own = item.own_language
    return {
        "variants": variants,
        "own_language": own,
        "missing_languages": item.missing_languages,
        "addable_languages": [c for c in selectors.ORDER if c != own and c not in {v.language for v in variants}],
        "language_form": ItemLanguageForm(initial={"language": own}, prefix="own"),
    }


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_item_language(request, content_item_id):
    """Say which language the item's own words are in."""
    item = _item(request, content_item_id)
    form = ItemLanguageForm(request.POST, prefix="own")
    if form.is_valid():
        done = call_service(
            request,
            None,
            lambda: services.set_item_language(
                actor=request.membership, item=item, language=form.cleaned_data["language"]
            ),
        )
        if done is not None:
            messages.success(request, _("Saved the item's language."))
    else:
        messages.error(request, _("Choose one of the languages the product ships in."))
    return redirect(_item_url(request, item.pk))


@org_view(Permission.LIBRARY_MANAGE)
@require_http_methods(["GET", "POST"])
def library_item_variant(request, content_item_id):
    """Add or edit the item's variant in one language (`?language=fr`)."""
    item = _item(request, content_item_id)
    code = (request.POST.get("language") or request.GET.get("language") or "").strip().lower()
    if code not in CODES:
        messages.error(request, _("Choose one of the languages the product ships in."))
        return redirect(_item_url(request, item.pk))
    own = list(Suggestion.objects.for_org(request.organization).filter(item=item).order_by("position", "pk"))
    variant = selectors.variant_in(item, code)
    initial = {"language": code}
    if variant is not None:
        initial |= {"title": variant.title, "description": variant.description}
        initial |= {f"suggestion_{i}": row.get("text", "") for i, row in enumerate(variant.suggestions or [])}
    form = VariantForm(request.POST or None, initial=initial, own_suggestions=own)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: services.set_variant(
                actor=request.membership,
                item=item,
                language=code,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                suggestions=form.suggestions(),
            ),
        )
        if saved is not None:
            messages.success(request, _("Saved the %(language)s variant.") % {"language": services.language_name(code)})
            return redirect(_item_url(request, item.pk))
    context = {
        "item": item,
        "form": form,
        "variant": variant,
        "language": code,
        "language_name": services.language_name(code),
        "own_suggestions": own,
    }
    return render(request, "content/library/variant.html", context)


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_variant_remove(request, content_variant_id):
    """Remove one language variant of an item."""
    variant = get_object_or_404(ContentVariant.objects.for_org(request.organization), pk=content_variant_id)
    done = call_service(request, None, lambda: services.remove_variant(actor=request.membership, variant=variant))
    if done:
        messages.success(
            request, _("Removed the %(language)s variant.") % {"language": services.language_name(variant.language)}
        )
    return redirect(_item_url(request, variant.item_id))

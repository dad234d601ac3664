"""The marketers' content library pages (and the page where any member proposes content).

Thin: parse the form, call one service or selector, render. Business rules live in
`content.services.library`; their refusals come back on the form with everything typed
kept (only a chosen image file must be chosen again: browsers never re-send files).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership, Team
from accounts.permissions import Permission, can
from advocacy.tenancy import get_for_org_or_404
from advocacy.timezones import zone_name_for
from advocacy.views import call_service, org_view, paginate
from content import hooks
from content.forms import FeedForm, ItemForm, ProposalForm, SuggestionFormSet
from content.models import ContentFeed, ContentItem, ContentProposal, Share
from content.selectors import languages
from content.selectors import library as selectors
from content.services import library as services
from content.views import variants as variant_views

# --- helpers --------------------------------------------------------------------------------


def _zone(request) -> str:
    """The marketer's zone (the one the middleware activated): the times they type and read."""
    return zone_name_for(request.user, request.organization)


def _item_or_404(request, content_item_id: int) -> ContentItem:
    return get_object_or_404(selectors.item_detail(request.organization), pk=content_item_id)


def _back_to_library(request) -> str:
    """The list with the filters the marketer had (only known parameters, never a URL)."""
    params = {key: request.POST.get(key, "")[:100] for key in ("status", "topic", "q")}
    query = urlencode({k: v for k, v in params.items() if v})
    url = reverse("content:library", kwargs={"org_slug": request.organization.slug})
    return f"{url}?{query}" if query else url


def _item_url(request, item: ContentItem) -> str:
    return reverse("content:library_item", kwargs={"org_slug": request.organization.slug, "content_item_id": item.pk})


# --- the library list -------------------------------------------------------------------------


@org_view(Permission.LIBRARY_MANAGE)
def library(request):
    """The marketer's landing page: items with filters, counts and bulk actions."""
    org = request.organization
    status = request.GET.get("status", "")
    status = status if status in selectors.LIST_STATUSES else ""
    topic = request.GET.get("topic", "")[:80]
    search = request.GET.get("q", "").strip()[:100]
    items = paginate(request, selectors.library_items(org, status=status, topic=topic, search=search), per_page=25)
    items.object_list = languages.with_missing_languages(org, items.object_list)  # issue 23: what lacks a language
    counts = selectors.status_counts(org)
    tabs = [("", pgettext("library items", "Current"), counts[""])] + [
        (value, label, counts[value]) for value, label in ContentItem.Status.choices
    ]
    context = {
        "items": items,
        "status": status,
        "topic": topic,
        "q": search,
        "tabs": tabs,
        "topics": selectors.topics_of(org),
        "new_proposals": selectors.new_proposal_count(org),
    }
    template = "content/library/_items.html" if request.htmx else "content/library/list.html"
    return render(request, template, context)


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_bulk(request):
    """Publish or archive the ticked items: all of them, or none with the reason."""
    action = request.POST.get("action")
    ids = request.POST.getlist("items")
    if action == "publish":
        done = call_service(request, None, lambda: services.bulk_publish(actor=request.membership, item_ids=ids))
        if done is not None:
            messages.success(
                request, ngettext("Published %(count)s item.", "Published %(count)s items.", done) % {"count": done}
            )
    elif action == "archive":
        done = call_service(request, None, lambda: services.bulk_archive(actor=request.membership, item_ids=ids))
        if done is not None:
            messages.success(
                request, ngettext("Archived %(count)s item.", "Archived %(count)s items.", done) % {"count": done}
            )
    else:
        messages.error(request, _("Choose what to do with the ticked items."))
    return redirect(_back_to_library(request))


# --- one item -------------------------------------------------------------------------------


def _render_editor(request, form, formset, item=None, status=200):
    if request.method == "POST" and request.FILES.get("image") and not form.has_error("image"):
        # Browsers never send a chosen file again: say so rather than lose it silently.
        form.add_error("image", _("Choose the image again: it was not saved because of the problem above."))
    disclose = hooks.disclosure_for(organization=request.organization)
    context = {
        "form": form,
        "formset": formset,
        "rows": [_row(sform, index, disclose) for index, sform in enumerate(formset)],
        "add": _add_controls(len(formset.forms) - len(_removed(formset))),
        "item": item,
        "zone": _zone(request),
        "now": timezone.now(),
        "card": _card(item) if item else None,
        **(variant_views.languages_context(request, item) if item else {}),
    }
    return render(request, "content/library/item.html", context, status=status)


# --- suggestion rows: added in place, counted live -------------------------------------------


def _removed(formset) -> list:
    """The rows posted with their Remove box ticked (none on a fresh page)."""
    return [f for f in formset.forms if formset.is_bound and f["DELETE"].value()]


def _row(sform, index: int, disclose) -> dict:
    """One suggestion row with its counts, from the text shown in it (saved or typed)."""
    text, network = sform["text"].value() or "", sform["network"].value() or ""
    return {"form": sform, "number": index + 1, "index": index, **_checks_context(text, network, disclose)}


def _checks_context(text: str, network: str, disclose) -> dict:
    too_long = len(text.strip()) > services.MAX_SUGGESTION_LENGTH
    text = text[: 2 * services.MAX_SUGGESTION_LENGTH]  # counted and previewed, not kept
    checks = services.suggestion_checks(text, network, disclose=disclose) if text.strip() else []
    return {"checks": checks, "too_long": too_long, "max_length": services.MAX_SUGGESTION_LENGTH}


def _add_controls(live_rows: int) -> dict:
    return {"full": live_rows >= services.MAX_SUGGESTIONS, "max": services.MAX_SUGGESTIONS}


def _row_number(raw: str | None, upper: int) -> int | None:
    return int(raw) if raw and raw.isdigit() and int(raw) < upper else None


@org_view(Permission.LIBRARY_MANAGE)
@require_GET
def library_suggestion_row(request):
    """htmx: one more empty suggestion row, numbered after those on the page (whose count
    and ticked Remove boxes the button sends), with the form's row count updated out of band.
    At the cap: no row, and the reason beside the button."""
    total = _row_number(request.GET.get("suggestions-TOTAL_FORMS"), SuggestionFormSet.absolute_max)
    if total is None:
        return HttpResponseBadRequest(_("Reload the page to add a suggestion."))
    removed = sum(1 for key in request.GET if key.startswith("suggestions-") and key.endswith("-DELETE"))
    live = max(0, total - removed)
    if live >= services.MAX_SUGGESTIONS or total + 1 >= SuggestionFormSet.absolute_max:
        context = {"add": {**_add_controls(live), "full": True}, "oob": True}
        response = render(request, "content/library/_suggestion_add.html", context)
        response["HX-Reswap"] = "none"
        return response
    sform = SuggestionFormSet(prefix="suggestions").row_form(total)
    context = {"row": _row(sform, total, None), "total": total + 1, "add": _add_controls(live + 1)}
    return render(request, "content/library/_suggestion_added.html", context)


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_suggestion_check(request):
    """htmx: a suggestion row's count and preview per network, as the marketer types."""
    index = _row_number(request.GET.get("row"), SuggestionFormSet.absolute_max)
    if index is None:
        return HttpResponseBadRequest(_("Reload the page to count this suggestion."))
    prefix = f"suggestions-{index}"
    network = request.POST.get(f"{prefix}-network", "")
    text = request.POST.get(f"{prefix}-text", "")
    disclose = hooks.disclosure_for(organization=request.organization)
    context = {"prefix": prefix, **_checks_context(text, network, disclose)}
    return render(request, "content/library/_suggestion_checks.html", context)


# The link card the networks draw from the page's details. They cut by width in pixels; we
# cut the title at 70 characters and the description at 160 (with "…"), about what a desktop
# link card on LinkedIn, X and Facebook shows on one or two lines.
CARD_TITLE_CHARS = 70
CARD_DESCRIPTION_CHARS = 160


def _card(item: ContentItem) -> dict:
    """The item's link card as the networks show it: picture, site, title, description."""
    link = item.canonical_url or item.url
    return {
        "host": (urlsplit(link).hostname or "").removeprefix("www."),
        "title": Truncator(item.title).chars(CARD_TITLE_CHARS),
        "description": Truncator(" ".join(item.description.split())).chars(CARD_DESCRIPTION_CHARS),
    }


def _item_fields(form, formset, *, image) -> dict:
    """The item's fields from the editor, as create_item and update_item take them."""
    data = form.cleaned_data
    return {
        "url": data["url"],
        "title": data["title"],
        "description": data["description"],
        "image": image,
        "image_alt_text": data["image_alt_text"],
        "suggestions": _suggestions(formset),
        "topics": form.topic_names(),
        "target_teams": data["target_teams"],
        "starts_at": data["starts_at"],
        "expires_at": data["expires_at"],
        "featured": data["featured"],
    }


@org_view(Permission.LIBRARY_MANAGE)
@require_http_methods(["GET", "POST"])
def library_item_new(request):
    """Add an item from a link; what is left empty is fetched from the page."""
    org = request.organization
    with timezone.override(_zone(request)):
        form = ItemForm(request.POST or None, request.FILES or None, organization=org, zone=_zone(request))
        formset = SuggestionFormSet(request.POST or None, prefix="suggestions")
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            item = call_service(
                request,
                form,
                lambda: services.create_item(
                    actor=request.membership, **_item_fields(form, formset, image=data["image"])
                ),
            )
            if item is not None:
                messages.success(request, _saved_message(item, _("Added as a draft.")))
                return redirect(_item_url(request, item))
        return _render_editor(request, form, formset)


def _suggestions(formset) -> list[services.SuggestionInput]:
    return [services.SuggestionInput(text=row["text"], network=row.get("network", "")) for row in formset.kept_rows()]


def _saved_message(item: ContentItem, done: str) -> str:
    if item.unfurl_status == ContentItem.Unfurl.PENDING:
        return _("%(done)s Fetching the page's title, description and image; empty fields will be filled.") % {
            "done": done
        }
    return done


def _initial(item: ContentItem) -> dict:
    return {
        "url": item.url,
        "title": item.title or item.fetched_title,  # the page's own title proposed
        "description": item.description,
        "image_alt_text": item.image_alt_text,
        "topics": ", ".join(t.name for t in item.topics.all()),
        "target_teams": list(item.target_teams.all()),
        "starts_at": item.starts_at,
        "expires_at": item.expires_at,
        "featured": item.featured,
    }


def _title_help(item: ContentItem) -> str:
    """Say before saving that a title is needed once the page gave none (the service's rule)."""
    if item.unfurl_status == ContentItem.Unfurl.FAILED:
        return _("Required: the page could not be fetched, so there is no title to use.")
    if item.unfurl_status == ContentItem.Unfurl.DONE and not item.fetched_title:
        return _("Required: the page has no title of its own.")
    return ""


@org_view(Permission.LIBRARY_MANAGE)
@require_http_methods(["GET", "POST"])
def library_item(request, content_item_id):
    """The item editor: fields, suggestions per network, targeting, window, preview, actions."""
    item = _item_or_404(request, content_item_id)
    org = request.organization
    with timezone.override(_zone(request)):
        form = ItemForm(
            request.POST or None,
            request.FILES or None,
            organization=org,
            zone=_zone(request),
            has_image=bool(item.image),
            title_help=_title_help(item),
            initial=_initial(item),
        )
        suggestions = [{"text": s.text, "network": s.network} for s in item.suggestions.all()]
        formset = SuggestionFormSet(request.POST or None, prefix="suggestions", initial=suggestions)
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            fields = _item_fields(form, formset, image=data["image"] or None)
            if not data["image"] and not data.get("remove_image"):
                del fields["image"]  # left as it is
            saved = call_service(
                request,
                form,
                lambda: services.update_item(actor=request.membership, item=item, **fields),
            )
            if saved is not None:
                messages.success(request, _saved_message(saved, _("Saved.")))
                return redirect(_item_url(request, saved))
        return _render_editor(request, form, formset, item=item)


@org_view(Permission.LIBRARY_MANAGE)
@require_http_methods(["GET", "POST"])
def library_item_unfurl(request, content_item_id):
    """GET: the preview's status (htmx polls it while fetching). POST: fetch the page again."""
    item = get_for_org_or_404(ContentItem, request.organization, pk=content_item_id)
    if request.method == "POST":
        services.request_unfurl(actor=request.membership, item=item)
        if not request.htmx:
            messages.success(request, _("Fetching the page again; only empty fields will be filled."))
            return redirect(_item_url(request, item))
    response = render(request, "content/library/_unfurl_status.html", {"item": item, "polled": request.htmx})
    if request.htmx and request.method == "GET" and item.unfurl_status != ContentItem.Unfurl.PENDING:
        response["HX-Trigger"] = "unfurlFinished"
    return response


def _item_action(request, content_item_id, action, done: str):
    item = get_for_org_or_404(ContentItem, request.organization, pk=content_item_id)
    if call_service(request, None, lambda: action(actor=request.membership, item=item)) is not None:
        messages.success(request, done % {"title": item.title or item.url})
    return redirect(_item_url(request, item))


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_item_publish(request, content_item_id):
    return _item_action(request, content_item_id, services.publish_item, _("Published “%(title)s”."))


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_item_unpublish(request, content_item_id):
    return _item_action(request, content_item_id, services.unpublish_item, _("“%(title)s” is a draft again."))


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_item_archive(request, content_item_id):
    return _item_action(request, content_item_id, services.archive_item, _("Archived “%(title)s”."))


# --- preview as a team ----------------------------------------------------------------------


@org_view(Permission.LIBRARY_MANAGE)
def library_preview(request):
    """The feed as an employee of a chosen team sees it now (no team = someone in no team)."""
    org = request.organization
    teams = list(selectors.teams_for_targeting(org))
    chosen: Team | None = None
    raw = request.GET.get("team", "")
    if raw.isdigit():
        chosen = next((team for team in teams if team.pk == int(raw)), None)
    items = paginate(request, selectors.preview_for_teams(org, [chosen.pk] if chosen else []), per_page=25)
    with timezone.override(_zone(request)):
        return render(request, "content/library/preview.html", {"teams": teams, "chosen": chosen, "items": items})


# --- feeds ----------------------------------------------------------------------------------


@org_view(Permission.LIBRARY_MANAGE)
def library_feeds(request):
    """Followed RSS/Atom feeds: add one, see when each was checked and what went wrong."""
    org = request.organization
    form = FeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        feed = call_service(
            request, form, lambda: services.add_feed(actor=request.membership, url=form.cleaned_data["url"])
        )
        if feed is not None:
            messages.success(request, _("Feed added. Its entries arrive as drafts in a moment, then every half hour."))
            return redirect("content:library_feeds", org_slug=org.slug)
    with timezone.override(_zone(request)):
        return render(request, "content/library/feeds.html", {"form": form, "feeds": selectors.feeds_of(org)})


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_feed_poll(request, content_feed_id):
    """Check a feed now (a few seconds at most) and say what came of it."""
    feed = get_for_org_or_404(ContentFeed, request.organization, pk=content_feed_id)
    created = call_service(request, None, lambda: services.check_feed_now(actor=request.membership, feed=feed))
    if created is not None:
        messages.success(
            request,
            ngettext("Checked %(feed)s: %(count)s new draft.", "Checked %(feed)s: %(count)s new drafts.", created)
            % {"feed": feed, "count": created},
        )
    return redirect("content:library_feeds", org_slug=request.organization.slug)


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_feed_toggle(request, content_feed_id):
    """Pause or resume a feed's scheduled checks."""
    feed = get_for_org_or_404(ContentFeed, request.organization, pk=content_feed_id)
    feed = services.set_feed_active(actor=request.membership, feed=feed, active=not feed.is_active)
    words = _("%(feed)s is checked again.") if feed.is_active else _("%(feed)s is paused.")
    messages.success(request, words % {"feed": feed})
    return redirect("content:library_feeds", org_slug=request.organization.slug)


# --- proposals ------------------------------------------------------------------------------


@org_view(Permission.LIBRARY_MANAGE)
def library_proposals(request):
    """Links employees proposed; accept one to start a draft from it, or decline it."""
    status = request.GET.get("status", ContentProposal.Status.NEW)
    status = status if status in ContentProposal.Status.values else ContentProposal.Status.NEW
    proposals = paginate(request, selectors.proposals_inbox(request.organization, status=status), per_page=25)
    context = {"proposals": proposals, "status": status, "statuses": ContentProposal.Status.choices}
    with timezone.override(_zone(request)):
        return render(request, "content/library/proposals.html", context)


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_proposal_accept(request, content_proposal_id):
    proposal = get_for_org_or_404(ContentProposal, request.organization, pk=content_proposal_id)
    item = call_service(request, None, lambda: services.accept_proposal(actor=request.membership, proposal=proposal))
    if item is not None:
        messages.success(request, _saved_message(item, _("Accepted: a draft was started from the link.")))
        return redirect(_item_url(request, item))
    return redirect("content:library_proposals", org_slug=request.organization.slug)


@org_view(Permission.LIBRARY_MANAGE)
@require_POST
def library_proposal_decline(request, content_proposal_id):
    proposal = get_for_org_or_404(ContentProposal, request.organization, pk=content_proposal_id)
    if call_service(request, None, lambda: services.decline_proposal(actor=request.membership, proposal=proposal)):
        messages.success(request, _("Declined."))
    return redirect("content:library_proposals", org_slug=request.organization.slug)


@org_view(Permission.ORG_VIEW)
def propose_content(request):
    """Any member proposes a link for the library; they see what became of their proposals."""
    # GET ?url=&reason=: pre-filled, as the phone's share sheet sends it (accounts.views.pwa).
    initial = {key: request.GET[key][:2000] for key in ("url", "reason") if request.GET.get(key)}
    form = ProposalForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        proposal = call_service(
            request,
            form,
            lambda: services.propose_content(
                actor=request.membership, url=form.cleaned_data["url"], reason=form.cleaned_data["reason"]
            ),
        )
        if proposal is not None:
            messages.success(request, _("Thank you! The marketing team will look at your proposal."))
            return redirect("content:propose_content", org_slug=request.organization.slug)
    mine = selectors.proposals_by(request.membership)[:20]
    with timezone.override(_zone(request)):
        return render(request, "content/library/propose.html", {"form": form, "mine": mine})


def _may_see_image(user, key: str) -> bool:
    # The file names its organization only through its item or share, on purpose.
    owner = ContentItem.objects.all_organizations().filter(image=key).values_list("organization_id", flat=True)
    org_id = owner.first()
    if org_id is not None:
        return Membership.objects.for_org(org_id).filter(user=user, is_active=True).exists()
    share = Share.objects.all_organizations().filter(image=key).values_list("organization_id", "author_id").first()
    if share is None:
        return False
    membership = Membership.objects.for_org(share[0]).filter(user=user, is_active=True).first()
    return membership is not None and (user.pk == share[1] or can(membership, Permission.COMPLIANCE_REVIEW))


MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}


def item_image(request, key: str):
    """An uploaded content image (`/media/<key>`, its storage name), served by the product:
    only to a signed-in member of the organization whose item it is, or, for the picture an
    employee chose for a share, to its author and the organization's reviewers (anyone
    else: 404), as an image that no browser runs (its own type, nosniff, a sandboxing CSP)."""
    extension = key.rsplit(".", 1)[-1].lower()
    if not request.user.is_authenticated or extension not in MEDIA_TYPES or ".." in key:
        raise Http404("No such image.")
    if not _may_see_image(request.user, key):
        raise Http404("No such image.")
    try:
        handle = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise Http404("No such image.") from None
    response = FileResponse(handle, content_type=MEDIA_TYPES[extension])
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response

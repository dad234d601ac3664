"""The employee's pages: the feed, the composer, my shares."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Network, SocialConnection
from accounts.permissions import Permission
from accounts.services import guidelines as guideline_services
from advocacy.languages import language_for
from advocacy.tenancy import get_for_org_or_404
from advocacy.timezones import zone_name_for
from advocacy.views import call_service, org_view, paginate, paginate_uncounted
from content import lifecycle
from content.forms import AttachPostForm, EditShareForm, ShareForm
from content.models import Delivery, Share, Topic
from content.selectors import languages
from content.selectors.sharing import feed_page, live_items, shares_of, targeted_at
from content.services import library, publishing, sharing


@org_view(Permission.FEED_USE)
def feed(request):
    membership = request.membership
    topic = request.GET.get("topic", "")[:80]
    search = request.GET.get("q", "").strip()[:100]
    followed = request.GET.get("followed") == "1"
    # One query for the cards, and not counted: counting every live item targeted at the
    # member costs more than the page.
    items = paginate_uncounted(
        request,
        lambda offset, limit: feed_page(
            membership, topic=topic, search=search, followed=followed, offset=offset, limit=limit
        ),
        per_page=20,
    )
    reader = language_for(request.user, request.organization)
    languages.serve_feed_cards(request.organization, items.object_list, reader)  # one query for the page
    for item in items.object_list:  # the words the composer starts from
        item.start = sharing.pick_suggestion(item, membership, item.suggestions)
    topics = Topic.objects.for_org(membership.organization_id).order_by("name")
    following = set(membership.followed_topics.values_list("pk", flat=True))
    context = {
        "items": items,
        "topics": topics,
        "following": following,
        "topic": topic,
        "q": search,
        "followed": followed,
    }
    if not request.htmx:  # the cap and the posting hours, shown before anything is written
        context["gates"] = sharing.sharing_gates(membership, zone=zone_name_for(request.user, request.organization))
    template = "content/_feed_items.html" if request.htmx else "content/feed.html"
    return render(request, template, context)


@org_view(Permission.FEED_USE)
@require_POST
def topic_follow(request, topic_id):
    topic = get_for_org_or_404(Topic, request.organization, pk=topic_id)
    follow = request.POST.get("follow") == "1"
    library.follow_topic(actor=request.membership, topic=topic, follow=follow)
    words = _("You follow %(topic)s.") if follow else _("You no longer follow %(topic)s.")
    messages.success(request, words % {"topic": topic.name})
    return redirect("content:feed", org_slug=request.organization.slug)


def composer_item(request, content_item_id):
    item = (
        targeted_at(live_items(request.organization), request.membership)
        .filter(pk=content_item_id)
        .prefetch_related("suggestions")
        .first()
    )
    if item is None:
        raise Http404("No content found")  # another org's, expired, or not for this member: one answer
    return languages.for_reader(request.organization, item, language_for(request.user, request.organization))


def composer_defaults(membership, item):
    """What the composer starts from: (targets, suggestions, the suggestion shown, the form's
    initial). The words the feed card showed, for every network; a network the marketer
    wrote for gets its own words in its tab; the accounts of the last share (or all) are
    ticked. The e-mail's one-click share page starts from the same."""
    connections = list(SocialConnection.objects.for_org(membership.organization_id).filter(user_id=membership.user_id))
    targets = sharing.targets_for(membership, connections)
    suggestions = list(getattr(item, "suggestions_shown", None) or item.suggestions.all())  # in the reader's language
    start = sharing.pick_suggestion(item, membership, suggestions)
    initial = {
        "commentary": start.text if start else "",
        "suggestion": start.pk if start else None,
        "targets": sharing.preselected_targets(membership, targets),
        **{f"text_{net}": text for net, text in sharing.network_suggestions(suggestions).items()},
    }
    return targets, suggestions, start, initial


@org_view(Permission.FEED_USE)
def compose(request, content_item_id):
    membership = request.membership
    item = composer_item(request, content_item_id)
    targets, suggestions, start, initial = composer_defaults(membership, item)
    zone = zone_name_for(request.user, request.organization)
    form = ShareForm(request.POST or None, request.FILES or None, targets=targets, zone=zone, initial=initial)
    gates = sharing.sharing_gates(membership, zone=zone)
    guideline = _composer_guideline(membership)
    if request.method == "POST" and "accept_guideline" in request.POST:
        guideline, form = _accept_guidelines_keeping_draft(request, form, guideline, targets, zone)
    elif request.method == "POST" and "schedule_next" in request.POST:
        form = ShareForm(
            _at_next_time(request.POST, gates, zone), request.FILES or None, targets=targets, zone=zone, initial=initial
        )
    repeat = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def submit():
            nonlocal repeat
            try:
                return sharing.submit_share(
                    actor=membership,
                    item_id=item.pk,
                    commentary=data["commentary"],
                    network_texts=form.network_texts(),
                    target_keys=data["targets"],
                    scheduled_for=data["scheduled_for"],
                    suggestion_id=data.get("suggestion"),
                    submit_key=data.get("submit_token") or "",
                    confirm_repeat=data.get("confirm_repeat") or False,
                    image=data.get("image"),
                    image_alt_text=data.get("image_alt_text") or "",
                )
            except sharing.RepeatShare as exc:
                repeat = exc.message
                raise

        share = call_service(request, form, submit)
        if share is not None:
            if share.replayed:
                messages.info(request, _("You already submitted this share; here it is. Nothing was posted twice."))
                return redirect("content:share_detail", org_slug=request.organization.slug, share_id=share.pk)
            messages.success(request, submitted_message(share))
            return redirect("content:my_shares", org_slug=request.organization.slug)
    chosen = form["targets"].value() or []
    context = {
        "form": form,
        "api_targets": [t for t in targets if t.mode == Delivery.Mode.API and not t.disabled_reason],
        "broken_targets": [t for t in targets if t.disabled_reason],
        "assisted_targets": [t for t in targets if t.mode == Delivery.Mode.ASSISTED],
        "assisted_chosen": any(key.startswith("assisted:") for key in chosen),
        "network_fields": [(net, form[f"text_{net.value}"]) for net in Network],
        "suggestions": suggestions,
        "start": start,
        "scheduling": form["when"].value() == "later",
        "shares_left": gates.left_today,
        "posting_hours": gates.hours,
        "repeat": repeat,
        "gates": gates,
        "guideline_gate": guideline,
        "guidelines_banner": None,  # the composer shows the guidelines themselves, with the draft kept
        **_live_context(request, item, form, chosen, targets, suggestions),
    }
    return render(request, "content/compose.html", context)


def _composer_guideline(membership):
    """The current guidelines when the member has not accepted them (a query only then)."""
    if account_selectors.pending_guideline_version(membership) is None:
        return None
    return account_selectors.current_guideline_for(membership)


def _accept_guidelines_keeping_draft(request, form, guideline, targets, zone: str):
    """The composer's "accept" button posts the draft along: accept, then give the composer
    back with the words, accounts and time as they were (not checked yet: nothing was sent)."""
    accepted = call_service(
        request,
        None,
        lambda: guideline_services.accept_guidelines(
            actor=request.membership, guideline_id=request.POST.get("accept_guideline")
        ),
    )
    if accepted is not None:
        request.membership.pending_guideline_version = None
        guideline = None
        messages.success(
            request,
            _("Thank you: you accepted version %(version)s of the guidelines. Your draft is kept.")
            % {"version": accepted.guideline.version},
        )
    # Refused or not (a newer version came out: the message says why), the draft comes back.
    posted = request.POST
    draft = {name: posted.getlist(name) if name == "targets" else posted.get(name) for name in form.fields}
    draft = {name: value for name, value in draft.items() if value is not None}
    return guideline, ShareForm(targets=targets, zone=zone, initial=draft)


def _at_next_time(posted, gates, zone: str):
    """The form's data for "Schedule for Monday 09:00": the next time a share may go out,
    worked out again here (not taken from the page), as the employee's own clock time."""
    data = posted.copy()
    if gates.next_time is None:  # open by now: share as soon as approved
        data["when"] = "now"
        data.pop("scheduled_for", None)
    else:
        data["when"] = "later"
        data["scheduled_for"] = timezone.localtime(gates.next_time, zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
    return data


def _live_context(request, item, form, chosen: list[str], targets, suggestions) -> dict:
    """What the composer shows beside the text, per chosen network: the post as it will go
    out (the words for that network, the tracked link, the policy's disclosure), its count
    as the network counts it, and the findings. One function builds what is counted, shown
    and posted (sharing.post_texts), so the numbers agree everywhere."""
    commentary = form["commentary"].value() or ""
    network_texts = {net.value: form[f"text_{net.value}"].value() or "" for net in Network}
    networks = sorted({t.network for t in targets if t.key in chosen}) or list(Network.values)
    network_texts = sharing.clean_network_texts(commentary, network_texts, networks)
    screening = sharing.post_texts(request.membership, item, commentary, network_texts, networks, suggestions)
    texts = {net: screening.texts.get(net) or "" for net in networks}
    checks = sharing.text_checks(texts)
    # A disclosure that does not fit says what the count says: the count's sentence is enough.
    findings = {
        Network(net).label: [
            f for f in found if not (f.rule == "disclosure" and f.start == f.end and not checks[net]["fits"])
        ]
        for net, found in screening.findings.items()
        if found and net in checks
    }
    return {
        "posts": [
            {
                "network": Network(net).label,
                "key": net,
                "check": check,
                "preview": sharing.preview_of(texts[net]),
                "own_words": net in network_texts,
                "findings": findings.get(Network(net).label, []),
            }
            for net, check in checks.items()
        ],
        "nothing_chosen": not chosen,
        "blocked": [(network, f) for network, found in findings.items() for f in found if f.action == "block"],
        "to_review": any(f.action != "block" for found in findings.values() for f in found),
        "review_first": screening.needs_review,
        "commentary": commentary,
        "item": item,
        "needs_personal_words": sharing.unchanged_suggestion(suggestions, commentary, network_texts, networks),
    }


@org_view(Permission.FEED_USE)
@require_POST
def compose_check(request, content_item_id):
    """htmx: the live character count, preview and compliance findings per chosen network."""
    item = composer_item(request, content_item_id)
    targets = sharing.targets_for(request.membership)
    form = ShareForm(request.POST, targets=targets)
    context = _live_context(
        request, item, form, request.POST.getlist("targets"), targets, list(getattr(item, "suggestions_shown", []))
    )
    return render(request, "content/_compose_checks.html", context)


def submitted_message(share: Share) -> str:
    if share.status == Share.Status.REJECTED:
        return _("Your share was not accepted: %(reason)s") % {"reason": share.review_comment}
    if share.status == Share.Status.IN_REVIEW:
        return _("Submitted. Compliance will review it; you will hear back.")
    if share.status == Share.Status.SCHEDULED:
        return _("Approved and scheduled.")
    return _("Approved. It goes out shortly; assisted shares wait for you below.")


@org_view(Permission.FEED_USE)
def my_shares(request):
    shares = paginate(request, shares_of(request.membership), per_page=20)
    for share in shares:
        sharing.with_assisted_actions(share, share.deliveries.all())
        _restore_pasted_links(request, share.deliveries.all())
    return render(request, "content/my_shares.html", {"shares": shares})


def _pasted_link_key(delivery_id: int) -> str:
    return f"assisted-url-{delivery_id}"


def _restore_pasted_links(request, deliveries) -> None:
    """A link "I posted it" refused comes back in its box, to correct rather than paste again."""
    for delivery in deliveries:
        delivery.pasted_link = request.session.pop(_pasted_link_key(delivery.pk), "")


@org_view(Permission.FEED_USE)
def share_detail(request, share_id):
    share = get_for_org_or_404(Share, request.organization, pk=share_id, author_id=request.user.pk)
    deliveries = list(Delivery.objects.for_org(request.organization).filter(share=share).select_related("connection"))
    networks = sorted({d.network for d in deliveries if d.status != Delivery.Status.CANCELLED})
    initial = {"commentary": share.commentary, **{f"text_{net}": words for net, words in share.network_texts.items()}}
    form = EditShareForm(request.POST or None, initial=initial, networks=networks if len(networks) > 1 else ())
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: sharing.edit_share(
                actor=request.membership,
                share_id=share.pk,
                commentary=form.cleaned_data["commentary"],
                network_texts=form.network_texts(),
                scheduled_for=share.scheduled_for,
            ),
        )
        if saved is not None:
            messages.success(
                request,
                _("Saved as version %(version)s. %(outcome)s")
                % {"version": saved.version, "outcome": submitted_message(saved)},
            )
            return redirect("content:my_shares", org_slug=request.organization.slug)
    sharing.with_assisted_actions(share, deliveries)
    _restore_pasted_links(request, deliveries)
    for delivery in deliveries:
        delivery.share = share
        delivery.can_retry = publishing.can_retry(delivery)
        delivery.can_attach = delivery.mode == "api" and delivery.status in lifecycle.DELIVERY_ATTACHABLE
    context = {
        "share": share,
        "form": form,
        "deliveries": deliveries,
        "versions": share.versions.all(),
        "editable": share.status in lifecycle.SHARE_EDITABLE,
        "confirmable": lifecycle.SHARE_CONFIRMABLE,
        "deletable": share.status in lifecycle.SHARE_DELETABLE
        and any(d.status == Delivery.Status.PUBLISHED and d.mode == "api" and not d.removed_at for d in deliveries),
    }
    return render(request, "content/share_detail.html", context)


@org_view(Permission.FEED_USE)
@require_POST
def share_cancel(request, share_id):
    get_for_org_or_404(Share, request.organization, pk=share_id, author_id=request.user.pk)
    if call_service(request, None, lambda: sharing.cancel_share(actor=request.membership, share_id=share_id)):
        messages.success(request, _("Cancelled: nothing will be posted."))
    return redirect("content:my_shares", org_slug=request.organization.slug)


@org_view(Permission.FEED_USE)
@require_POST
def delivery_assisted_done(request, delivery_id):
    """ "I posted it" on an assisted share, with the post's link if the employee pasted one.
    Back to My shares when it was pressed there (a fixed choice, never a URL from the form)."""
    delivery = get_for_org_or_404(Delivery, request.organization, pk=delivery_id, share__author_id=request.user.pk)
    url = request.POST.get("url", "").strip()
    if len(url) > 2000:
        messages.error(request, _("That link is too long to be a post's address. Nothing was changed."))
        done = None
    else:
        done = call_service(
            request,
            None,
            lambda: sharing.confirm_assisted_share(actor=request.membership, delivery_id=delivery.pk, url=url),
        )
    if done is None and url:
        request.session[_pasted_link_key(delivery.pk)] = url[:2000]
    if done is not None:
        network = done.get_network_display()
        if done.remote_url:
            messages.success(
                request,
                _("Recorded: you shared it on %(network)s, and the post is linked to this share.")
                % {"network": network},
            )
        else:
            messages.success(request, _("Recorded: you shared it on %(network)s.") % {"network": network})
    org_slug = request.organization.slug
    if request.POST.get("back") == "my_shares":
        page = request.POST.get("page", "")
        target = reverse("content:my_shares", kwargs={"org_slug": org_slug})
        return redirect(target + (f"?page={page}" if page.isdigit() else ""))
    return redirect("content:share_detail", org_slug=org_slug, share_id=delivery.share_id)


@org_view(Permission.FEED_USE)
@require_POST
def delivery_retry(request, delivery_id):
    """The employee's "retry" on a failed post (a double click queues it once)."""
    delivery = get_for_org_or_404(Delivery, request.organization, pk=delivery_id, share__author_id=request.user.pk)
    done = call_service(
        request, None, lambda: publishing.retry_delivery(actor=request.membership, delivery_id=delivery.pk)
    )
    if done is not None:
        messages.success(
            request, _("Queued again for %(network)s. It goes out shortly.") % {"network": done.get_network_display()}
        )
    return redirect("content:share_detail", org_slug=request.organization.slug, share_id=delivery.share_id)


def _and(words: list[str]) -> str:
    words = sorted(words)
    return ", ".join(words[:-1]) + f" {_('and')} " + words[-1] if len(words) > 1 else "".join(words)


@org_view(Permission.FEED_USE)
@require_POST
def share_delete_published(request, share_id):
    """Take a published share down from the networks where we posted it."""
    get_for_org_or_404(Share, request.organization, pk=share_id, author_id=request.user.pk)
    removal = call_service(
        request, None, lambda: publishing.delete_published_share(actor=request.membership, share_id=share_id)
    )
    if removal is not None:
        if removal.removed:
            messages.success(request, _("Removed from %(networks)s.") % {"networks": _and(removal.removed)})
        for problem in removal.problems:
            messages.error(request, problem)
        if removal.by_hand:
            messages.warning(
                request,
                _("You posted it yourself on %(networks)s: delete it there, in the network's app.")
                % {"networks": _and(removal.by_hand)},
            )
    return redirect("content:share_detail", org_slug=request.organization.slug, share_id=share_id)


@org_view(Permission.FEED_USE)
@require_POST
def delivery_attach(request, delivery_id):
    """The employee pastes the link of a post the network has but never named to us."""
    delivery = get_for_org_or_404(Delivery, request.organization, pk=delivery_id, share__author_id=request.user.pk)
    form = AttachPostForm(request.POST)
    if form.is_valid():
        done = call_service(
            request,
            None,
            lambda: publishing.attach_post_link(
                actor=request.membership, delivery_id=delivery.pk, url=form.cleaned_data["url"]
            ),
        )
        if done is not None:
            messages.success(
                request,
                _("Attached: the %(network)s post is linked to this share.") % {"network": done.get_network_display()},
            )
    else:
        messages.error(request, _("Paste the address of the post, starting with https://."))
    return redirect("content:share_detail", org_slug=request.organization.slug, share_id=delivery.share_id)

"""The employee's pages: the feed, the composer, my shares."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import Network, SocialConnection
from accounts.services import guidelines as guideline_services
from advocacy.tenancy import get_for_org_or_404
from advocacy.timezones import zone_name_for
from advocacy.views import call_service, org_view, paginate
from content import lifecycle
from content.forms import AttachPostForm, EditShareForm, ShareForm
from content.models import Delivery, Share, Topic
from content.selectors.sharing import feed_for, live_items, shares_of, targeted_at, with_colleague_counts
from content.services import publishing, sharing


@org_view("feed.use")
def feed(request):
    membership = request.membership
    topic = request.GET.get("topic", "")[:80]
    search = request.GET.get("q", "").strip()[:100]
    followed = request.GET.get("followed") == "1"
    items = paginate(request, feed_for(membership, topic=topic, search=search, followed=followed), per_page=20)
    items.object_list = with_colleague_counts(items.object_list, membership)
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


@org_view("feed.use")
@require_POST
def topic_follow(request, topic_id):
    topic = get_for_org_or_404(Topic, request.organization, pk=topic_id)
    if request.POST.get("follow") == "1":
        topic.followers.add(request.membership)
        messages.success(request, f"You follow {topic.name}.")
    else:
        topic.followers.remove(request.membership)
        messages.success(request, f"You no longer follow {topic.name}.")
    return redirect("content:feed", org_slug=request.organization.slug)


def _composer_item(request, content_item_id):
    item = (
        targeted_at(live_items(request.organization), request.membership)
        .filter(pk=content_item_id)
        .prefetch_related("suggestions")
        .first()
    )
    if item is None:
        raise Http404("No content found")  # another org's, expired, or not for this member: one answer
    return item


@org_view("feed.use")
def compose(request, content_item_id):
    membership = request.membership
    item = _composer_item(request, content_item_id)
    connections = list(SocialConnection.objects.for_org(membership.organization_id).filter(user_id=membership.user_id))
    targets = sharing.targets_for(membership, connections)
    suggestions = list(item.suggestions.all())
    start = sharing.pick_suggestion(item, membership, suggestions)
    zone = zone_name_for(request.user, request.organization)
    initial = {"commentary": start.text if start else "", "suggestion": start.pk if start else None}
    form = ShareForm(request.POST or None, targets=targets, zone=zone, initial=initial)
    gates = sharing.sharing_gates(membership, zone=zone)
    guideline = _composer_guideline(membership)
    if request.method == "POST" and "accept_guideline" in request.POST:
        guideline, form = _accept_guidelines_keeping_draft(request, form, guideline, targets, zone)
    elif request.method == "POST" and "schedule_next" in request.POST:
        form = ShareForm(_at_next_time(request.POST, gates, zone), targets=targets, zone=zone, initial=initial)
    repeat = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def submit():
            nonlocal repeat
            try:
                return sharing.submit_share(
                    membership=membership,
                    item_id=item.pk,
                    commentary=data["commentary"],
                    target_keys=data["targets"],
                    scheduled_for=data["scheduled_for"],
                    suggestion_id=data.get("suggestion"),
                    submit_key=data.get("submit_token") or "",
                    confirm_repeat=data.get("confirm_repeat") or False,
                )
            except sharing.RepeatShare as exc:
                repeat = exc.message
                raise

        share = call_service(request, form, submit)
        if share is not None:
            if share.replayed:
                messages.info(request, "You already submitted this share; here it is. Nothing was posted twice.")
                return redirect("content:share_detail", org_slug=request.organization.slug, share_id=share.pk)
            messages.success(request, _submitted_message(share))
            return redirect("content:my_shares", org_slug=request.organization.slug)
    commentary = form["commentary"].value() or ""
    chosen = form["targets"].value() or []
    context = {
        "form": form,
        "targets": targets,
        "suggestions": suggestions,
        "start": start,
        "shares_left": gates.left_today,
        "posting_hours": gates.hours,
        "repeat": repeat,
        "gates": gates,
        "guideline_gate": guideline,
        "guidelines_banner": None,  # the composer shows the guidelines themselves, with the draft kept
        **_live_context(request, item, commentary, chosen, targets, start),
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
        lambda: guideline_services.accept_guidelines(request.membership, request.POST.get("accept_guideline")),
    )
    if accepted is not None:
        request.membership.pending_guideline_version = None
        guideline = None
        messages.success(
            request,
            f"Thank you: you accepted version {accepted.guideline.version} of the guidelines. Your draft is kept.",
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


def _checks(commentary: str, chosen: list[str], targets, texts: dict[str, str]) -> dict:
    networks = sorted({t.network for t in targets if t.key in chosen}) or [n.value for n in Network]
    return {Network(net).label: check for net, check in sharing.text_checks(commentary, networks, texts).items()}


def _live_context(request, item, commentary: str, chosen: list[str], targets, started_from) -> dict:
    """What the composer shows beside the text: counts, a preview and findings per network,
    all of the text as it will be posted (the policy's disclosure included)."""
    networks = sorted({t.network for t in targets if t.key in chosen})
    screening = sharing.screen_draft(request.membership, item, commentary, networks, started_from)
    stand_in = settings.SITE_URL + "/r/…"
    previews = {
        Network(net).label: screening.texts[net].replace(sharing.sample_link(), stand_in)
        if screening.texts.get(net)
        else sharing.preview_text(net, commentary)
        for net in networks
    }
    return {
        "checks": _checks(commentary, chosen, targets, screening.texts),
        "previews": previews,
        "findings": {Network(net).label: found for net, found in screening.findings.items() if found},
        "commentary": commentary,
        "item": item,
        "needs_personal_words": started_from is not None and commentary.strip() == started_from.text.strip(),
    }


@org_view("feed.use")
@require_POST
def compose_check(request, content_item_id):
    """htmx: the live character count, preview and compliance findings per chosen network."""
    item = _composer_item(request, content_item_id)
    suggestions = {s.pk: s for s in item.suggestions.all()}
    started_from = suggestions.get(int(request.POST.get("suggestion") or 0))
    context = _live_context(
        request,
        item,
        request.POST.get("commentary", ""),
        request.POST.getlist("targets"),
        sharing.targets_for(request.membership),
        started_from,
    )
    return render(request, "content/_compose_checks.html", context)


def _submitted_message(share: Share) -> str:
    if share.status == Share.Status.REJECTED:
        return f"Your share was not accepted: {share.review_comment}"
    if share.status == Share.Status.IN_REVIEW:
        return "Submitted. Compliance will review it; you will hear back."
    if share.status == Share.Status.SCHEDULED:
        return "Approved and scheduled."
    return "Approved. It goes out shortly; assisted shares wait for you below."


@org_view("feed.use")
def my_shares(request):
    shares = paginate(request, shares_of(request.membership), per_page=20)
    return render(request, "content/my_shares.html", {"shares": shares})


@org_view("feed.use")
def share_detail(request, share_id):
    share = get_for_org_or_404(Share, request.organization, pk=share_id, author_id=request.user.pk)
    form = EditShareForm(request.POST or None, initial={"commentary": share.commentary})
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: sharing.edit_share(
                membership=request.membership,
                share_id=share.pk,
                commentary=form.cleaned_data["commentary"],
                scheduled_for=share.scheduled_for,
            ),
        )
        if saved is not None:
            messages.success(request, f"Saved as version {saved.version}. " + _submitted_message(saved))
            return redirect("content:my_shares", org_slug=request.organization.slug)
    deliveries = list(Delivery.objects.for_org(request.organization).filter(share=share).select_related("connection"))
    for delivery in deliveries:
        delivery.share = share
        delivery.assisted_url = sharing.assisted_share_url(delivery) if delivery.mode == "assisted" else ""
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


@org_view("feed.use")
@require_POST
def share_cancel(request, share_id):
    get_for_org_or_404(Share, request.organization, pk=share_id, author_id=request.user.pk)
    if call_service(request, None, lambda: sharing.cancel_share(membership=request.membership, share_id=share_id)):
        messages.success(request, "Cancelled: nothing will be posted.")
    return redirect("content:my_shares", org_slug=request.organization.slug)


@org_view("feed.use")
@require_POST
def delivery_assisted_done(request, delivery_id):
    get_for_org_or_404(Delivery, request.organization, pk=delivery_id, share__author_id=request.user.pk)
    delivery = call_service(
        request, None, lambda: sharing.confirm_assisted_share(membership=request.membership, delivery_id=delivery_id)
    )
    if delivery is not None:
        messages.success(request, f"Recorded: you shared it on {delivery.get_network_display()}.")
        return redirect("content:share_detail", org_slug=request.organization.slug, share_id=delivery.share_id)
    return redirect("content:my_shares", org_slug=request.organization.slug)


@org_view("feed.use")
@require_POST
def delivery_retry(request, delivery_id):
    """The employee's "retry" on a failed post (a double click queues it once)."""
    delivery = get_for_org_or_404(Delivery, request.organization, pk=delivery_id, share__author_id=request.user.pk)
    done = call_service(
        request, None, lambda: publishing.retry_delivery(membership=request.membership, delivery_id=delivery.pk)
    )
    if done is not None:
        messages.success(request, f"Queued again for {done.get_network_display()}. It goes out shortly.")
    return redirect("content:share_detail", org_slug=request.organization.slug, share_id=delivery.share_id)


def _and(words: list[str]) -> str:
    words = sorted(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


@org_view("feed.use")
@require_POST
def share_delete_published(request, share_id):
    """Take a published share down from the networks where we posted it."""
    get_for_org_or_404(Share, request.organization, pk=share_id, author_id=request.user.pk)
    removal = call_service(
        request, None, lambda: publishing.delete_published_share(membership=request.membership, share_id=share_id)
    )
    if removal is not None:
        if removal.removed:
            messages.success(request, f"Removed from {_and(removal.removed)}.")
        for problem in removal.problems:
            messages.error(request, problem)
        if removal.by_hand:
            messages.warning(
                request, f"You posted it yourself on {_and(removal.by_hand)}: delete it there, in the network's app."
            )
    return redirect("content:share_detail", org_slug=request.organization.slug, share_id=share_id)


@org_view("feed.use")
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
                membership=request.membership, delivery_id=delivery.pk, url=form.cleaned_data["url"]
            ),
        )
        if done is not None:
            messages.success(request, f"Attached: the {done.get_network_display()} post is linked to this share.")
    else:
        messages.error(request, "Paste the address of the post, starting with https://.")
    return redirect("content:share_detail", org_slug=request.organization.slug, share_id=delivery.share_id)

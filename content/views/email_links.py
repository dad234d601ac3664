"""The one-click share page behind the digest's "Share" button (content.services.email_links).

A GET shows what will be shared (the composer's words and accounts, as the composer would
start) and writes nothing; the page's one button POSTs, and the share goes through the
composer's service and review path. An expired, changed or used link gets a page that says
so in plain words; a link of another member is refused; another organization's is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import Permission
from advocacy.errors import ApplicationError, Conflict, NotAllowed, NotFound
from advocacy.timezones import zone_name_for
from advocacy.views import call_service, org_view
from content.forms import ShareForm
from content.models import Delivery
from content.services import email_links
from content.views.sharing import composer_defaults, composer_item, submitted_message


def _refused(request, exc: ApplicationError):
    if isinstance(exc, Conflict):
        title, status = _("Link already used"), 409
    elif isinstance(exc, NotAllowed):
        title, status = _("Not your link"), 403
    elif isinstance(exc, email_links.LinkExpired):
        title, status = _("Link expired"), 410
    else:
        title, status = _("Link not valid"), 400
    return render(request, "content/email_share_refused.html", {"title": title, "message": exc.message}, status=status)


@org_view(Permission.FEED_USE)
def email_share(request, token):
    membership = request.membership
    try:
        link = email_links.read_share_link(token)
        email_links.check_link_for(membership, link)
    except NotFound:
        raise Http404("No such link") from None
    except ApplicationError as exc:
        return _refused(request, exc)
    item = composer_item(request, link.item_id)  # no longer live or not for them: 404
    targets, _suggestions, start, initial = composer_defaults(membership, item)
    zone = zone_name_for(request.user, request.organization)
    form = ShareForm(request.POST or None, targets=targets, zone=zone, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        share = call_service(
            request,
            form,
            lambda: email_links.share_from_link(
                actor=membership,
                link=link,
                commentary=data["commentary"],
                target_keys=data["targets"],
                network_texts=form.network_texts(),
                suggestion_id=data.get("suggestion"),
                scheduled_for=data["scheduled_for"],
            ),
        )
        if share is not None:
            messages.success(request, submitted_message(share))
            return redirect("content:my_shares", org_slug=request.organization.slug)
    context = {
        "form": form,
        "item": item,
        "start": start,
        "api_targets": [t for t in targets if t.mode == Delivery.Mode.API and not t.disabled_reason],
        "assisted_targets": [t for t in targets if t.mode == Delivery.Mode.ASSISTED],
        "chosen": form["targets"].value() or [],
    }
    return render(request, "content/email_share.html", context)

"""The admin's list of posts held because their author was suspended: release or cancel each."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Permission
from advocacy.views import call_service, org_view, paginate
from content.models import Share
from content.selectors.sharing import held_shares
from content.services import held


@org_view(Permission.MEMBERS_MANAGE)
def held_list(request):
    page = paginate(request, held_shares(request.organization))
    return render(request, "content/held_shares.html", {"shares": page})


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def held_release(request, share_id):
    # One 404 path: the service looks the share up in the organization (NotFound -> 404).
    released = call_service(
        request,
        None,
        lambda: held.release_held_share(actor=request.membership, share_id=share_id),
        not_found_404=True,
    )
    if released is not None:
        words = {
            Share.Status.IN_REVIEW: _("Released the post by %(email)s: back to the reviewers."),
            Share.Status.PUBLISHING: _("Released the post by %(email)s: its remaining posts on their way."),
        }.get(released.status, _("Released the post by %(email)s: on its way as approved."))
        messages.success(request, words % {"email": released.author.email})
    return redirect("content:held_list", org_slug=request.organization.slug)


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def held_cancel(request, share_id):
    if call_service(
        request, None, lambda: held.cancel_held_share(actor=request.membership, share_id=share_id), not_found_404=True
    ):
        messages.success(request, _("Cancelled: nothing will be posted. The post and its history are kept."))
    return redirect("content:held_list", org_slug=request.organization.slug)

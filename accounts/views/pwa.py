"""The share target of the installable app: a page shared from the phone's share sheet."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts import selectors

URL_IN_TEXT = re.compile(r"https?://\S+")


@login_required
@require_GET
def share_target(request):
    """The manifest's share_target (GET, so that nothing happens here): send the employee to
    the proposal form of the organization they last worked in, pre-filled with the shared
    link and words; they send the proposal themselves (a POST with the form's CSRF token).

    Why GET: the OS's share sheet sends no CSRF token, so a POST share target would need a
    CSRF exemption for a request that changes something; with GET the shared page is only
    shown in a form. Many apps put the link in `text` rather than `url`: the first link
    found there is used then."""
    memberships = list(selectors.memberships_of(request.user))
    if not memberships:
        return render(request, "accounts/no_organization.html")
    chosen = next((m for m in memberships if m.organization_id == request.user.last_organization_id), memberships[0])
    title = request.GET.get("title", "").strip()
    text = request.GET.get("text", "").strip()
    url = request.GET.get("url", "").strip()
    if not url and (found := URL_IN_TEXT.search(text)):
        url = found.group(0)
        text = (text[: found.start()] + text[found.end() :]).strip()
    reason = "\n".join(part for part in (title, text) if part)
    params = {key: value[:2000] for key, value in (("url", url), ("reason", reason)) if value}
    target = reverse("content:propose_content", kwargs={"org_slug": chosen.organization.slug})
    return redirect(f"{target}?{urlencode(params)}" if params else target)

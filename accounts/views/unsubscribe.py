"""One-click unsubscribe (RFC 8058) behind every notification and digest e-mail.

No login: the signed link is the proof. A POST (the mail provider's one-click POST with
`List-Unsubscribe=One-Click`, or the page's one button) turns that kind of e-mail off; a GET
only shows the button. CSRF-exempt on purpose: the mail provider posts without a session,
and the link's signature, not a cookie, says who asks.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.services import unsubscribe as unsubscribe_services
from advocacy.errors import NotFound, ValidationFailed


@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token):
    try:
        if request.method == "POST":
            membership, kind = unsubscribe_services.unsubscribe(token=token)
            done = True
        else:
            membership, kind = unsubscribe_services.read_unsubscribe_link(token)
            done = False
    except NotFound:
        raise Http404("No such member") from None
    except ValidationFailed as exc:
        return render(request, "accounts/email_unsubscribe.html", {"problem": exc.message}, status=400)
    context = {
        "organization": membership.organization,
        "kind_label": unsubscribe_services.kind_label(kind),
        "done": done,
    }
    return render(request, "accounts/email_unsubscribe.html", context)

"""The member's devices for Web Push: the browser's PushSubscription in, JSON out
(static/js/push.js posts them with the page's CSRF token)."""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from accounts.services import push as push_services
from advocacy.errors import ApplicationError
from advocacy.views import org_view


def _body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _refused(exc: ApplicationError) -> JsonResponse:
    return JsonResponse({"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}}, status=exc.status)


@org_view()
@require_POST
def push_subscribe(request):
    """Save this browser's PushSubscription (`PushSubscription.toJSON()`) for the member."""
    data = _body(request)
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    try:
        device = push_services.subscribe_device(
            actor=request.membership,
            endpoint=data.get("endpoint", ""),
            p256dh=keys.get("p256dh", ""),
            auth=keys.get("auth", ""),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except ApplicationError as exc:
        return _refused(exc)
    # Remembered for sign-out (accounts.adapter): a shared phone stops receiving this
    # member's notifications when they sign out.
    endpoints = [*request.session.get(push_services.SESSION_ENDPOINTS, []), device.endpoint]
    request.session[push_services.SESSION_ENDPOINTS] = endpoints[-push_services.DEVICES_PER_MEMBER :]
    return JsonResponse({"subscribed": True}, status=201)


@org_view()
@require_POST
def push_unsubscribe(request):
    """Forget this browser (its endpoint) for the member; not the member's: 404."""
    try:
        push_services.unsubscribe_device(actor=request.membership, endpoint=_body(request).get("endpoint", ""))
    except ApplicationError as exc:
        return _refused(exc)
    return JsonResponse({"subscribed": False})

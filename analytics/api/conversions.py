"""The server-to-server conversion API: `POST /api/v1/o/<org>/conversions/`.

Authenticated by an organization's conversion key (`Authorization: Bearer cvk_...`), which
can do this and nothing else; a key of another organization (or none) answers 404 / 401.
Idempotent by the caller's `event_id`: 201 the first time, 200 with the same conversion for
a replay, 409 when the id was used for another event. Attribution and its rules:
`analytics.services.conversions`.
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from advocacy.bearer_keys import BearerKeyAuthentication
from analytics.models import Conversion, ConversionKey
from analytics.services import conversions


class ConversionKeyAuthentication(BearerKeyAuthentication):
    kind = "cvk"
    what = "conversion key"

    def resolve(self, plain: str):
        key = conversions.authenticate_key(plain)
        return None if key is None else (None, key)


class ConversionKeyScheme(OpenApiAuthenticationExtension):
    target_class = ConversionKeyAuthentication
    name = "conversionKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organization's conversion key (`cvk_...`): reports conversions, nothing else.",
        }


class HasConversionKey(permissions.BasePermission):
    """Only this organization's key. Anyone else who is signed in (a member of any
    organization, a personal token, another organization's key) gets the same 404 as for an
    organization that does not exist; only a caller with no credential at all is asked for one."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ConversionKey):
            session = getattr(request._request, "session", None)
            signed_in = (session is not None and SESSION_KEY in session) or authentication.get_authorization_header(
                request
            )
            if signed_in:
                raise exceptions.NotFound(_("Not found."))
            raise exceptions.NotAuthenticated(_("Send the organization's conversion key as a Bearer token."))
        if request.auth.organization.slug != view.kwargs.get("org_slug"):
            raise exceptions.NotFound(_("Not found."))
        return True


class ConversionEventSerializer(serializers.Serializer):
    """What the caller sends (checked by the service, which names every bad field)."""

    event_id = serializers.CharField(
        max_length=100, help_text=gettext_lazy("Your own id of the event; a replay repeats it.")
    )
    event_name = serializers.CharField(max_length=64, help_text=gettext_lazy("signup, purchase, demo_request, ..."))
    value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False, help_text=gettext_lazy("When it happened (default: now)."))
    tracking_code = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text=gettext_lazy("The utm_content of the landing URL.")
    )
    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("The visitor's e-mail, kept only as a keyed hash: matches the CRM deal it becomes."),
    )


class ConversionSerializer(serializers.ModelSerializer):
    network = serializers.CharField(allow_blank=True)

    class Meta:
        model = Conversion
        fields = [
            "event_id",
            "event_name",
            "value",
            "currency",
            "value_counted",
            "occurred_at",
            "tracking_code",
            "status",
            "reason",
            "attribution",
            "clicked_at",
            "network",
            "replays",
        ]
        read_only_fields = fields


class ConversionView(APIView):
    authentication_classes = [ConversionKeyAuthentication]
    permission_classes = [HasConversionKey]

    @extend_schema(
        request=ConversionEventSerializer,
        responses={201: ConversionSerializer, 200: ConversionSerializer},
        summary="Report a conversion (idempotent by event_id)",
    )
    def post(self, request, org_slug: str):
        key = request.auth
        data = request.data if isinstance(request.data, dict) else {}
        event = conversions.parse_event(data, now=timezone.now())
        conversion, created = conversions.record(organization=key.organization, event=event)
        return Response(
            ConversionSerializer(conversion).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

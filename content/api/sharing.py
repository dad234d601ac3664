"""REST endpoints for the employee's shares and their deliveries (same rules as the pages)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import Permission
from advocacy.api import StrictBooleanField, StrictCharField
from advocacy.viewsets import OrgViewSet
from content.models import Delivery, Share
from content.selectors.sharing import shares_of
from content.services import sharing


class DeliverySerializer(serializers.ModelSerializer):
    tracked_url = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "network",
            "mode",
            "status",
            "text",
            "tracked_url",
            "remote_id",
            "remote_url",
            "attempts",
            "last_error",
            "published_at",
        ]

    def get_tracked_url(self, obj: Delivery) -> str:
        return sharing.tracked_url(obj)


class ShareSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Share
        fields = [
            "id",
            "item",
            "commentary",
            "network_texts",
            "status",
            "version",
            "scheduled_for",
            "is_personalised",
            "review_comment",
            "submitted_at",
            "deliveries",
        ]


class ShareCreateSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    commentary = StrictCharField(allow_blank=True)
    network_texts = serializers.DictField(
        child=StrictCharField(allow_blank=True),
        required=False,
        help_text=_(
            'The words adapted for one network, e.g. {"x": "Shorter for X"}; a network without '
            "an entry posts `commentary`."
        ),
    )
    targets = serializers.ListField(child=StrictCharField(), help_text=_('"connection:<id>" or "assisted:<network>"'))
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True, help_text=_("ISO 8601 with offset"))
    suggestion = serializers.IntegerField(required=False, allow_null=True)
    confirm_repeat = StrictBooleanField(
        required=False,
        default=False,
        help_text=_(
            "Post it although this item went to one of these accounts in the last day "
            "(without it that answers 409 with code repeat_share)."
        ),
    )


class ShareResubmitSerializer(serializers.Serializer):
    commentary = StrictCharField(allow_blank=True)
    network_texts = serializers.DictField(
        child=StrictCharField(allow_blank=True),
        required=False,
        help_text=_(
            'The words adapted for one network, e.g. {"x": "Shorter for X"}; left out, the share keeps the ones it has'
        ),
    )
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)


class ShareViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The caller's own shares. Create one, cancel it, or resubmit new words (a new version)."""

    serializer_class = ShareSerializer
    queryset = Share.objects.none()  # for the schema only
    lookup_url_kwarg = "share_id"
    default_permission = Permission.FEED_USE

    def get_queryset(self):
        return shares_of(self.membership)

    @extend_schema(
        request=ShareCreateSerializer,
        responses={201: ShareSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string per share (e.g. a UUID). The same key with the same body "
                "answers the first share again (header Idempotent-Replayed: true); with another body, 409.",
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = ShareCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        share = sharing.submit_share(
            actor=self.membership,
            item_id=v["item"],
            commentary=v["commentary"],
            network_texts=v.get("network_texts"),
            target_keys=v["targets"],
            scheduled_for=v.get("scheduled_for"),
            suggestion_id=v.get("suggestion"),
            submit_key=request.headers.get("Idempotency-Key", ""),
            confirm_repeat=v["confirm_repeat"],
        )
        response = Response(ShareSerializer(self.get_queryset().get(pk=share.pk)).data, status=201)
        if share.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(request=None, responses=ShareSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        share = sharing.cancel_share(actor=self.membership, share_id=self.get_object().pk)
        return Response(ShareSerializer(self.get_queryset().get(pk=share.pk)).data)

    @extend_schema(request=ShareResubmitSerializer, responses=ShareSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, *args, **kwargs):
        current = self.get_object()
        data = ShareResubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        share = sharing.edit_share(
            actor=self.membership,
            share_id=current.pk,
            commentary=data.validated_data["commentary"],
            network_texts=data.validated_data.get("network_texts"),
            scheduled_for=data.validated_data.get("scheduled_for", current.scheduled_for),
        )
        return Response(ShareSerializer(self.get_queryset().get(pk=share.pk)).data)


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The caller's own deliveries (read only)."""

    serializer_class = DeliverySerializer
    queryset = Delivery.objects.none()  # for the schema only
    lookup_url_kwarg = "delivery_id"
    default_permission = Permission.FEED_USE

    def get_queryset(self):
        return Delivery.objects.for_org(self.organization).filter(share__author_id=self.request.user.pk)

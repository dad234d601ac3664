"""REST endpoints for the content library (same services and rules as the pages).

Marketers (`library.manage`) see and change every item; other members read only the
items live for them now (published, inside the dates, for everyone or one of their teams).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api import TeamRefSerializer
from accounts.models import Network
from accounts.permissions import Permission, can
from advocacy.api import StrictBooleanField, StrictCharField, StrictDateTimeField
from advocacy.errors import ValidationFailed
from advocacy.viewsets import OrgViewSet, no_content
from content.models import ContentItem, Suggestion, Topic
from content.selectors import library as selectors
from content.services import library as services

MANAGE = Permission.LIBRARY_MANAGE


class TopicSerializer(serializers.ModelSerializer):
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Topic
        fields = ["id", "name", "slug", "item_count"]
        read_only_fields = ["slug"]


class TopicRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["id", "name", "slug"]


class SuggestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suggestion
        fields = ["id", "text", "network", "position"]


class ContentItemSerializer(serializers.ModelSerializer):
    topics = TopicRefSerializer(many=True, read_only=True)
    target_teams = TeamRefSerializer(many=True, read_only=True)
    suggestions = SuggestionSerializer(many=True, read_only=True)
    suggestion_count = serializers.IntegerField(read_only=True)
    share_count = serializers.IntegerField(read_only=True)
    image = serializers.SerializerMethodField()

    class Meta:
        model = ContentItem
        fields = [
            "id",
            "title",
            "slug",
            "url",
            "canonical_url",
            "description",
            "image",
            "image_alt_text",
            "image_url",
            "status",
            "featured",
            "topics",
            "target_teams",
            "starts_at",
            "expires_at",
            "suggestions",
            "suggestion_count",
            "share_count",
            "source",
            "unfurl_status",
            "unfurl_error",
            "created_at",
            "updated_at",
            "published_at",
        ]

    def get_image(self, obj: ContentItem) -> str | None:
        """The uploaded image's address, or null (`image_url` is the page's own image)."""
        if not obj.image:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(obj.image.url) if request else obj.image.url


class SuggestionWriteSerializer(serializers.Serializer):
    text = StrictCharField(max_length=services.MAX_SUGGESTION_LENGTH)
    network = serializers.ChoiceField(choices=[("", _("every network")), *Network.choices], required=False, default="")


class ContentItemWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    title = StrictCharField(max_length=300, allow_blank=True, required=False)
    description = StrictCharField(allow_blank=True, required=False)
    image = serializers.FileField(
        required=False,
        allow_null=True,
        help_text=_("Multipart upload: JPEG, PNG, GIF or WebP up to 5 MB; null removes."),
    )
    image_alt_text = StrictCharField(
        max_length=1000,
        allow_blank=True,
        required=False,
        help_text=_("Describes the picture for people who cannot see it; a picture without it is not posted."),
    )
    image_url = serializers.URLField(max_length=2000, allow_blank=True, required=False)
    featured = StrictBooleanField(required=False)
    topics = serializers.ListField(child=StrictCharField(max_length=80), required=False, help_text=_("Names."))
    target_team_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text=_("Empty = everyone in the organization.")
    )
    starts_at = StrictDateTimeField(required=False, allow_null=True)
    expires_at = StrictDateTimeField(required=False, allow_null=True)
    suggestions = SuggestionWriteSerializer(many=True, required=False, help_text=_("In order; replaces the list."))


def _service_kwargs(data: dict) -> dict:
    kwargs = {k: v for k, v in data.items() if k not in ("target_team_ids", "suggestions")}
    if "target_team_ids" in data:
        kwargs["target_teams"] = data["target_team_ids"]
    if "suggestions" in data:
        kwargs["suggestions"] = [services.SuggestionInput(s["text"], s.get("network", "")) for s in data["suggestions"]]
    return kwargs


# Archived items are gone from the API (DELETE archives): no status filter shows them.
LISTED_STATUSES = [s for s in ContentItem.Status.values if s != ContentItem.Status.ARCHIVED]

LIST_PARAMETERS = [
    OpenApiParameter(
        "status", enum=LISTED_STATUSES, required=False, description="Marketers only (others see live items)."
    ),
    OpenApiParameter("topic", str, required=False, description="A topic's slug."),
    OpenApiParameter("search", str, required=False),
]


class ContentItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Library items. Marketers create, change, publish, unpublish and archive (DELETE);
    `unfurl` fetches the page again to fill empty fields. An archived item is gone from the
    API: reading or changing it answers 404 and lists leave it out (it stays in reports, in
    the shares made of it, and on the library page, where it can be restored)."""

    serializer_class = ContentItemSerializer
    queryset = ContentItem.objects.none()  # for the schema only; rows come from get_queryset()
    lookup_url_kwarg = "content_item_id"
    permissions = {
        "create": MANAGE,
        "update": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "publish": MANAGE,
        "unpublish": MANAGE,
        "unfurl": MANAGE,
    }

    def get_queryset(self):
        org = self.organization
        params = self.request.query_params
        topic, search = params.get("topic", "")[:80], params.get("search", "").strip()[:100]
        status = params.get("status")
        if self.action == "list" and status is not None and status not in LISTED_STATUSES:
            raise ValidationFailed(
                _("Unknown status %(status)s; use one of %(statuses)s.")
                % {"status": f"{status!r}", "statuses": ", ".join(LISTED_STATUSES)},
                fields={"status": [_("Unknown status.")]},
            )
        if not can(self.membership, MANAGE):
            return selectors.live_items_for(self.membership, topic=topic, search=search)
        if self.action != "list":
            return selectors.item_detail(org, include_archived=False)
        return selectors.library_items(org, status=status or "", topic=topic, search=search).prefetch_related(
            Prefetch("suggestions", queryset=Suggestion.objects.for_org(org).order_by("position", "pk"))
        )

    @extend_schema(parameters=LIST_PARAMETERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _fresh(self, item: ContentItem, status: int = 200) -> Response:
        item = selectors.item_detail(self.organization, include_archived=False).get(pk=item.pk)
        return Response(ContentItemSerializer(item, context=self.get_serializer_context()).data, status=status)

    @extend_schema(request=ContentItemWriteSerializer, responses={201: ContentItemSerializer})
    def create(self, request, *args, **kwargs):
        data = ContentItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.create_item(actor=self.membership, **_service_kwargs(data.validated_data))
        return self._fresh(item, status=201)

    @extend_schema(request=ContentItemWriteSerializer, responses=ContentItemSerializer)
    def update(self, request, *args, **kwargs):
        item = self.get_object()
        data = ContentItemWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        item = services.update_item(actor=self.membership, item=item, **_service_kwargs(data.validated_data))
        return self._fresh(item)

    @extend_schema(request=ContentItemWriteSerializer, responses=ContentItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        """Archive: out of the feed, kept for reports and shares already made."""
        services.archive_item(actor=self.membership, item=self.get_object())
        return no_content()

    @extend_schema(request=None, responses=ContentItemSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        return self._fresh(services.publish_item(actor=self.membership, item=self.get_object()))

    @extend_schema(request=None, responses=ContentItemSerializer)
    @action(detail=True, methods=["post"])
    def unpublish(self, request, *args, **kwargs):
        return self._fresh(services.unpublish_item(actor=self.membership, item=self.get_object()))

    @extend_schema(request=None, responses={202: ContentItemSerializer})
    @action(detail=True, methods=["post"])
    def unfurl(self, request, *args, **kwargs):
        return self._fresh(services.request_unfurl(actor=self.membership, item=self.get_object()), status=202)


class TopicCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=80)


class TopicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Topics employees follow and marketers file items under."""

    serializer_class = TopicSerializer
    queryset = Topic.objects.none()  # for the schema only
    lookup_url_kwarg = "topic_id"
    permissions = {"create": MANAGE}

    def get_queryset(self):
        return selectors.topics_of(self.organization)

    @extend_schema(request=TopicCreateSerializer, responses={201: TopicSerializer})
    def create(self, request, *args, **kwargs):
        data = TopicCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        topic = services.create_topic(actor=self.membership, name=data.validated_data["name"])
        return Response(TopicSerializer(self.get_queryset().get(pk=topic.pk)).data, status=201)

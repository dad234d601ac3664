"""Read-only API over the audit trail: list (filtered like the page) and retrieve. No writes:
entries are only ever appended by the product itself."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers

from advocacy.viewsets import OrgViewSet
from compliance.audit_selectors import AuditFilters, audit_entries
from compliance.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True, read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "sequence",
            "at",
            "actor",
            "actor_label",
            "ip",
            "action",
            "target_type",
            "target_id",
            "before",
            "after",
            "previous_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    action = serializers.CharField(required=False, allow_blank=True, max_length=80)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


@extend_schema(
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, description="text in action, actor, target type; or a target id"),
        OpenApiParameter("action", OpenApiTypes.STR, description='action prefix, e.g. "share."'),
        OpenApiParameter("date_from", OpenApiTypes.DATE, description="first day (organization's time zone)"),
        OpenApiParameter("date_to", OpenApiTypes.DATE, description="last day (organization's time zone)"),
    ]
)
class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The organization's audit trail, newest first. Compliance officers only; read-only."""

    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # for the schema only
    lookup_url_kwarg = "audit_entry_id"
    default_permission = "compliance.audit"

    def get_queryset(self):
        if self.action == "list":
            params = AuditFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            return audit_entries(self.organization, AuditFilters(**params.validated_data))
        return audit_entries(self.organization)

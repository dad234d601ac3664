"""Read-only API over the audit trail: list (filtered like the page) and retrieve. No writes:
entries are only ever appended by the product itself."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from accounts.permissions import Permission
from advocacy.viewsets import OrgViewSet
from compliance.models import AuditEntry
from compliance.selectors.audit import AuditFilters, audit_entries


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
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("text in action, actor, target type; or a target id"),
    )
    action = serializers.CharField(
        required=False, allow_blank=True, max_length=80, help_text=_('action prefix, e.g. "share."')
    )
    date_from = serializers.DateField(required=False, help_text=_("first day (organization's time zone)"))
    date_to = serializers.DateField(required=False, help_text=_("last day (organization's time zone)"))


class AuditEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The organization's audit trail, newest first. Compliance officers only; read-only."""

    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # for the schema only
    lookup_url_kwarg = "audit_entry_id"
    default_permission = Permission.COMPLIANCE_AUDIT

    @extend_schema(parameters=[AuditFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action == "list":
            # a plain dict: an empty date is refused, not read as "no date" the way a form's is
            params = AuditFilterSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            return audit_entries(self.organization, AuditFilters(**params.validated_data))
        return audit_entries(self.organization)

"""REST endpoints of supervision: list, add and remove who supervises which team, location or
role, and the fallback pool. The same selectors and services as the supervision page
(`compliance.services.supervision`): bad input is refused in the API's error shape and
writes nothing; every change is audited; another organization's assignment is 404."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers
from rest_framework.response import Response

from accounts.models import Role
from accounts.permissions import Permission
from advocacy.viewsets import OrgViewSet, no_content
from compliance.models import SupervisionAssignment
from compliance.selectors import supervision as supervision_selectors
from compliance.services import supervision as services


class SupervisionAssignmentSerializer(serializers.ModelSerializer):
    reviewer = serializers.IntegerField(source="reviewer_id", help_text=_("user id of a compliance officer"))
    reviewer_email = serializers.EmailField(source="reviewer.email", read_only=True)
    scope = serializers.ChoiceField(choices=SupervisionAssignment.Scope.choices)
    team = serializers.IntegerField(source="team_id", required=False, allow_null=True, default=None)
    role = serializers.ChoiceField(choices=Role.choices, required=False, allow_blank=True, default="")
    supervises = serializers.CharField(source="describe_target", read_only=True, help_text=_("In plain words."))

    class Meta:
        model = SupervisionAssignment
        fields = ["id", "reviewer", "reviewer_email", "scope", "team", "role", "supervises", "created_at"]
        read_only_fields = ["id", "created_at"]


class SupervisionAssignmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, OrgViewSet
):
    """Who supervises whose posts (FINRA 3110): a team or location, a role, or the fallback pool."""

    default_permission = Permission.COMPLIANCE_POLICY
    serializer_class = SupervisionAssignmentSerializer
    queryset = SupervisionAssignment.objects.none()  # for the schema only
    lookup_url_kwarg = "supervision_assignment_id"

    def get_queryset(self):
        return supervision_selectors.supervision_assignments(self.organization.pk)

    def create(self, request, *args, **kwargs):
        data = SupervisionAssignmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        assignment = services.add_supervisor(
            actor=self.membership,
            reviewer_id=v["reviewer_id"],
            scope=v["scope"],
            team_id=v.get("team_id"),
            role=v.get("role", ""),
        )
        return Response(SupervisionAssignmentSerializer(assignment).data, status=201)

    def destroy(self, request, *args, **kwargs):
        services.remove_supervisor(actor=self.membership, supervision_assignment_id=self.get_object().pk)
        return no_content()

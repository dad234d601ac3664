"""REST endpoints for members, teams, invitations and the caller's own identity."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import Invitation, Membership, Role, SocialConnection, Team
from accounts.permissions import Permission
from accounts.services import connections as connection_services
from advocacy.api import strict_field_mapping
from advocacy.errors import ValidationFailed
from advocacy.viewsets import OrgViewSet, no_content


class TeamSerializer(serializers.ModelSerializer):
    serializer_field_mapping = strict_field_mapping(serializers.ModelSerializer.serializer_field_mapping)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "member_count"]


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "kind"]


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    roles = serializers.SerializerMethodField()
    teams = TeamRefSerializer(many=True, read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "roles", "teams", "joined_at"]

    def get_roles(self, obj: Membership) -> list[str]:
        return sorted(r.value for r in obj.roles)


class MembershipUpdateSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)
    team_ids = serializers.ListField(child=serializers.IntegerField(), required=False)


class InvitationSerializer(serializers.ModelSerializer):
    teams = TeamRefSerializer(many=True, read_only=True)
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "roles", "teams", "status", "invited_by", "created_at", "expires_at"]


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), default=[Role.EMPLOYEE.value])
    team_ids = serializers.ListField(child=serializers.IntegerField(), default=list)


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Members of the organization. Admins change roles and teams or remove members (DELETE);
    a removed member is gone from the API (404, out of the list) though kept for history."""

    serializer_class = MembershipSerializer
    queryset = Membership.objects.none()  # for the schema only; rows come from get_queryset()
    lookup_url_kwarg = "membership_id"
    permissions = {
        "list": Permission.MEMBERS_VIEW,
        "retrieve": Permission.MEMBERS_VIEW,
        "partial_update": Permission.MEMBERS_MANAGE,
        "destroy": Permission.MEMBERS_MANAGE,
    }

    def get_queryset(self):
        return selectors.members_of(self.organization, search=self.request.query_params.get("search", ""))

    @extend_schema(request=MembershipUpdateSerializer, responses=MembershipSerializer)
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        data = MembershipUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.update_membership(
            actor=self.membership,
            membership=membership,
            roles=data.validated_data["roles"],
            teams=data.validated_data.get("team_ids"),
        )
        return Response(MembershipSerializer(self.get_queryset().get(pk=membership.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.remove_member(actor=self.membership, membership=self.get_object())
        return no_content()


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    OrgViewSet,
):
    """Departments and locations, for targeting content and reporting."""

    serializer_class = TeamSerializer
    queryset = Team.objects.none()  # for the schema only
    lookup_url_kwarg = "team_id"
    permissions = {
        "create": Permission.TEAMS_MANAGE,
        "update": Permission.TEAMS_MANAGE,
        "partial_update": Permission.TEAMS_MANAGE,
        "destroy": Permission.TEAMS_MANAGE,
    }

    def get_queryset(self):
        return selectors.teams_of(self.organization)

    # The answer is read again through the selector: a team as the service returns it has no
    # member_count, and the schema promises one.
    def perform_create(self, serializer):
        team = services.create_team(actor=self.membership, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=team.pk)

    def perform_update(self, serializer):
        team = serializer.instance
        data = serializer.validated_data
        team = services.update_team(
            actor=self.membership, team=team, name=data.get("name", team.name), kind=data.get("kind", team.kind)
        )
        serializer.instance = self.get_queryset().get(pk=team.pk)

    def perform_destroy(self, instance):
        services.delete_team(actor=self.membership, team=instance)


INVITATION_STATUSES = [s for s in Invitation.Status.values if s != Invitation.Status.REVOKED]


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Invitations; create one, resend it, or revoke it (DELETE). A revoked invitation is gone
    from the API: reading it again answers 404 and lists leave it out (the members page and the
    audit trail keep it)."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()  # for the schema only
    lookup_url_kwarg = "invitation_id"
    default_permission = Permission.MEMBERS_MANAGE

    @extend_schema(parameters=[OpenApiParameter("status", enum=INVITATION_STATUSES, required=False)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        status = self.request.query_params.get("status")
        if self.action == "list" and status is not None and status not in INVITATION_STATUSES:
            raise ValidationFailed(
                _("Unknown status %(status)s; use one of %(statuses)s.")
                % {"status": repr(status), "statuses": ", ".join(INVITATION_STATUSES)},
                fields={"status": [_("Unknown status.")]},
            )
        return selectors.invitations_of(
            self.organization, status=status if self.action == "list" else None, include_revoked=False
        )

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request, *args, **kwargs):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invite_member(
            actor=self.membership,
            email=data.validated_data["email"],
            roles=data.validated_data["roles"],
            teams=data.validated_data["team_ids"],
        )
        return Response(InvitationSerializer(self.get_queryset().get(pk=invitation.pk)).data, status=201)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        invitation = services.resend_invitation(actor=self.membership, invitation=self.get_object())
        return Response(InvitationSerializer(self.get_queryset().get(pk=invitation.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.revoke_invitation(actor=self.membership, invitation=self.get_object())
        return no_content()


class MeOrganizationSerializer(serializers.Serializer):
    slug = serializers.CharField(source="organization.slug")
    name = serializers.CharField(source="organization.name")
    roles = serializers.SerializerMethodField()

    def get_roles(self, obj: Membership) -> list[str]:
        return sorted(r.value for r in obj.roles)


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    organizations = MeOrganizationSerializer(many=True)


class MeViewSet(viewsets.ViewSet):
    """Who the caller is and which organizations they belong to."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def retrieve(self, request):
        from accounts.models import ApiToken

        memberships = selectors.memberships_of(request.user)
        if isinstance(request.auth, ApiToken):
            memberships = memberships.filter(organization_id=request.auth.organization_id)
        user = request.user
        return Response(MeSerializer({"email": user.email, "name": user.name, "organizations": memberships}).data)


class ConnectionSerializer(serializers.ModelSerializer):
    """A connected account as the employee sees it. Tokens are never part of it."""

    health = serializers.SerializerMethodField()
    health_message = serializers.SerializerMethodField()

    class Meta:
        model = SocialConnection
        fields = [
            "id",
            "network",
            "kind",
            "remote_id",
            "name",
            "username",
            "status",
            "is_selected",
            "can_post",
            "expires_at",
            "health",
            "health_message",
            "connected_at",
        ]

    def get_health(self, obj: SocialConnection) -> str:
        return connection_services.connection_health(obj)[0]

    def get_health_message(self, obj: SocialConnection) -> str:
        return connection_services.connection_health(obj)[1]


class ConnectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """The caller's own connected accounts; DELETE disconnects (forgets the tokens). A
    disconnected account is gone from the API: reading it again answers 404 and the list
    leaves it out, until it is connected again from the connections page."""

    serializer_class = ConnectionSerializer
    queryset = SocialConnection.objects.none()  # for the schema only
    lookup_url_kwarg = "social_connection_id"
    default_permission = Permission.CONNECTIONS_MANAGE_OWN

    def get_queryset(self):
        return selectors.connections_of(self.membership, include_disconnected=False)

    def destroy(self, request, *args, **kwargs):
        connection_services.disconnect(actor=self.membership, connection=self.get_object())
        return no_content()

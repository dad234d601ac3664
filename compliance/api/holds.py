"""REST endpoints of legal holds: list and read them (with the shares each holds), place one,
change its name or reason (PATCH), release it (POST .../release/). There is no DELETE: a hold
is released, never deleted.

The same selectors and services as the legal holds page (`compliance.services.holds`): bad
input is refused in the API's error shape and writes nothing; every change is audited.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import Permission
from advocacy.api import StrictCharField
from advocacy.viewsets import OrgViewSet
from compliance.models import LegalHold
from compliance.selectors.holds import hold_scope_words, legal_holds
from compliance.services import holds as services


class LegalHoldSerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField(help_text=_("What the hold covers, in words."))
    person = serializers.EmailField(source="membership.user.email", read_only=True, allow_null=True, default=None)
    placed_by = serializers.EmailField(source="placed_by.email", read_only=True, allow_null=True, default=None)
    released_by = serializers.EmailField(source="released_by.email", read_only=True, allow_null=True, default=None)
    active = serializers.BooleanField(source="is_active", read_only=True)
    shares_held = serializers.SerializerMethodField(
        help_text=_("Shares an active hold holds now; a released one: how many it held when released.")
    )

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "name",
            "reason",
            "scope",
            "membership",
            "person",
            "team",
            "date_from",
            "date_to",
            "active",
            "shares_held",
            "placed_by",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
        ]
        read_only_fields = fields

    def get_scope(self, hold: LegalHold) -> str:
        return hold_scope_words(hold)

    def get_shares_held(self, hold: LegalHold) -> int | None:
        return hold.share_count  # a released hold's: shares_held_at_release (selectors.holds.legal_holds)


class PlaceHoldSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    reason = StrictCharField(max_length=2000)
    membership = serializers.IntegerField(required=False, allow_null=True, help_text=_("A membership id: a person."))
    team = serializers.IntegerField(required=False, allow_null=True)
    date_from = serializers.DateField(required=False, allow_null=True, help_text=_("First day (organization's zone)."))
    date_to = serializers.DateField(required=False, allow_null=True, help_text=_("Last day (organization's zone)."))


class ChangeHoldSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200, required=False)
    reason = StrictCharField(max_length=2000, required=False)


class ReleaseHoldSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text=_("Why the hold is released."))


class LegalHoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Legal holds, active first. Compliance officers only; another organization's hold is 404."""

    default_permission = Permission.COMPLIANCE_HOLD
    serializer_class = LegalHoldSerializer
    queryset = LegalHold.objects.none()  # for the schema only
    lookup_url_kwarg = "legal_hold_id"

    def get_queryset(self):
        return legal_holds(self.organization)

    def _answer(self, hold: LegalHold, status: int = 200) -> Response:
        return Response(LegalHoldSerializer(self.get_queryset().get(pk=hold.pk)).data, status=status)

    @extend_schema(request=PlaceHoldSerializer, responses={201: LegalHoldSerializer})
    def create(self, request, *args, **kwargs):
        data = PlaceHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        hold = services.place_hold(
            actor=self.membership,
            name=given["name"],
            reason=given["reason"],
            membership_id=given.get("membership"),
            team_id=given.get("team"),
            date_from=given.get("date_from"),
            date_to=given.get("date_to"),
        )
        return self._answer(hold, status=201)

    @extend_schema(request=ChangeHoldSerializer, responses=LegalHoldSerializer)
    def partial_update(self, request, *args, **kwargs):
        hold = self.get_object()
        data = ChangeHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.change_hold(
            actor=self.membership,
            hold_id=hold.pk,
            name=data.validated_data.get("name", hold.name),
            reason=data.validated_data.get("reason", hold.reason),
        )
        return self._answer(hold)

    @extend_schema(request=ReleaseHoldSerializer, responses=LegalHoldSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, *args, **kwargs):
        hold = self.get_object()
        data = ReleaseHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.release_hold(actor=self.membership, hold_id=hold.pk, reason=data.validated_data["reason"])
        return self._answer(hold)

"""The employee's own stats, the leaderboard, analytics preferences and points rules over the API.

* `GET  analytics/me/`            my figures for a period and the one before, a daily series, points, rank;
* `GET  analytics/leaderboard/`   the leaderboard for a period (hidden members left out; my own place);
* `GET|POST analytics/preferences/` `{"hidden_from_leaderboard": bool, "weekly_summary": bool}`;
* `GET|POST analytics/points-rules/` the organization's points rules (POST: org admins).

Periods: `?start=YYYY-MM-DD&end=YYYY-MM-DD` or `?days=N`. Same selectors as the pages.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.permissions import Permission
from advocacy.api import StrictBooleanField
from advocacy.viewsets import OrgViewSet
from analytics.api.content import PERIOD_PARAMETERS, period_for
from analytics.selectors.advocates import leaderboard, my_stats, points_rules_for, preference_for
from analytics.services import advocates as services


class MyStatsViewSet(OrgViewSet):
    """My reach (impressions), clicks, engagement, points and rank."""

    default_permission = Permission.ANALYTICS_OWN
    pagination_class = None

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, *args, **kwargs):
        period = period_for(request, self.organization)
        stats = my_stats(self.membership, period)
        stats["leaderboard"] = stats["leaderboard"].as_dict()
        return Response(stats)


class LeaderboardViewSet(OrgViewSet):
    """Members ranked by points in the period; hidden members appear only to themselves."""

    default_permission = Permission.ANALYTICS_OWN
    pagination_class = None

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, *args, **kwargs):
        period = period_for(request, self.organization)
        rules = points_rules_for(self.organization)
        board = leaderboard(self.organization, period, rules, viewer_user_id=request.user.pk)
        return Response({"start": period.start, "end": period.end, **board.as_dict()})


class PreferenceSerializer(serializers.Serializer):
    hidden_from_leaderboard = StrictBooleanField(required=False)
    weekly_summary = StrictBooleanField(required=False)


class AnalyticsPreferenceViewSet(OrgViewSet):
    """My choices: hidden from the leaderboard; the weekly summary e-mail (executives)."""

    default_permission = Permission.ORG_VIEW
    pagination_class = None
    serializer_class = PreferenceSerializer

    def _answer(self):
        preference = preference_for(self.membership)
        return Response(
            {
                "hidden_from_leaderboard": preference.hidden_from_leaderboard,
                "weekly_summary": preference.weekly_summary,
            }
        )

    @extend_schema(responses={200: PreferenceSerializer})
    def retrieve(self, request, *args, **kwargs):
        return self._answer()

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer})
    def create(self, request, *args, **kwargs):
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "hidden_from_leaderboard" in data:
            services.set_leaderboard_hidden(actor=self.membership, hidden=data["hidden_from_leaderboard"])
        if "weekly_summary" in data:
            services.set_weekly_summary(actor=self.membership, enabled=data["weekly_summary"])
        return self._answer()


class PointsRulesSerializer(serializers.Serializer):
    points_per_share = serializers.IntegerField(min_value=0, max_value=1000)
    points_per_post = serializers.IntegerField(min_value=0, max_value=1000)
    points_per_click = serializers.IntegerField(min_value=0, max_value=1000)
    points_per_engagement = serializers.IntegerField(min_value=0, max_value=1000)


class PointsRulesViewSet(OrgViewSet):
    """How advocates score; every member may read them, org admins set them."""

    permissions = {"retrieve": Permission.ORG_VIEW, "create": Permission.ANALYTICS_SETTINGS}
    pagination_class = None
    serializer_class = PointsRulesSerializer

    @extend_schema(responses={200: PointsRulesSerializer})
    def retrieve(self, request, *args, **kwargs):
        rules = points_rules_for(self.organization)
        return Response({name: getattr(rules, name) for name in services.RULE_FIELDS})

    @extend_schema(request=PointsRulesSerializer, responses={200: PointsRulesSerializer})
    def create(self, request, *args, **kwargs):
        serializer = PointsRulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rules = services.update_points_rules(actor=self.membership, **serializer.validated_data)
        return Response({name: getattr(rules, name) for name in services.RULE_FIELDS})

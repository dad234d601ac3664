"""The marketer's content performance over the API: the same selector as the page.

`GET /api/v1/o/<org>/analytics/content/?start=YYYY-MM-DD&end=YYYY-MM-DD` (or `?days=N`).
A counter no network gave for the posts is `null` ("not available"), never 0.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.permissions import Permission
from advocacy.viewsets import OrgViewSet
from analytics.selectors import periods
from analytics.selectors.content import content_performance


class PeriodSerializer(serializers.Serializer):
    """A period's parameters, checked one by one (the page reads an empty one as absent; the
    API refuses it). How they combine is `periods.period_from`'s to say."""

    start = serializers.DateField(required=False, help_text=gettext_lazy("With `end`: the first day."))
    end = serializers.DateField(
        required=False,
        help_text=format_lazy(
            gettext_lazy("With `start`: the last day (a period of at most {max_days} days)."),
            max_days=periods.MAX_DAYS,
        ),
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=periods.MAX_DAYS,
        help_text=gettext_lazy("The last N days (instead of start/end)."),
    )


PERIOD_PARAMETERS = [PeriodSerializer]


def period_for(request, organization) -> periods.Period:
    """The period the API request asks for; a bad parameter or range is a 400 (in the page's
    words where the page has them)."""
    period = periods.period_from(request.query_params, organization)
    PeriodSerializer(data=request.query_params.dict()).is_valid(raise_exception=True)
    return period


class ContentPerformanceViewSet(OrgViewSet):
    """Per content item and topic, best time to share (weekday, hour), suggestions used and
    how they performed, personalised commentary against suggestions used as written."""

    default_permission = Permission.ANALYTICS_CONTENT
    pagination_class = None

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, *args, **kwargs):
        period = period_for(request, self.organization)
        return Response(content_performance(self.organization, period).as_dict())

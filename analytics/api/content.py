"""The marketer's content performance over the API: the same selector as the page.

`GET /api/v1/o/<org>/analytics/content/?start=YYYY-MM-DD&end=YYYY-MM-DD` (or `?days=N`).
A counter no network gave for the posts is `null` ("not available"), never 0.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from advocacy.viewsets import OrgViewSet
from analytics.selectors import periods
from analytics.selectors.content import content_performance

PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, required=False),
    OpenApiParameter("end", OpenApiTypes.DATE, required=False),
    OpenApiParameter("days", int, required=False, description="The last N days (instead of start/end)."),
]


class ContentPerformanceViewSet(OrgViewSet):
    """Per content item and topic, best time to share (weekday, hour), suggestions used and
    how they performed, personalised commentary against suggestions used as written."""

    default_permission = "analytics.content"
    pagination_class = None

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def list(self, request, *args, **kwargs):
        period = periods.period_from(request.query_params, self.organization)
        return Response(content_performance(self.organization, period).as_dict())

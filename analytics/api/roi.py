"""The executive ROI report over the API: the same selector and numbers as the page.

`GET /api/v1/o/<org>/analytics/roi/?start=YYYY-MM-DD&end=YYYY-MM-DD` (or `?days=N`; default
the last 30 days in the organization's timezone). A figure that is not available is
`null`, never 0; money is a decimal string.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.permissions import Permission
from advocacy.viewsets import OrgViewSet
from analytics.api.content import PERIOD_PARAMETERS, period_for
from analytics.selectors.roi import executive_report


class RoiViewSet(OrgViewSet):
    """Executive ROI: figures (each measured or estimated, with its note), EMV and cost
    with the rates used, daily trend, breakdowns by network and team, top content and
    top advocates, for a period and the period of equal length before it."""

    default_permission = Permission.REPORTS_VIEW
    pagination_class = None

    @extend_schema(parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, *args, **kwargs):
        period = period_for(request, self.organization)
        return Response(jsonable(executive_report(self.organization, period)))


def jsonable(value):
    """Decimals as strings (exact money), recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value

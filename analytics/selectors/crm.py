"""What the CRM revenue page shows: the connection, the deals by outcome, the latest deals."""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from analytics.models import AnalyticsSettings, CrmConnection, CrmProvider, Deal, DealReason, DealStatus

LATEST = 50
QUERIES = 4  # asserted by the tests


def crm_page(organization) -> dict:
    """Connection (query 1), the organization's currency (2), deals by status and reason with
    their amounts (3), the LATEST deals with their post's item and author (4)."""
    connection = CrmConnection.objects.for_org(organization).filter(provider=CrmProvider.HUBSPOT).first()
    currency = (
        AnalyticsSettings.objects.for_org(organization).values_list("currency", flat=True).first()
        or AnalyticsSettings._meta.get_field("currency").default
    )
    rows = (
        Deal.objects.for_org(organization)
        .values("status", "reason", "is_closed")
        .annotate(
            deals=Count("id"),
            counted=Sum("amount", filter=Q(amount_counted=True)),
            other_currency=Count(
                "id", filter=Q(status=DealStatus.ATTRIBUTED, amount_counted=False, amount__isnull=False)
            ),
        )
        .order_by()
    )
    by_status = {status.value: 0 for status in DealStatus}
    reasons = {reason.value: 0 for reason in DealReason}
    won_revenue, pipeline, other_currency, open_deals = 0, 0, 0, 0
    for row in rows:
        by_status[row["status"]] += row["deals"]
        if row["status"] == DealStatus.UNATTRIBUTED and row["reason"]:
            reasons[row["reason"]] += row["deals"]
        if row["is_closed"]:  # counted and closed: won
            won_revenue += row["counted"] or 0
        else:
            pipeline += row["counted"] or 0
            open_deals += row["deals"]
        other_currency += row["other_currency"]
    latest = (
        Deal.objects.for_org(organization)
        .select_related("item", "author")
        .order_by("-close_date", "-updated_at", "-pk")[:LATEST]
    )
    return {
        "connection": connection,
        "currency": currency,
        "counts": by_status,
        "reasons": [{"reason": r.value, "label": r.label, "deals": reasons[r.value]} for r in DealReason],
        "won_revenue": won_revenue,
        "pipeline": pipeline,
        "open_deals": open_deals,
        "other_currency": other_currency,
        "deals": list(latest),
    }

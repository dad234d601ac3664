"""One way to write a dashboard number, shared by the pages, the CSV and the PDF."""

from __future__ import annotations

from decimal import Decimal

NOT_AVAILABLE = "not available"


def figure(value, unit: str = "count", currency: str = "") -> str:
    """`None` is "not available" (never 0); counts get thousands separators; money two decimals."""
    if value is None:
        return NOT_AVAILABLE
    if unit == "percent":
        return f"{Decimal(str(value)):,.1f}%"
    if unit == "money":
        return f"{currency} {Decimal(value):,.2f}".strip()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def raw(value) -> str:
    """Machine-readable (CSV): plain digits, or "not available"."""
    return NOT_AVAILABLE if value is None else str(value)


def change(moved: dict) -> str:
    """A figure's move against the previous period, as `periods.change` gives it: "+2.0 pts"
    for a rate, "-8.8%" for anything else, "" when it cannot be said (nothing before)."""
    if moved["points"] is not None:
        return f"{moved['points']:+} pts"
    return "" if moved["percent"] is None else f"{moved['percent']:+}%"

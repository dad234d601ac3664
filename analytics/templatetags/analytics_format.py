from django import template

from analytics import formatting

register = template.Library()


@register.filter
def figure(value, unit="count"):
    """{{ value|figure:"money" }}: "not available" for None, never 0."""
    return formatting.figure(value, unit)


@register.filter
def money(value, currency=""):
    """{{ value|money:currency }}: "EUR 1,234.50", or "not available"."""
    return formatting.figure(value, "money", currency)


@register.filter
def outcome(value, currency=""):
    """{{ value|outcome }} or {{ value|outcome:currency }} (money): "not set" for None, never 0."""
    return formatting.outcome(value, "money" if currency else "count", currency)

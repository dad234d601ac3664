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


@register.filter
def grouped(value):
    """{{ value|grouped }}: a count or a ratio in the viewer's language, grouped ("12,345" in
    English, "12.345" in German, "2,5" in French); None stays None for `default_if_none`."""
    return None if value is None or value == "" else formatting.number(value)

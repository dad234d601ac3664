"""Template helpers for showing screening findings inside the text they were found in."""

from __future__ import annotations

import re
from dataclasses import asdict, is_dataclass

from django import template
from django.utils.dateparse import parse_datetime

from advocacy.timezones import format_when
from compliance.selectors import highlight

register = template.Library()


@register.filter
def highlighted(text: str, findings) -> list:
    """Runs of `text` (stripped, as screening saw the employee's words) for
    `compliance/_highlighted_text.html`; `findings` are `content.hooks.Finding`s or their
    dicts. Findings past the end of `text` (the appended disclosure, the tracked link) are
    not marked here; list them beside it."""
    found = [asdict(f) if is_dataclass(f) else dict(f) for f in findings or ()]
    return highlight((text or "").strip(), found)


_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


@register.filter
def local_times(value):
    """An audit entry's before/after with every stored instant (ISO text with an offset)
    shown in the viewer's zone, labelled ("15 Jan 2027 09:00 CET"); the stored entry itself
    is unchanged (the hash chain covers it)."""
    if isinstance(value, dict):
        return {key: local_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [local_times(item) for item in value]
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        moment = parse_datetime(value)
        return format_when(moment, "j M Y H:i:s") if moment else value
    return value

"""Template helpers for showing screening findings inside the text they were found in."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass

from django import template

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

"""Page plumbing shared by every app: the org-view decorator and the service-error bridge."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from advocacy.errors import ApplicationError, NotFound


def org_view(permission: str | None = None):
    """Mark a view as living under `/o/<org_slug>/` and needing `permission` there.

    The organization middleware resolves the membership and checks the permission from
    the attribute set here; the view receives the request with `request.organization`
    and `request.membership` set, and without the `org_slug` argument.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, org_slug: str, **kwargs):
            if getattr(request, "membership", None) is None:  # middleware missing: fail closed
                raise Http404("No organization found")
            return view(request, *args, **kwargs)

        wrapper.permission = permission
        return wrapper

    return decorate


def call_service(
    request: HttpRequest, form: forms.Form | None, action: Callable[[], Any], *, not_found_404: bool = False
) -> Any:
    """Run a service; on a domain error put its words on the form (or in a message).

    Returns the service's result, or None when it refused; the form keeps what the
    user typed so nothing is lost. With `not_found_404`, the service's NotFound (the object
    the URL names is not in the organization) is the page's 404: the view need not look the
    object up a second time.
    """
    try:
        return action()
    except NotFound as exc:
        if not_found_404:
            raise Http404(exc.message) from exc
        return _refused(request, form, exc)
    except ApplicationError as exc:
        return _refused(request, form, exc)


def _refused(request: HttpRequest, form: forms.Form | None, exc: ApplicationError) -> None:
    placed = False
    if form is not None:
        for field, errors in exc.fields.items():
            if field in form.fields:
                for error in errors:
                    form.add_error(field, error)
                placed = True
        form.add_error(None, exc.message)
    if form is None or not placed:
        messages.error(request, exc.message)


PAGE_SIZE = 50


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    """One page of a list for a template (`?page=N`); a bad number gives the nearest page."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


class UncountedPage(Page):
    """A page of a list that is never counted: one row more than the page says whether a
    next one exists. For lists whose count costs more than the page itself (the feed: every
    live item targeted at the member); the pager shows Previous / Next without "of N"."""

    uncounted = True

    def __init__(self, rows: list, number: int, per_page: int):
        self.object_list = rows[:per_page]
        self.number = number
        self._more = len(rows) > per_page
        self.paginator = None

    def __repr__(self) -> str:
        return f"<Page {self.number} (uncounted)>"

    def has_next(self) -> bool:
        return self._more

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def has_other_pages(self) -> bool:
        return self._more or self.number > 1


MAX_PAGE = 1000  # a page number past this is not served (an OFFSET that deep): the first page is


def page_number(request: HttpRequest) -> int:
    """`?page=N` for the pagers that do their own reading (a number from 1 to MAX_PAGE; 1
    for anything else)."""
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


def paginate_uncounted(request: HttpRequest, rows, per_page: int = PAGE_SIZE) -> UncountedPage:
    """One page (`?page=N`, `page_number`) from `rows(offset, limit)`, read with one row more
    than the page and no COUNT; a number past the end gives an empty page with its Previous
    link."""
    number = page_number(request)
    return UncountedPage(rows((number - 1) * per_page, per_page + 1), number, per_page)


def page_not_found(request: HttpRequest, exception=None):
    """404 for a URL that matches no route: the API's error shape under /api/ (a non-numeric
    id, a misspelt path), Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found as html_not_found

    from advocacy.api import error_body

    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return html_not_found(request, exception)

"""The few domain errors services raise. One handler turns them into the API's error body
(`advocacy.api.exception_handler`), one into a page message (`advocacy.views.FormServiceMixin`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction


class ApplicationError(Exception):
    """A business rule said no. `message` is written for the person who will read it."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(ApplicationError):
    code = "invalid"
    status = 400


class NotAllowed(ApplicationError):
    code = "not_allowed"
    status = 403


class NotFound(ApplicationError):
    code = "not_found"
    status = 404


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


@contextmanager
def conflict_on_duplicate(message: str, fields: dict[str, list[str]] | None = None) -> Iterator[None]:
    """Run a write in a savepoint; a unique constraint that fires becomes a Conflict.

    The check-then-insert in a service reads nicely but races; the database constraint
    is what decides, and this turns its answer into words for the user.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(message, fields=fields) from None

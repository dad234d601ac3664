"""API plumbing: pagination and the one error shape (settings import this module by name).

Every failure answers `{"error": {"code": str, "message": str, "fields": {name: [str]}}}`;
`advocacy.schema` describes that body in the OpenAPI schema, once for every operation.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import exception_handler as drf_exception_handler

from advocacy.errors import ApplicationError, ValidationFailed


class Pagination(PageNumberPagination):
    """`?page=N&page_size=M`. A page that does not exist is a 404 (DRF's "Invalid page."); a
    page size that is not a whole number of at least 1 is a 400, never silently the default."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationFailed(
                _("page_size is a whole number from 1 (at most %(max)s are given).") % {"max": self.max_page_size},
                fields={self.page_size_query_param: [_("A whole number of at least 1.")]},
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page (default {self.page_size}); more than {self.max_page_size} gives "
                    f"{self.max_page_size}."
                )
        return parameters


class StrictBooleanField(serializers.BooleanField):
    """A boolean as the schema says: JSON true or false (a form's "true" or "false"). DRF's own
    also takes 0, 1, "yes", "on"... which the schema calls invalid."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid", input=data)


class StrictCharField(serializers.CharField):
    """A string as the schema says: DRF's own also takes a number and makes it a string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDateTimeField(serializers.DateTimeField):
    """A date and time, or JSON null where null is allowed. DRF's own reads a form's empty
    string as null, which the schema (a `date-time` string) does not say."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""  # parsed as a date: refused in words
        return super().get_value(dictionary)


def strict_field_mapping(mapping: dict) -> dict:
    """A ModelSerializer's field mapping with the strict string field for text columns."""
    return {**mapping, models.CharField: StrictCharField, models.TextField: StrictCharField}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's error detail as {"field": [words]}: never a Python repr. Errors nested under a
    field (a list's items, a nested serializer's fields) stay under that field, their
    place said in words ("item 1: ...")."""
    if isinstance(detail, dict):
        return {str(key): _words(value) for key, value in detail.items()}
    return {"non_field_errors": _words(detail)}


def _words(detail, where: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [w for key, value in detail.items() for w in _words(value, _place(where, key))]
    if isinstance(detail, list):
        return [w for item in detail for w in _words(item, where)]
    return [f"{where}: {detail}" if where else str(detail)]


def _place(where: str, key) -> str:
    here = f"item {int(key) + 1}" if isinstance(key, int) or str(key).isdigit() else str(key)
    return f"{where}, {here}" if where else here


def exception_handler(exc, context):
    """Turn domain errors and DRF's own into the one error shape."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "Some fields are not valid: " + ", ".join(sorted(fields)) + "."
        response.data = error_body("invalid", message, fields)
    else:
        detail = getattr(exc, "detail", str(exc))
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(code if isinstance(code, str) else "error", str(detail))
    return response

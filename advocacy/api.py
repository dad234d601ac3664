"""API plumbing: pagination and the one error shape (settings import this module by name).

Every failure answers `{"error": {"code": str, "message": str, "fields": {name: [str]}}}`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from advocacy.errors import ApplicationError


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


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
        exc = exceptions.NotFound("Not found.")
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

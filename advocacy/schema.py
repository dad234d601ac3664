"""The OpenAPI schema's own plumbing (drf-spectacular): the error body and the AutoSchema that
documents, for every operation, the error statuses it can answer.

Kept apart from `advocacy.api`, which DRF imports while it is still loading (pagination).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_('What went wrong, for programs: "invalid", "not_found", "conflict"...'))
    message = serializers.CharField(help_text=_("What went wrong, in words for the person who will read it."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("The fields at fault, each with its problems; empty when no field is to blame."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error the API answers (`advocacy.api.error_body`)."""

    error = ErrorDetailSerializer()


UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus the errors: every operation lists the error statuses it
    can answer, each with the one error body (`ErrorSerializer`), so no view declares them.
    An operation that describes one of these statuses itself keeps its own description.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, description in self.error_responses().items():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), str(status), direction=direction
                )
        return responses

    def error_responses(self) -> dict[int, str]:
        """The error statuses this operation can answer, read from the view's shape: writes and
        query parameters can be refused (400); authentication is required (401); a write, or
        a role-restricted action, can be forbidden (403; a browser session's write also needs
        the CSRF token); an organization-scoped URL can name an organization or an object the
        caller cannot see (404); a write can clash with the current state (409); throttled
        views can say "too many" (429)."""
        from advocacy.tenancy import accounts_seam
        from advocacy.viewsets import OrgViewSet

        view = self.view
        writes = self.method in UNSAFE_METHODS
        # An OrgViewSet, or another view under /o/<org_slug>/ (the conversion API, keyed by org).
        org_scoped = isinstance(view, OrgViewSet) or "{org_slug}" in self.path
        errors = {}
        if writes or any(p["in"] == "query" for p in self._get_parameters()):
            errors[400] = "The request is not valid; `fields` names the parts to change."
        if not all(isinstance(p, permissions.AllowAny) for p in view.get_permissions()):
            errors[401] = "No credentials, or a token that is not valid or was revoked."
        restricted = isinstance(view, OrgViewSet) and not accounts_seam().everyone_may(
            view.permission_for(view.request)
        )
        if writes or restricted:
            errors[403] = "Your role in this organization does not allow this" + (
                " (or a browser session's write came without its CSRF token)." if writes else "."
            )
        if org_scoped:
            errors[404] = (
                "Not found: an organization you are not a member of (or another organization's token), "
                "an object that is not there (deleted objects are gone, even those kept for history), "
                "or a page past the last."
            )
        if writes:
            errors[409] = "The request clashes with the current state (a duplicate, a newer version, a repeat)."
        if view.get_throttles():
            errors[429] = "Too many requests; wait and try again."
        return errors

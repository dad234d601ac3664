"""The organization-scoped base viewset every `/api/v1/o/<org_slug>/...` endpoint uses."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.routers import Route, SimpleRouter

from advocacy.tenancy import accounts_seam


class OrgPermission(permissions.BasePermission):
    """The action's permission from the view's map, asked of the one permission map."""

    def has_permission(self, request, view) -> bool:
        action = view.permission_for(request)
        if action is None or accounts_seam().can(request.membership, action):
            return True
        raise exceptions.PermissionDenied(_("Your role in this organization does not allow this."))


class OrgViewSet(viewsets.GenericViewSet):
    """Base for every `/api/v1/o/<org_slug>/...` endpoint.

    Resolves the organization from the URL and the caller's membership once, before any
    permission check; a personal token only works for its own organization. Not a member,
    no such organization, and another organization's token all answer the same 404.
    `permissions` maps the viewset action to an entry of accounts.permissions.
    """

    permission_classes = [permissions.IsAuthenticated, OrgPermission]
    lookup_value_regex = r"[0-9]+"
    permissions: dict[str, str | None] = {}
    default_permission: str | None = None  # any member of the organization (what org.view grants)

    def initial(self, request, *args, **kwargs):
        self.perform_authentication(request)
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        seam = accounts_seam()
        membership = seam.membership_for(request.user, kwargs.get("org_slug", ""))
        token = request.auth if isinstance(request.auth, seam.api_token_model) else None
        if membership is None or (token is not None and token.organization_id != membership.organization_id):
            raise exceptions.NotFound(_("Not found."))
        request.membership = membership
        request.organization = membership.organization
        request._request.membership = membership
        request._request.organization = membership.organization
        super().initial(request, *args, **kwargs)

    def permission_for(self, request) -> str | None:
        return self.permissions.get(self.action, self.default_permission)

    @property
    def organization(self):
        return self.request.organization

    @property
    def membership(self):
        return self.request.membership


def no_content() -> Response:
    return Response(status=status.HTTP_204_NO_CONTENT)


class SingletonRouter(SimpleRouter):
    """Routes for a resource that is one object with no list (me, the organization's policy,
    my preferences, a report): GET is the viewset's `retrieve`, POST its `create`, PUT and
    PATCH its `update` and `partial_update`, all at the prefix. Being `retrieve` and not
    `list`, the schema describes one object, not an array."""

    routes = [
        Route(
            url=r"^{prefix}{trailing_slash}$",
            mapping={"get": "retrieve", "post": "create", "put": "update", "patch": "partial_update"},
            name="{basename}",
            detail=True,
            initkwargs={"suffix": "Instance"},
        )
    ]

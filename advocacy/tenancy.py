"""Tenancy in one place.

Every tenant-owned model inherits `TenantModel`: it has `organization`, and its default
manager refuses to run a query that is not scoped to one organization. A queryset is
scoped when

* it was made by `Model.objects.for_org(org)` (the normal way), or
* its WHERE clause pins `organization` to a value at the top level (Django's own unique
  checks for constraints that include the organization end up here), or
* it comes from a related manager of an object already loaded (`team.memberships`,
  `user.memberships`): that object was reached through a scoped query or is the user.

Anything else raises `UnscopedQuery` when evaluated, so a forgotten scope is a crash in
the tests, never another tenant's rows on a page. Cross-tenant reads that are meant
(the Django admin, a lookup by a secret token) say so with `all_organizations()`.

The current organization comes from the URL (`/o/<org_slug>/...` for pages and
`/api/v1/o/<org_slug>/...` for the API): `OrganizationMiddleware` resolves it with the
user's membership once per request, and answers 404 when the user is not a member, so
a page never confirms that another organization exists. There is no thread-local
"current organization": a Celery task or a shell must name the organization.

Who is a member, and what a role may do, belong to `accounts`, which sits above this
package: the plumbing imports no app (.importlinter). `AccountsConfig.ready()` hands them
over once with `register_accounts(...)`; the middleware, the API base viewset and the
schema ask `accounts_seam()`, which fails loudly if nothing was registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact, In
from django.http import Http404

# --- the accounts seam ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountsSeam:
    """What the plumbing needs of `accounts`, registered by `AccountsConfig.ready()`."""

    membership_for: Callable[[Any, str], Any]  # (user, org slug) -> active Membership or None
    can: Callable[[Any, str], bool]  # (membership, action) -> allowed?
    require: Callable[[Any, str | None], None]  # raises PermissionDenied unless allowed
    everyone_may: Callable[[str | None], bool]  # action every role may do (or None)?
    api_token_model: type  # the personal API token model (request.auth)


_accounts: AccountsSeam | None = None


def register_accounts(
    *,
    membership_for: Callable[[Any, str], Any],
    can: Callable[[Any, str], bool],
    require: Callable[[Any, str | None], None],
    everyone_may: Callable[[str | None], bool],
    api_token_model: type,
) -> None:
    """Called once, from `AccountsConfig.ready()`: membership resolution and the permission map."""
    global _accounts
    _accounts = AccountsSeam(
        membership_for=membership_for,
        can=can,
        require=require,
        everyone_may=everyone_may,
        api_token_model=api_token_model,
    )


def accounts_seam() -> AccountsSeam:
    """The registered accounts functions; a crash, never a silent pass, before registration."""
    if _accounts is None:
        raise ImproperlyConfigured(
            "advocacy.tenancy: accounts has not registered membership and permissions yet "
            "(AccountsConfig.ready() calls register_accounts); is 'accounts' in INSTALLED_APPS?"
        )
    return _accounts


class UnscopedQuery(RuntimeError):
    """A tenant-owned model was queried without naming the organization."""


class TenantQuerySet(models.QuerySet):
    _scope_marked = False

    def for_org(self, organization: models.Model | int) -> TenantQuerySet:
        """Rows of one organization; the only way pages, API and tasks should start a query."""
        if organization is None:
            raise UnscopedQuery(f"{self.model.__name__}.for_org() needs an organization")
        org_id = organization if isinstance(organization, int) else organization.pk
        qs = self.filter(organization_id=org_id)
        qs._scope_marked = True
        return qs

    def all_organizations(self) -> TenantQuerySet:
        """Every tenant's rows, on purpose (admin, lookups by a secret token). Grep for it."""
        qs = self._chain()
        qs._scope_marked = True
        return qs

    # --- enforcement -------------------------------------------------------------------

    def _clone(self):
        clone = super()._clone()
        clone._scope_marked = self._scope_marked
        return clone

    def _is_scoped(self) -> bool:
        if self._scope_marked:
            return True
        where = self.query.where
        if where.connector != "AND" or where.negated:
            return False
        for child in where.children:
            if isinstance(child, (Exact, In)) and getattr(child.lhs, "target", None) is not None:
                target = child.lhs.target
                if target.name == "organization" and issubclass(self.model, target.model):
                    return True
        return False

    def _check_scope(self) -> None:
        if not self._is_scoped():
            raise UnscopedQuery(
                f"Query on tenant-owned {self.model.__name__} without an organization: "
                f"use {self.model.__name__}.objects.for_org(org)"
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._check_scope()
        return super().iterator(*args, **kwargs)

    def count(self):
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._check_scope()
        return super().update(**kwargs)

    def delete(self):
        self._check_scope()
        return super().delete()

    def in_bulk(self, *args, **kwargs):
        self._check_scope()
        return super().in_bulk(*args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    def get_queryset(self) -> TenantQuerySet:
        qs = super().get_queryset()
        # Related managers (team.memberships, user.memberships) carry the object they
        # hang from; reaching that object already went through a scoped query.
        if getattr(self, "instance", None) is not None:
            qs._scope_marked = True
        return qs


class TenantModel(models.Model):
    """A row owned by one organization. Its default manager fails closed."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantManager()
    # Django's internals (cascades, forward foreign keys) use this unscoped manager.
    base_objects = models.Manager()  # noqa: DJ012

    class Meta:
        abstract = True
        base_manager_name = "base_objects"


def get_for_org_or_404(model: type[TenantModel], organization: models.Model, **lookup: Any):
    """One answer for "missing" and "another organization's": 404, with the same words."""
    try:
        return model.objects.for_org(organization).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {model._meta.verbose_name} found") from None


def public_org_view(view):
    """Mark a view under an organization's slug that other sites call without a session (the
    conversion snippet's events): the middleware leaves it alone, and the view itself must
    admit only what the organization allowed and answer everything else with the same 404
    as an organization that does not exist."""
    view.org_public = True
    return view


class OrganizationMiddleware:
    """Resolve `org_slug` from the URL to `request.organization` and `request.membership`.

    Runs for every view whose URL has an `org_slug`, so a view cannot forget it. An
    anonymous visitor is sent to log in; a user who is not an active member gets the
    same 404 as for an organization that does not exist. Role checks happen here too,
    from the view's `permission` attribute, through the one permission map.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("org_slug")
        if slug is None:
            return None
        if getattr(view_func, "cls", None) is not None:
            # DRF views authenticate themselves (tokens); they call resolve_for_api().
            return None
        if getattr(view_func, "org_public", False):
            return None  # a cross-site endpoint that admits by other means (`public_org_view`)
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        seam = accounts_seam()
        membership = seam.membership_for(request.user, slug)
        if membership is None:
            raise Http404("No organization found")
        request.membership = membership
        request.organization = membership.organization
        seam.require(membership, _view_permission(view_func))
        return None


def _view_permission(view_func) -> str | None:
    view_class = getattr(view_func, "view_class", None)
    if view_class is not None:
        return getattr(view_class, "permission", None)
    return getattr(view_func, "permission", None)

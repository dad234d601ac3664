"""Shared by the per-app service-contract tests (tests/<app>/test_service_contract.py).

The contract (issue 18): a write made on behalf of a person takes the acting membership
keyword-only as `actor` and checks the permission map inside the service, before writing.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from django.apps import apps

from accounts.models import Role
from accounts.permissions import PERMISSIONS
from tests.helpers import member

PROJECT_APPS = ("accounts", "content", "compliance", "analytics")


def public_functions(module: ModuleType) -> dict[str, object]:
    """The module's own public functions by name (not the ones it imports)."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == module.__name__
    }


def unclassified(modules, *classified) -> list[str]:
    """The public functions of `modules` that none of the `classified` collections names."""
    known = set().union(*classified)
    found = {f for module in modules for f in public_functions(module).values()}
    return sorted(f.__qualname__ for f in found - known)


def takes_actor(function) -> bool:
    """True when `actor` is a keyword-only parameter without a default."""
    parameter = inspect.signature(inspect.unwrap(function)).parameters.get("actor")
    return (
        parameter is not None
        and parameter.kind is inspect.Parameter.KEYWORD_ONLY
        and parameter.default is inspect.Parameter.empty
    )


def wrong_actor(organization, action):
    """A membership of `organization` that `action` refuses: a role outside the action's
    roles, or (when every role has it) a member who left."""
    outside = [role for role in Role if role not in PERMISSIONS[action]]
    if outside:
        return member(organization, outside[0])
    gone = member(organization, Role.ADMIN, Role.EMPLOYEE)
    gone.is_active = False
    gone.save()
    return gone


def database_snapshot() -> dict[str, list[dict]]:
    """Every row of the project's tables (the test database is small): a refused write changes none."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }

"""Shared by the per-app service-contract tests (tests/<app>/test_service_contract.py).

The contract (issue 18): a write made on behalf of a person takes the acting membership
keyword-only as `actor` and checks the permission map inside the service, before writing.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from django.apps import apps
from django.db import connection

from accounts.models import Role
from accounts.permissions import PERMISSIONS
from tests.helpers import member


def public_functions(module: ModuleType) -> dict[str, object]:
    """The module's own public functions (not the ones it imports)."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == module.__name__
    }


def takes_keyword_only_actor(function) -> bool:
    parameter = inspect.signature(function).parameters.get("actor")
    return parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY


def wrong_actor(organization, action: str):
    """A membership of `organization` that `action` refuses: a role outside the action's
    roles, or (when every role has it) a member who left."""
    outside = [role for role in Role if role not in PERMISSIONS[action]]
    if outside:
        return member(organization, outside[0])
    gone = member(organization, Role.ADMIN, Role.EMPLOYEE)
    gone.is_active = False
    gone.save()
    return gone


def database_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table the project's models use (tests hold a few dozen rows)."""
    tables = sorted({model._meta.db_table for model in apps.get_models() if model._meta.managed})
    snapshot = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')
            snapshot[table] = [tuple(map(repr, row)) for row in cursor.fetchall()]
    return snapshot

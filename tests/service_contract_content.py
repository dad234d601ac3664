"""What the per-app service contract tests share (issue 18 item 3, /work/briefs/contract.md):
a write takes the acting membership keyword-only as `actor` and refuses a wrong role with
PermissionDenied before it writes anything."""

from __future__ import annotations

import inspect
from types import ModuleType

from django.apps import apps

SNAPSHOT_APPS = ("accounts", "content", "compliance")


def public_functions(module: ModuleType) -> set[str]:
    """The module's own public functions (not the ones it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__
    }


def takes_actor(function) -> bool:
    """True when `actor` is a keyword-only parameter without a default."""
    parameter = inspect.signature(inspect.unwrap(function)).parameters.get("actor")
    return (
        parameter is not None
        and parameter.kind is inspect.Parameter.KEYWORD_ONLY
        and parameter.default is inspect.Parameter.empty
    )


def database_snapshot() -> dict[str, list[dict]]:
    """Every row of the apps' tables (the test database is small): a refused write changes none."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for app in SNAPSHOT_APPS
        for model in apps.get_app_config(app).get_models()
    }

"""Every app's factories in one registry, so suites that walk all models find one for each.

An app adds its factories module to FACTORY_MODULES; `factory_for(Model)` finds the rest.
"""

import importlib

import factory

FACTORY_MODULES = [
    "tests.accounts.factories",
    "tests.content.factories",
    "tests.compliance.factories",
    "tests.analytics.factories",
]


def all_factories() -> dict[type, type[factory.django.DjangoModelFactory]]:
    registry = {}
    for module_name in FACTORY_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
                model = value._meta.model
                if model is not None:
                    registry.setdefault(model, value)
    return registry


def factory_for(model):
    try:
        return all_factories()[model]
    except KeyError:
        raise LookupError(f"No factory for {model.__name__}: add one to the app's tests/<app>/factories.py") from None

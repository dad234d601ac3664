"""The import contracts (.importlinter, issue 18): `lint-imports` keeps every one of them on
this code, each one breaks when the import it forbids is added, and the work that services
enqueue by name (instead of importing their own `tasks`) names tasks the Celery app knows."""

from __future__ import annotations

import ast
import copy
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from django.core.exceptions import ImproperlyConfigured
from importlinter.api import read_configuration
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

from advocacy import tenancy
from advocacy.celery import app
from analytics.services import advocate_stats, metrics

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
CONTRACT_TYPES = {"layers": LayersContract, "forbidden": ForbiddenContract}


def configuration() -> dict:
    return read_configuration(str(CONFIG))


def contract(contract_id: str):
    options = configuration()
    [found] = [c for c in options["contracts_options"] if c["id"] == contract_id]
    return CONTRACT_TYPES[found["type"]](
        name=found["name"], session_options=options["session_options"], contract_options=found
    )


@pytest.fixture(scope="module")
def graph():
    """The project's import graph, as lint-imports builds it (no cache: the tree as it is now)."""
    return grimp.build_graph(*configuration()["session_options"]["root_packages"], cache_dir=None)


def test_lint_imports_keeps_every_contract():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint_imports), "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    output = " ".join(done.stdout.split())  # the report wraps long names over lines
    assert done.returncode == 0, done.stdout + done.stderr
    names = [c["name"] for c in configuration()["contracts_options"]]
    assert len(names) == 4
    for name in names:
        assert f"{name} KEPT" in output, name
    assert "0 broken" in output


# One import each contract forbids; the first ones are those this issue removed.
BREAKS = {
    "plumbing-imports-no-app": ("advocacy.tenancy", "accounts.selectors"),  # the seam replaced it
    "inner-layers": ("analytics.services.metrics", "analytics.tasks"),  # now enqueued by name
    "app-layers": ("accounts.models", "content.models"),  # a lower app reaching up
    "libraries-import-no-app": ("integrations.dns", "advocacy.settings"),  # settings: django.conf
}


@pytest.mark.parametrize("contract_id", sorted(BREAKS))
def test_each_contract_breaks_on_the_import_it_forbids(graph, contract_id):
    importer, imported = BREAKS[contract_id]
    checked = contract(contract_id)
    assert checked.check(copy.deepcopy(graph), verbose=False).kept

    broken = copy.deepcopy(graph)
    broken.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not checked.check(broken, verbose=False).kept


def test_the_composition_root_is_the_only_exception(graph):
    """advocacy.urls may name every app; a plumbing module next to it may not."""
    plumbing = contract("plumbing-imports-no-app")
    broken = copy.deepcopy(graph)
    broken.add_import(importer="advocacy.views", imported="analytics.views.crm", line_number=1, line_contents="x")
    assert not plumbing.check(broken, verbose=False).kept


# --- work enqueued by name --------------------------------------------------------------------


def test_the_task_names_of_the_analytics_services_are_registered():
    app.loader.import_default_modules()
    assert metrics.PULL_BATCH_TASK == "analytics.tasks.pull_metrics_batch"
    assert advocate_stats.REFRESH_AFTER_POST_TASK == "analytics.tasks.refresh_organization_stats"
    for name in (metrics.PULL_BATCH_TASK, advocate_stats.REFRESH_AFTER_POST_TASK):
        assert name in app.tasks, name
    # The batch goes to the metrics queue, as when it was enqueued through the task object.
    assert app.amqp.router.route({}, metrics.PULL_BATCH_TASK)["queue"].name == "metrics"


def enqueued_names() -> set[str]:
    """Every task name the apps enqueue by name: `send_task("...")` literals and the
    module constants named `*_TASK` that hold a task's dotted name."""
    names = set()
    for app_dir in ("accounts", "content", "compliance", "analytics"):
        for path in (ROOT / app_dir).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "send_task":
                    if node.args and isinstance(node.args[0], ast.Constant):
                        names.add(node.args[0].value)
                elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                    targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                    value = node.value.value
                    if any(t.endswith("_TASK") for t in targets) and isinstance(value, str) and ".tasks." in value:
                        names.add(value)
    return names


def test_every_task_enqueued_by_name_is_registered():
    app.loader.import_default_modules()
    names = enqueued_names()
    assert {metrics.PULL_BATCH_TASK, advocate_stats.REFRESH_AFTER_POST_TASK} <= names
    assert {name for name in names if name not in app.tasks} == set()


# --- the accounts seam ------------------------------------------------------------------------


def test_the_accounts_seam_is_registered_by_accounts():
    from accounts.models import ApiToken
    from accounts.permissions import can
    from accounts.selectors import membership_for

    seam = tenancy.accounts_seam()
    assert seam.membership_for is membership_for and seam.can is can and seam.api_token_model is ApiToken


def test_the_accounts_seam_fails_loudly_before_registration(monkeypatch):
    monkeypatch.setattr(tenancy, "_accounts", None)
    with pytest.raises(ImproperlyConfigured, match="register_accounts"):
        tenancy.accounts_seam()

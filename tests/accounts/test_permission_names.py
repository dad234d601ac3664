"""Permission actions are an enum: a string that spells one, in code or a template, is refused here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from accounts.permissions import PERMISSIONS, Permission, allowed_actions, can, require
from tests.accounts.factories import MembershipFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "content", "compliance", "analytics", "advocacy", "integrations", "networks"]
SPELLED = {p.value for p in Permission}


def _app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts and path != ROOT / "accounts" / "permissions.py":
                yield path


def test_no_app_module_spells_a_permission_as_a_string():
    offenders = []
    for path in _app_modules():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and node.value in SPELLED:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == [], "use accounts.permissions.Permission instead of:\n" + "\n".join(offenders)


def test_the_scan_sees_a_spelled_permission(tmp_path):
    """The check above is not vacuous: the same walk finds a literal planted in a module's source."""
    tree = ast.parse('class V:\n    permission = "members.manage"\n')
    assert [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in SPELLED] == ["members.manage"]


def test_every_permission_has_its_roles_and_no_role_map_is_orphaned():
    assert set(PERMISSIONS) == set(Permission)


def test_templates_ask_only_for_permissions_that_exist():
    keys = set(allowed_actions(None))
    asked = set()
    for path in ROOT.rglob("templates/**/*.html"):
        if "node_modules" in path.parts or ".venv" in path.parts:
            continue
        asked |= set(re.findall(r"perms_org\.([a-z_]+)", path.read_text()))
    assert asked, "no template asks perms_org: the scan looks in the wrong place"
    assert asked <= keys, f"templates ask for unknown permissions: {sorted(asked - keys)}"


@pytest.mark.django_db
def test_a_misspelt_permission_is_an_error_not_a_refusal():
    member = MembershipFactory()
    with pytest.raises(ValueError):
        require(member, "org.vew")
    assert can(member, Permission.ORG_VIEW)

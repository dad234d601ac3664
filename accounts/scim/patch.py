"""PATCH operations (RFC 7644 section 3.5.2) applied to a resource document, a plain dict.

Accepts what directories really send: `op` in any case ("Replace", "Add", "Remove"); no path
with a value object (`{"op": "replace", "value": {"active": false}}`), whose keys may themselves
be paths ("name.givenName", "urn:...:enterprise:2.0:User:department"); value filters in paths
(`emails[type eq "work"].value`, `members[value eq "42"]`); `remove` of `members` with a value
list (Entra ID). `"False"` as a string is read where the document is read (resources.parse_bool).
A path filter that matches nothing: `replace`/`add` of a sub-attribute creates the element
the filter describes (`emails[type eq "work"].value` on a user without a work address).
"""

from __future__ import annotations

import copy
import re

from django.utils.translation import gettext as _
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError

from accounts.scim.errors import ScimError
from accounts.scim.resources import ENTERPRISE_SCHEMA, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA

_MEMBER_FILTER = re.compile(r'^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$', re.IGNORECASE)
_PATH = re.compile(r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>.+)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$")
READ_ONLY = {"id", "meta", "groups", "schemas"}


def apply_patch(document: dict, body: dict) -> dict:
    """The document after the PatchOp `body`; ScimError for an operation that cannot apply."""
    if not isinstance(body, dict):
        raise ScimError(_("Send a PatchOp object."), scim_type="invalidSyntax")
    operations = {k.lower(): v for k, v in body.items()}.get("operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(
            _("Send Operations, a list, with the schema %(schema)s.") % {"schema": PATCH_SCHEMA},
            scim_type="invalidSyntax",
        )
    document = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(_("Each operation is an object with op, path and value."), scim_type="invalidSyntax")
        fields = {k.lower(): v for k, v in operation.items()}
        op = str(fields.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise ScimError(
                _("op must be add, replace or remove, not %(value)s.") % {"value": repr(fields.get("op"))},
                scim_type="invalidSyntax",
            )
        path = fields.get("path")
        if path in (None, ""):
            _pathless(document, op, fields.get("value"))
        else:
            _apply(document, op, str(path), fields.get("value"), "value" in fields)
    return document


def member_changes(body: dict) -> tuple[list[str], list[str]] | None:
    """(ids to add, ids to remove) when every operation only adds or removes group members
    (`add members [...]`, `remove members [...]`, `remove members[value eq "id"]`), so a big
    group changes without reading all its members; None for anything else (applied in full)."""
    operations = {k.lower(): v for k, v in body.items()}.get("operations") if isinstance(body, dict) else None
    if not isinstance(operations, list) or not operations:
        return None
    final: dict[str, str] = {}
    for operation in operations:
        if not isinstance(operation, dict):
            return None
        fields = {k.lower(): v for k, v in operation.items()}
        op, path, value = str(fields.get("op", "")).lower(), str(fields.get("path") or "").strip(), fields.get("value")
        if path.lower() == "members" and op in ("add", "remove") and isinstance(value, list):
            if not all(isinstance(v, dict) and "value" in v for v in value):
                return None
            for item in value:
                final[str(item["value"]).strip()] = op
        elif op == "remove" and (match := _MEMBER_FILTER.match(path)) and value is None:
            final[match[1].strip()] = "remove"
        else:
            return None
    return [k for k, v in final.items() if v == "add"], [k for k, v in final.items() if v == "remove"]


def _pathless(document: dict, op: str, value) -> None:
    if op == "remove":
        raise ScimError(_("remove needs a path."), scim_type="noTarget")
    if not isinstance(value, dict):
        raise ScimError(_("%(op)s without a path needs an object as its value.") % {"op": op}, scim_type="invalidValue")
    for key, item in value.items():
        if key.lower() in READ_ONLY and document.get(_key(document, key)) == item:
            continue  # Okta repeats the id in a path-less replace: unchanged, so nothing to refuse
        if key.lower() == ENTERPRISE_SCHEMA.lower() and isinstance(item, dict):
            for sub_key, sub_item in item.items():
                _apply(document, op, f"{ENTERPRISE_SCHEMA}:{sub_key}", sub_item, True)
        else:
            _apply(document, op, key, item, True)


def _key(container: dict, name: str) -> str:
    """The key already used for `name` in any case, else `name`."""
    lowered = name.lower()
    for key in container:
        if key.lower() == lowered:
            return key
    return name


def _split(path: str) -> tuple[bool, str]:
    """(in the enterprise extension?, the rest of the path)."""
    lowered = path.lower()
    if lowered == ENTERPRISE_SCHEMA.lower():
        return False, ENTERPRISE_SCHEMA
    for urn in (ENTERPRISE_SCHEMA, USER_SCHEMA, GROUP_SCHEMA):
        if lowered.startswith(urn.lower() + ":"):
            return urn == ENTERPRISE_SCHEMA, path[len(urn) + 1 :]
    return False, path


def _apply(document: dict, op: str, path: str, value, has_value: bool) -> None:
    in_extension, rest = _split(path)
    if rest == ENTERPRISE_SCHEMA:
        attr, filter_text, sub = ENTERPRISE_SCHEMA, None, None
    else:
        match = _PATH.match(rest.strip())
        if match is None:
            raise ScimError(_("This path cannot be read: %(path)s") % {"path": path}, scim_type="invalidPath")
        attr, filter_text, sub = match["attr"], match["filter"], match["sub"]
    if not in_extension and attr.lower() in READ_ONLY:
        raise ScimError(
            _("%(attr)s is set by the server and cannot be changed.") % {"attr": attr}, scim_type="mutability"
        )
    container = document
    if in_extension:
        container = document.setdefault(_key(document, ENTERPRISE_SCHEMA), {})
        if not isinstance(container, dict):
            container = document[_key(document, ENTERPRISE_SCHEMA)] = {}
    key = _key(container, attr)
    if op != "remove" and not has_value:
        raise ScimError(_("%(op)s of %(path)s needs a value.") % {"op": op, "path": path}, scim_type="invalidValue")
    if filter_text is not None:
        _apply_filtered(container, key, op, _parse_filter(filter_text, path), sub, value, path)
    elif sub is not None:
        _apply_sub(container, key, op, sub, value)
    else:
        _apply_whole(container, key, op, value, has_value)


def _apply_whole(container: dict, key: str, op: str, value, has_value: bool) -> None:
    current = container.get(key)
    if op == "remove":
        if has_value and isinstance(current, list) and isinstance(value, list):
            gone = {_identity(v) for v in value}
            container[key] = [item for item in current if _identity(item) not in gone]
        else:
            container.pop(key, None)
    elif op == "add" and isinstance(current, list):
        new = value if isinstance(value, list) else [value]
        seen = {_identity(item) for item in current}
        container[key] = current + [item for item in new if _identity(item) not in seen]
    elif isinstance(current, dict) and isinstance(value, dict):
        current.update(value)
    else:
        container[key] = value


def _apply_sub(container: dict, key: str, op: str, sub: str, value) -> None:
    current = container.get(key)
    targets = current if isinstance(current, list) else [container.setdefault(key, {})]
    if isinstance(current, (str, int, float, bool)):
        raise ScimError(_("%(key)s has no sub-attribute %(sub)s.") % {"key": key, "sub": sub}, scim_type="invalidPath")
    for target in targets:
        if not isinstance(target, dict):
            continue
        if op == "remove":
            target.pop(_key(target, sub), None)
        else:
            target[_key(target, sub)] = value


def _apply_filtered(container: dict, key: str, op: str, tree, sub: str | None, value, path: str) -> None:
    items = container.get(key)
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ScimError(
            _("%(key)s is not multi-valued; a filter cannot apply to it.") % {"key": key}, scim_type="invalidPath"
        )
    matched = [item for item in items if isinstance(item, dict) and _matches(tree, item)]
    if op == "remove":
        if sub is None:
            container[key] = [item for item in items if item not in matched]
        else:
            for item in matched:
                item.pop(_key(item, sub), None)
        return
    if not matched:
        if sub is None and op == "replace":
            raise ScimError(_("Nothing matches %(path)s.") % {"path": path}, scim_type="noTarget")
        created = _described_by(tree)
        if created is None:
            raise ScimError(_("Nothing matches %(path)s.") % {"path": path}, scim_type="noTarget")
        items.append(created)
        container[key] = items
        matched = [created]
    for item in matched:
        if sub is not None:
            item[_key(item, sub)] = value
        elif isinstance(value, dict):
            item.update(value)
        else:
            raise ScimError(_("%(path)s needs an object as its value.") % {"path": path}, scim_type="invalidValue")


def _identity(item):
    """What makes two values of a multi-valued attribute the same one (its `value`, or itself)."""
    if isinstance(item, dict):
        for key, value in item.items():
            if key.lower() == "value":
                return str(value)
        return repr(sorted(item.items(), key=lambda kv: kv[0]))
    return repr(item)


# --- value filters in paths, evaluated on one element -----------------------------------------


def _parse_filter(text: str, path: str):
    try:
        tree = SCIMParser().parse(SCIMLexer().tokenize(text))
    except (SCIMParserError, ValueError):
        tree = None
    if tree is None:
        raise ScimError(_("The filter in this path cannot be read: %(path)s") % {"path": path}, scim_type="invalidPath")
    return tree


def _comparable(value):
    if value.value == "true":
        return True
    if value.value == "false":
        return False
    if value.value == "null":
        return None
    return value.value


def _matches(node, item: dict) -> bool:
    if isinstance(node, ast.Filter):
        result = _matches(node.expr, item)
        return not result if node.negated else result
    if isinstance(node, ast.LogExpr):
        if node.op.lower() == "and":
            return _matches(node.expr1, item) and _matches(node.expr2, item)
        return _matches(node.expr1, item) or _matches(node.expr2, item)
    if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
        name = node.attr_path.sub_attr.value if node.attr_path.sub_attr else node.attr_path.attr_name
        actual = item.get(_key(item, name))
        op = node.value.lower()
        if op == "pr":
            return actual not in (None, "", [], {})
        expected = _comparable(node.comp_value)
        if isinstance(expected, bool) or expected is None:
            if isinstance(actual, str) and actual.lower() in ("true", "false"):
                actual = actual.lower() == "true"
            return (actual == expected) if op == "eq" else (actual != expected)
        left, right = str(actual if actual is not None else "").lower(), str(expected).lower()
        tests = {
            "eq": left == right,
            "ne": left != right,
            "co": right in left,
            "sw": left.startswith(right),
            "ew": left.endswith(right),
        }
        if (op in tests and actual is not None) or op == "ne":
            return tests[op]
        return False
    raise ScimError(_("This path filter is not supported."), scim_type="invalidPath")


def _described_by(node) -> dict | None:
    """The element an `eq` (or `a eq x and b eq y`) filter describes, else None."""
    if isinstance(node, ast.Filter) and not node.negated:
        return _described_by(node.expr)
    if isinstance(node, ast.LogExpr) and node.op.lower() == "and":
        left, right = _described_by(node.expr1), _described_by(node.expr2)
        return None if left is None or right is None else {**left, **right}
    if isinstance(node, ast.AttrExpr) and node.value.lower() == "eq" and isinstance(node.attr_path.attr_name, str):
        return {node.attr_path.attr_name: _comparable(node.comp_value)}
    return None

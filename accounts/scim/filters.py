"""The `filter` query parameter (RFC 7644 section 3.4.2.2) as a Django Q, through scim2-filter-parser.

Attribute names and operators are case-insensitive; `and`, `or`, `not` and parentheses work;
eq/ne/co/sw/ew/pr/gt/ge/lt/le on the attributes below. A filter on any other attribute is
refused (invalidFilter) rather than ignored, so a directory never reads "no match" as "absent".
`emails[type eq "work"].value` matches the member's e-mail (we keep one: the primary or work one).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError
from scim2_filter_parser.transpilers.django_q_object import Transpiler

from accounts.scim.errors import ScimError
from accounts.scim.resources import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA

_ENTERPRISE = ENTERPRISE_SCHEMA.lower()
_USER = USER_SCHEMA.lower()
_GROUP = GROUP_SCHEMA.lower()

# (attribute, sub-attribute, schema URN), lower case -> a ScimUser (or ScimGroup) lookup.
USER_ATTRIBUTES = {
    ("username", None, None): "user_name",
    ("username", None, _USER): "user_name",
    ("externalid", None, None): "external_id",
    ("displayname", None, None): "display_name",
    ("emails", None, None): "email",
    ("emails", "value", None): "email",
    ("emails", "type", None): None,  # accepted: the one e-mail we keep is the work one
    ("emails", "primary", None): None,
    ("name", "givenname", None): "document__name__givenName",
    ("name", "familyname", None): "document__name__familyName",
    ("name", "formatted", None): "document__name__formatted",
    ("title", None, None): "document__title",
    ("usertype", None, None): "document__userType",
    ("active", None, None): "membership__is_active",
    ("meta", "created", None): "created_at",
    ("meta", "lastmodified", None): "updated_at",
}
GROUP_ATTRIBUTES = {
    ("displayname", None, None): "team__name",
    ("displayname", None, _GROUP): "team__name",
    ("externalid", None, None): "external_id",
    ("members", None, None): "team__memberships__id",
    ("members", "value", None): "team__memberships__id",
    ("meta", "created", None): "created_at",
    ("meta", "lastmodified", None): "updated_at",
}


class _StrictTranspiler(Transpiler):
    def visit_AttrPath(self, node):
        key = (
            node.attr_name.lower(),
            node.sub_attr.value.lower() if node.sub_attr else None,
            node.uri.lower() if node.uri else None,
        )
        if key not in self.attr_map:
            shown = ".".join(p for p in (node.attr_name, node.sub_attr.value if node.sub_attr else None) if p)
            raise ScimError(_("Filtering on %(shown)s is not supported.") % {"shown": shown}, scim_type="invalidFilter")
        return self.attr_map[key]


def to_q(expression: str, attributes: dict) -> Q:
    """The Q for a filter expression; ScimError(invalidFilter) for one we cannot read or run."""
    try:
        tree = SCIMParser().parse(SCIMLexer().tokenize(expression))
        if tree is None:
            raise SCIMParserError("empty")
        query = _StrictTranspiler(attributes).transpile(tree)
    except ScimError:
        raise
    except (SCIMParserError, ValueError, NotImplementedError, AttributeError, TypeError):
        raise ScimError(
            _("This filter cannot be read: %(expression)s") % {"expression": expression}, scim_type="invalidFilter"
        ) from None
    return query if query is not None else Q()

"""Resource documents: discovery (schemas, resource types, service provider configuration) and
a membership or a team as a SCIM resource; what a document sent by a directory means for us."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from scim2_models import Context, EnterpriseUser, Group, User

from accounts.scim.errors import ScimError
from advocacy.languages import clean_language

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
MAX_RESULTS = 200

# Never stored nor returned: what the server owns (id, meta, groups) and the write-only password
# (people sign in with the product or single sign-on). `active` is kept as sent, but the answer
# says the membership's own state (suspended by an admin shows too).
NOT_STORED = {"id", "meta", "schemas", "password", "groups"}


@functools.cache
def schemas() -> dict[str, dict]:
    """The published schemas by id, as scim2-models describes RFC 7643's."""
    found = {}
    for model in (User, Group, EnterpriseUser):
        schema = model.to_schema().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        found[schema["id"]] = schema
    # A member's display is the user's name here, not something a group can set.
    for attribute in found[GROUP_SCHEMA]["attributes"]:
        for sub in attribute.get("subAttributes") or []:
            if attribute["name"] == "members" and sub["name"] == "display":
                sub["mutability"] = "readOnly"
    # A member is reached by e-mail (the account is global, found by its address): we need one.
    for attribute in found[USER_SCHEMA]["attributes"]:
        if attribute["name"] == "emails":
            attribute["required"] = True
            for sub in attribute["subAttributes"]:
                sub["required"] = sub["name"] == "value"
    return found


@functools.cache
def user_attribute_names() -> dict[str, str]:
    """Lower-case name -> the RFC's spelling, for the User's top-level attributes."""
    return {a["name"].lower(): a["name"] for a in schemas()[USER_SCHEMA]["attributes"]}


def resource_types(base_url: str) -> list[dict]:
    def one(name: str, endpoint: str, schema: str, extensions: list[dict]) -> dict:
        return {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "description": name,
            "schema": schema,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{name}"},
        }

    return [
        one("User", "/Users", USER_SCHEMA, [{"schema": ENTERPRISE_SCHEMA, "required": False}]),
        one("Group", "/Groups", GROUP_SCHEMA, []),
    ]


def schema_documents(base_url: str) -> list[dict]:
    return [
        {**schema, "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{schema['id']}"}}
        for schema in schemas().values()
    ]


def service_provider_config(base_url: str) -> dict:
    return {
        "schemas": [CONFIG_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A SCIM token of the organization, created by its admin under Settings.",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}/ServiceProviderConfig"},
    }


def etag(version: int) -> str:
    return f'W/"{version}"'


def _meta(kind: str, row, location: str) -> dict:
    return {
        "resourceType": kind,
        "created": row.created_at.isoformat(),
        "lastModified": row.updated_at.isoformat(),
        "location": location,
        "version": etag(row.version),
    }


def user_resource(scim_user, base_url: str) -> dict:
    """A ScimUser (with its membership and the membership's SCIM groups prefetched as
    `scim_groups`) as the User resource."""
    document = scim_user.document
    location = f"{base_url}/Users/{scim_user.membership_id}"
    resource = {
        "schemas": [USER_SCHEMA, *([ENTERPRISE_SCHEMA] if ENTERPRISE_SCHEMA in document else [])],
        "id": str(scim_user.membership_id),
        **document,
        "userName": scim_user.user_name,
        "groups": [
            {"value": str(team.pk), "$ref": f"{base_url}/Groups/{team.pk}", "display": team.name, "type": "direct"}
            for team in getattr(scim_user.membership, "scim_teams", [])
        ],
        "meta": _meta("User", scim_user, location),
    }
    if scim_user.external_id:
        resource["externalId"] = scim_user.external_id
    if "active" in document or not scim_user.membership.is_active:  # removed by the directory: unassigned
        resource["active"] = scim_user.membership.is_active
    return resource


def group_resource(scim_group, member_ids: list[int], base_url: str) -> dict:
    """A ScimGroup (with its team) and its members' ids as the Group resource (no `display`:
    a member's name is the user's, which the group does not set)."""
    resource = {
        "schemas": [GROUP_SCHEMA],
        "id": str(scim_group.team_id),
        "displayName": scim_group.team.name,
        "members": [{"value": str(pk), "$ref": f"{base_url}/Users/{pk}", "type": "User"} for pk in member_ids],
        "meta": _meta("Group", scim_group, f"{base_url}/Groups/{scim_group.team_id}"),
    }
    if scim_group.external_id:
        resource["externalId"] = scim_group.external_id
    return resource


# --- what a directory's document says ------------------------------------------------------------


def parse_bool(value, attribute: str) -> bool:
    """True/False, also as the strings Entra ID sends ("True", "false")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(
        _("%(attribute)s must be true or false, not %(value)s.") % {"attribute": attribute, "value": repr(value)},
        scim_type="invalidValue",
    )


def _text(value, attribute: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(_("%(attribute)s must be a string.") % {"attribute": attribute}, scim_type="invalidValue")
    value = value.strip()
    if len(value) > limit:
        raise ScimError(
            _("%(attribute)s is longer than %(limit)s characters.") % {"attribute": attribute, "limit": limit},
            scim_type="invalidValue",
        )
    return value


def _pick(items, attribute: str) -> dict | None:
    """The primary item of a multi-valued attribute, else the work one, else the first."""
    if items is None:
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ScimError(
            _("%(attribute)s must be a list of objects.") % {"attribute": attribute}, scim_type="invalidValue"
        )
    for wanted in (lambda i: parse_bool(i.get("primary", False), "primary"), lambda i: i.get("type") == "work"):
        for item in items:
            if wanted(item):
                return item
    return items[0] if items else None


@dataclass(frozen=True)
class UserFields:
    user_name: str
    external_id: str
    display_name: str
    email: str
    active: bool
    department: str
    location: str
    document: dict
    # preferredLanguage (RFC 7643 §4.1.1) as one of our languages ("fr-FR" reads "fr"; one we do
    # not ship reads ""), or None when the document does not name one (the user's stays).
    language: str | None = None


def user_fields(document: dict) -> UserFields:
    """What a User document means for us; ScimError (invalidValue) for what it cannot mean."""
    if not isinstance(document, dict):
        raise ScimError(_("Send a User as a JSON object."), scim_type="invalidSyntax")
    names = user_attribute_names()
    stored = {}
    for key, value in document.items():
        canonical = ENTERPRISE_SCHEMA if key.lower() == ENTERPRISE_SCHEMA.lower() else names.get(key.lower(), key)
        stored[canonical] = value
    user_name = _text(stored.get("userName"), "userName")
    if not user_name:
        raise ScimError(_("userName is required."), scim_type="invalidValue")
    email_item = _pick(stored.get("emails"), "emails")
    email = _text(email_item.get("value"), "emails.value", 254) if email_item else ""
    if not email and "@" in user_name:
        email = user_name
    try:
        validate_email(email)
    except ValidationError:
        raise ScimError(
            _("A user needs an e-mail address: send emails (a work or primary one) or an e-mail as userName."),
            scim_type="invalidValue",
        ) from None
    name = stored.get("name") if isinstance(stored.get("name"), dict) else {}
    display_name = _text(stored.get("displayName"), "displayName") or _text(name.get("formatted"), "name.formatted")
    if not display_name:
        display_name = " ".join(
            p
            for p in (_text(name.get("givenName"), "name.givenName"), _text(name.get("familyName"), "name.familyName"))
            if p
        )
    enterprise = stored.get(ENTERPRISE_SCHEMA)
    if enterprise is not None and not isinstance(enterprise, dict):
        raise ScimError(_("The enterprise extension must be an object."), scim_type="invalidValue")
    address = _pick(stored.get("addresses"), "addresses")
    active = parse_bool(stored.get("active", True), "active")
    language = None
    if "preferredLanguage" in stored:
        # The document keeps it as sent (a directory reads back what it wrote).
        language = clean_language(_text(stored["preferredLanguage"], "preferredLanguage"))
    return UserFields(
        user_name=user_name,
        external_id=_text(stored.get("externalId"), "externalId"),
        display_name=display_name[:255],
        email=email.lower(),
        active=active,
        department=_text((enterprise or {}).get("department"), "department", 120),
        location=_text((address or {}).get("locality"), "addresses.locality", 120),
        document={
            **{k: v for k, v in stored.items() if k not in NOT_STORED and k not in ("userName", "externalId")},
            **({"active": active} if "active" in stored else {}),
        },
        language=language,
    )


@dataclass(frozen=True)
class GroupFields:
    display_name: str
    external_id: str
    member_ids: list[int]


def group_fields(document: dict) -> GroupFields:
    if not isinstance(document, dict):
        raise ScimError(_("Send a Group as a JSON object."), scim_type="invalidSyntax")
    lowered = {k.lower(): v for k, v in document.items()}
    display_name = _text(lowered.get("displayname"), "displayName", 120)
    if not display_name:
        raise ScimError(_("displayName is required."), scim_type="invalidValue")
    members = lowered.get("members") or []
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise ScimError(_("members must be a list of objects with a value."), scim_type="invalidValue")
    ids = []
    for member in members:
        try:
            ids.append(int(str(member.get("value", "")).strip()))
        except ValueError:
            raise ScimError(
                _("No user has the id %(value)s.") % {"value": repr(member.get("value"))}, scim_type="invalidValue"
            ) from None
    return GroupFields(
        display_name=display_name,
        external_id=_text(lowered.get("externalid"), "externalId"),
        member_ids=list(dict.fromkeys(ids)),
    )

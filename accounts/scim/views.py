"""The SCIM endpoints. Thin: authenticate the organization's token, parse, call a service or a
selector, answer `application/scim+json` (requests may say application/json too).

A token is the organization's: on another organization's URL it answers 404, like an
organization that does not exist; without a valid token every URL answers 401, whatever the slug,
so nothing confirms which organizations exist.
"""

from __future__ import annotations

import functools
import json
import re

from django.core.exceptions import RequestDataTooBig
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.scim import filters, resources, selectors
from accounts.scim.errors import ScimError, error_body
from accounts.services import scim as services
from advocacy import audit
from advocacy.errors import ApplicationError
from advocacy.tenancy import public_org_view

CONTENT_TYPE = "application/scim+json"
DEFAULT_COUNT = 100


class ScimResponse(JsonResponse):
    def __init__(self, data, status: int = 200, version: int | None = None, location: str | None = None):
        super().__init__(data, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False})
        if version is not None:
            self["ETag"] = resources.etag(version)
        if location:
            self["Location"] = location


def _error(error: ApplicationError) -> ScimResponse:
    response = ScimResponse(error_body(error), status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    return response


def _authenticate(request, org_slug: str):
    header = request.headers.get("Authorization", "").split()
    if len(header) != 2 or header[0].lower() != "bearer":
        raise ScimError(_("Send the organization's SCIM token as 'Authorization: Bearer <token>'."), status=401)
    token = selectors.scim_token(header[1])
    if token is None:
        raise ScimError(_("This SCIM token is not valid or was revoked."), status=401)
    if token.organization.slug != org_slug:
        raise ScimError(_("Not found."), status=404)
    return token


def scim_endpoint(methods: tuple[str, ...]):
    """The token, the audit actor ("scim:<token name>"), the methods, and errors in SCIM's shape."""

    def decorate(handler):
        @csrf_exempt
        @public_org_view
        @functools.wraps(handler)
        def view(request, org_slug: str, **kwargs):
            try:
                token = _authenticate(request, org_slug)
                if request.method not in methods:
                    raise ScimError(_("%(method)s is not supported here.") % {"method": request.method}, status=405)
                request.scim_base = request.build_absolute_uri(reverse("scim-root", kwargs={"org_slug": org_slug}))
                request.scim_base = request.scim_base.rstrip("/")
                label = f"scim:{token.name}"  # untranslated: the audit trail names the token
                with audit.acting_as(label=label, ip=audit.client_ip(request)):
                    return handler(request, token, **kwargs)
            except ApplicationError as error:
                return _error(error)

        return view

    return decorate


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except RequestDataTooBig:
        raise ScimError(_("The request is too large."), status=413) from None
    except (ValueError, UnicodeDecodeError):
        raise ScimError(_("The body is not valid JSON."), scim_type="invalidSyntax") from None
    if not isinstance(body, dict):
        raise ScimError(_("Send a JSON object."), scim_type="invalidSyntax")
    return body


_ETAG = re.compile(r'\s*(?:W/)?"(\d+)"\s*')


def _if_match(request) -> int | None:
    """The version If-Match names (None: no precondition); a tag we never issued matches nothing."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    for tag in header.split(","):
        if match := _ETAG.fullmatch(tag):
            return int(match[1])
    return -1


def _not_modified(request, version: int) -> bool:
    header = request.headers.get("If-None-Match", "")
    return any(m and int(m[1]) == version for m in (_ETAG.fullmatch(t) for t in header.split(",")))


def _by(token) -> str:
    return f"scim:{token.name}"


# --- projection and paging -----------------------------------------------------------------------


def _names(request, param: str) -> list[str]:
    value = request.GET.get(param, "")
    return [part.strip() for part in value.split(",") if part.strip()]


def _unqualified(name: str) -> tuple[str, str | None]:
    """("emails", "value") for "emails.value", with the core schema's URN dropped; the
    enterprise extension's attributes as (URN, attribute)."""
    lowered = name.lower()
    for urn in (resources.ENTERPRISE_SCHEMA, resources.USER_SCHEMA, resources.GROUP_SCHEMA):
        if lowered.startswith(urn.lower() + ":"):
            rest = name[len(urn) + 1 :]
            return (urn, rest) if urn == resources.ENTERPRISE_SCHEMA else _unqualified(rest)
    top, _dot, sub = name.partition(".")
    return top, sub or None


def project(resource: dict, attributes: list[str], excluded: list[str]) -> dict:
    """`attributes` / `excludedAttributes` (RFC 7644 section 3.9); id and schemas always stay."""
    keys = {key.lower(): key for key in resource}
    if attributes:
        kept = {"id": resource["id"], "schemas": resource["schemas"]}
        for name in attributes:
            top, sub = _unqualified(name)
            key = keys.get(top.lower())
            if key is None:
                continue
            value = resource[key]
            if sub and isinstance(value, dict):
                sub_keys = {k.lower(): k for k in value}
                if sub.lower() in sub_keys:
                    kept.setdefault(key, {})[sub_keys[sub.lower()]] = value[sub_keys[sub.lower()]]
            elif sub and isinstance(value, list):
                kept[key] = [
                    {k: v for k, v in item.items() if k.lower() == sub.lower()}
                    for item in value
                    if isinstance(item, dict)
                ]
            else:
                kept[key] = value
        resource = kept
    for name in excluded:
        top, sub = _unqualified(name)
        key = keys.get(top.lower())
        if key is None or key in ("id", "schemas") or key not in resource:
            continue
        if sub and isinstance(resource[key], dict):
            resource[key] = {k: v for k, v in resource[key].items() if k.lower() != sub.lower()}
        elif not sub:
            del resource[key]
    return resource


def _wants(request, attribute: str) -> bool:
    attributes = [_unqualified(a)[0].lower() for a in _names(request, "attributes")]
    excluded = [a.lower() for a in _names(request, "excludedAttributes")]
    return (not attributes or attribute in attributes) and attribute not in excluded


def _paging(request) -> tuple[int, int]:
    try:
        start = int(request.GET.get("startIndex", 1))
        count = int(request.GET.get("count", DEFAULT_COUNT))
    except ValueError:
        raise ScimError(_("startIndex and count are whole numbers."), scim_type="invalidValue") from None
    return max(start, 1), min(max(count, 0), resources.MAX_RESULTS)


def _page(rows, start: int, count: int) -> list:
    """One page of `rows`: their keys first (a walk of the index to the offset, nothing joined),
    then those rows whole, so a deep page costs no more than the first."""
    key = rows.query.order_by[0]
    keys = list(rows.values_list(key, flat=True)[start - 1 : start - 1 + count]) if count else []
    return list(rows.filter(**{f"{key}__in": keys})) if keys else []


def _list(request, rows, render) -> ScimResponse:
    start, count = _paging(request)
    total = rows.count()
    page = _page(rows, start, count)
    attributes, excluded = _names(request, "attributes"), _names(request, "excludedAttributes")
    return ScimResponse(
        {
            "schemas": [resources.LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [project(r, attributes, excluded) for r in render(page)],
        }
    )


def _filtered(request, rows, attributes: dict):
    expression = request.GET.get("filter", "").strip()
    return rows.filter(filters.to_q(expression, attributes)) if expression else rows.filter(Q())


def _one(request, resource: dict, version: int) -> HttpResponse:
    if _not_modified(request, version):
        response = HttpResponse(status=304)
        response["ETag"] = resources.etag(version)
        return response
    body = project(resource, _names(request, "attributes"), _names(request, "excludedAttributes"))
    return ScimResponse(body, version=version)


def _not_found(kind: str) -> ScimError:
    return ScimError(_("No %(kind)s with this id.") % {"kind": kind}, status=404)


def _write(request, token, writes, **found) -> bool:
    """DELETE, PUT or PATCH of one resource through its (delete, replace, patch) services, with
    If-Match; True when it was a DELETE (nothing left to show)."""
    delete, replace, patch = writes
    by, version = _by(token), _if_match(request)
    if request.method == "DELETE":
        delete(**found, by=by, version=version)
        return True
    if request.method == "PUT":
        replace(**found, by=by, document=_body(request), version=version)
    else:
        patch(**found, by=by, body=_body(request), version=version)
    return False


# --- Users ---------------------------------------------------------------------------------------


def _user_response(request, scim_user, status: int = 200) -> ScimResponse:
    resource = resources.user_resource(scim_user, request.scim_base)
    location = resource["meta"]["location"] if status == 201 else None
    return ScimResponse(resource, status=status, version=scim_user.version, location=location)


@scim_endpoint(("GET", "POST"))
def users(request, token):
    organization = token.organization
    if request.method == "POST":
        created = services.provision_scim_user(organization=organization, by=_by(token), document=_body(request))
        return _user_response(request, selectors.scim_user(organization, str(created.membership_id)), status=201)
    rows = _filtered(request, selectors.scim_users(organization), filters.USER_ATTRIBUTES)
    return _list(request, rows, lambda page: [resources.user_resource(u, request.scim_base) for u in page])


@scim_endpoint(("GET", "PUT", "PATCH", "DELETE"))
def user(request, token, membership_id: str):
    organization = token.organization
    found = selectors.scim_user(organization, membership_id)
    if found is None:
        raise _not_found("user")
    if request.method == "GET":
        return _one(request, resources.user_resource(found, request.scim_base), found.version)
    writes = (services.delete_scim_user, services.replace_scim_user, services.patch_scim_user)
    if _write(request, token, writes, scim_user=found):
        return HttpResponse(status=204)
    return _user_response(request, selectors.scim_user(organization, membership_id))


# --- Groups --------------------------------------------------------------------------------------


def _group_resources(request, groups) -> list[dict]:
    members = (
        selectors.group_members(request.scim_organization, [g.team_id for g in groups])
        if _wants(request, "members")
        else {}
    )
    found = []
    for group in groups:
        resource = resources.group_resource(group, members.get(group.team_id, []), request.scim_base)
        if not _wants(request, "members"):
            del resource["members"]
        found.append(resource)
    return found


def _group_response(request, group, status: int = 200) -> ScimResponse:
    resource = _group_resources(request, [group])[0]
    location = resource["meta"]["location"] if status == 201 else None
    return ScimResponse(resource, status=status, version=group.version, location=location)


@scim_endpoint(("GET", "POST"))
def groups(request, token):
    organization = request.scim_organization = token.organization
    if request.method == "POST":
        created = services.create_scim_group(organization=organization, by=_by(token), document=_body(request))
        return _group_response(request, selectors.scim_group(organization, str(created.team_id)), status=201)
    rows = _filtered(request, selectors.scim_groups(organization), filters.GROUP_ATTRIBUTES)
    if request.GET.get("filter"):
        rows = rows.distinct()
    return _list(request, rows, lambda page: _group_resources(request, page))


@scim_endpoint(("GET", "PUT", "PATCH", "DELETE"))
def group(request, token, team_id: str):
    organization = request.scim_organization = token.organization
    found = selectors.scim_group(organization, team_id)
    if found is None:
        raise _not_found("group")
    if request.method == "GET":
        if _not_modified(request, found.version):
            return _one(request, {}, found.version)
        return _one(request, _group_resources(request, [found])[0], found.version)
    writes = (services.delete_scim_group, services.replace_scim_group, services.patch_scim_group)
    if _write(request, token, writes, scim_group=found):
        return HttpResponse(status=204)
    return _group_response(request, selectors.scim_group(organization, team_id))


# --- discovery -----------------------------------------------------------------------------------


@scim_endpoint(("GET",))
def root(request, token):
    return ScimResponse(resources.service_provider_config(request.scim_base))


@scim_endpoint(("GET",))
def service_provider_config(request, token):
    return ScimResponse(resources.service_provider_config(request.scim_base))


def _listed(documents: list[dict]) -> ScimResponse:
    return ScimResponse(
        {
            "schemas": [resources.LIST_SCHEMA],
            "totalResults": len(documents),
            "startIndex": 1,
            "itemsPerPage": len(documents),
            "Resources": documents,
        }
    )


@scim_endpoint(("GET",))
def resource_types(request, token):
    return _listed(resources.resource_types(request.scim_base))


def _one_of(documents: list[dict], wanted: str, kind: str) -> ScimResponse:
    for document in documents:
        if document["id"].lower() == wanted.lower():
            return ScimResponse(document)
    raise _not_found(kind)


@scim_endpoint(("GET",))
def resource_type(request, token, resource_type: str):
    return _one_of(resources.resource_types(request.scim_base), resource_type, "resource type")


@scim_endpoint(("GET",))
def schemas(request, token):
    return _listed(resources.schema_documents(request.scim_base))


@scim_endpoint(("GET",))
def schema(request, token, schema_urn: str):
    return _one_of(resources.schema_documents(request.scim_base), schema_urn, "schema")


@scim_endpoint(("GET", "POST", "PUT", "PATCH", "DELETE"))
def unknown(request, token, unknown_path: str):
    raise ScimError(_("There is nothing at this address."), status=404)


@scim_endpoint(("POST",))
def search_everything(request, token):
    """POST /.search across Users and Groups: the body's filter, attributes and paging apply to
    both (a filter that names an attribute only one type has finds nothing of the other)."""
    body = _body(request)
    params = {k.lower(): v for k, v in body.items()}
    request.scim_organization = organization = token.organization
    request.GET = request.GET.copy()
    for name in ("filter", "startIndex", "count", "attributes", "excludedAttributes"):
        value = params.get(name.lower())
        if value is not None:
            request.GET[name] = ",".join(value) if isinstance(value, list) else str(value)
    expression = request.GET.get("filter", "").strip()
    kinds = [
        (
            selectors.scim_users(organization),
            filters.USER_ATTRIBUTES,
            lambda page: [resources.user_resource(u, request.scim_base) for u in page],
        ),
        (selectors.scim_groups(organization), filters.GROUP_ATTRIBUTES, lambda page: _group_resources(request, page)),
    ]
    found, refused = [], None
    for rows, attributes, render in kinds:
        try:
            found.append((rows.filter(filters.to_q(expression, attributes)).distinct() if expression else rows, render))
        except ScimError as error:
            refused = error
    if not found and refused:
        raise refused
    start, count = _paging(request)
    totals = [rows.count() for rows, _ in found]
    page, skip, room = [], start - 1, count
    for (rows, render), total in zip(found, totals, strict=True):
        if room <= 0:
            break
        if skip >= total:
            skip -= total
            continue
        page.extend(render(list(rows[skip : skip + room])))
        room -= min(total - skip, room)
        skip = 0
    attributes, excluded = _names(request, "attributes"), _names(request, "excludedAttributes")
    return ScimResponse(
        {
            "schemas": [resources.LIST_SCHEMA],
            "totalResults": sum(totals),
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [project(r, attributes, excluded) for r in page],
        }
    )

"""Multi-tenancy is a security boundary: walk every URL and API route, as a member of another
organization, and expect the same 404 as for an object that does not exist.

Nothing here lists routes by hand. Every pattern of the URLconf is found by walking the
resolver, so a route a later issue adds is checked the day it lands. The rules it relies on:

* an organization's pages and endpoints carry `org_slug` in the URL;
* an object in the URL is named `<model>_id` after a tenant-owned model (`team_id`,
  `invitation_import_id`), and every tenant-owned model has a factory;
* a route with no organization may only carry secret-token kwargs (an e-mailed link);
* SCIM routes (`scim-*`) authenticate with the organization's SCIM token, not a session: the
  walk sends the attacker organization's token with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Role
from accounts.services import create_api_token
from accounts.services.scim import create_scim_token
from advocacy.tenancy import TenantModel
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.factories import factory_for

# Kwargs that are unguessable secrets from e-mails (ours and allauth's) or tracked links
# (`/r/<code>`), not object ids.
SECRET_KWARGS = {"token", "key", "uidb36", "code"}
# Kwargs that name a kind of thing, not a row, with a value to use in the walk.
VALUE_KWARGS = {
    "network": "linkedin",
    "resource_type": "User",
    "schema_urn": "urn:ietf:params:scim:schemas:core:2.0:User",
    "unknown_path": "nothing-here",
}
# allauth's OpenID Connect URLs name one organization's provider ("org-<slug>"), public like any
# sign-in page; that one organization's provider never acts for another is proven by
# tests/accounts/test_sso_oidc.py::test_one_organizations_provider_cannot_provision_into_another.
VALUE_KWARGS["provider_id"] = "org-victim"
# allauth's SAML endpoints (/accounts/saml/<organization_slug>/login|acs|metadata|sls/), public by
# design (the IdP and a signed-out browser call them), each acting for its own organization
# only: tests/accounts/test_sso_saml.py (another organization's assertion refused at its ACS,
# an unknown slug 404).
VALUE_KWARGS["organization_slug"] = "victim"
# Staff-only and cross-tenant on purpose; checked separately below.
SKIPPED_NAMESPACES = {"admin"}
METHODS = ["get", "post", "put", "patch", "delete"]
MISSING_ID = 987654321


@dataclass
class Route:
    name: str
    kwargs: tuple[str, ...]


def _kwarg_names(pattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    return list(pattern.pattern.regex.groupindex)


def walk(resolver=None, namespace: str = "", kwargs: tuple[str, ...] = ()):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        names = tuple(kwargs) + tuple(_kwarg_names(entry))
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if ns in SKIPPED_NAMESPACES:
                continue
            yield from walk(entry, f"{namespace}{ns}:" if ns else namespace, names)
        elif isinstance(entry, URLPattern):
            if entry.name is None:
                raise AssertionError(f"URL pattern {entry.pattern} has no name; name every route")
            yield Route(f"{namespace}{entry.name}", names)


def tenant_models() -> dict[str, type[TenantModel]]:
    """Snake-case name -> tenant-owned model, for every installed app."""
    found = {}
    for model in apps.get_models():
        if issubclass(model, TenantModel):
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
            found[snake] = model
    return found


ROUTES = list(walk())
ORG_ROUTES = [r for r in ROUTES if "org_slug" in r.kwargs]


def test_the_walk_finds_the_routes_we_know():
    names = {r.name for r in ORG_ROUTES}
    assert {"members", "member_edit", "team_edit", "api-members-detail", "api-teams-detail"} <= names
    # The item editor's live endpoints (issue 16, item 10): a row to add, a row's counts.
    assert {"content:library_suggestion_row", "content:library_suggestion_check"} <= names
    # Supervision (issue 19): the page, removing an assignment, and the API.
    assert {
        "compliance:supervision",
        "compliance:supervision_delete",
        "api-supervision-assignments-list",
        "api-supervision-assignments-detail",
    } <= names
    # Single sign-on settings and its test sign-in (issue 20).
    assert {"sso_settings", "sso_test"} <= names
    # Slack distribution (issue 22): the settings page, install, channels.
    assert {
        "content:slack_settings",
        "content:slack_install",
        "content:slack_route_delete",
        "content:slack_me",
    } <= names
    # The member's devices for Web Push (issue 22, point 4).
    assert {"push_subscribe", "push_unsubscribe"} <= names
    assert len(ORG_ROUTES) >= 20


def test_every_object_in_a_url_is_a_tenant_model_with_a_factory():
    models = tenant_models()
    for route in ROUTES:
        for kwarg in route.kwargs:
            if kwarg in ("org_slug", *SECRET_KWARGS, *VALUE_KWARGS):
                continue
            assert kwarg.endswith("_id"), f"{route.name}: name the URL kwarg {kwarg!r} <model>_id"
            assert kwarg[:-3] in models, f"{route.name}: {kwarg!r} names no tenant-owned model"
            assert "org_slug" in route.kwargs, f"{route.name}: an object route must live under /o/<org_slug>/"
    for model in models.values():
        factory_for(model)


@pytest.fixture
def world(db):
    """Org A (the victim) with one row of every tenant-owned model; B's member has every role."""
    victim = OrganizationFactory(slug="victim")
    attacker_org = OrganizationFactory(slug="attacker")
    attacker = MembershipFactory(organization=attacker_org, roles=list(Role)).user
    MembershipFactory(organization=victim, roles=list(Role))
    objects = {}
    for snake, model in tenant_models().items():
        objects[snake] = factory_for(model)(organization=victim)
    _, scim_token = create_scim_token(actor=attacker.memberships.get(), name="attacker's directory")
    return {
        "victim": victim,
        "attacker_org": attacker_org,
        "attacker": attacker,
        "objects": objects,
        "headers": {"HTTP_AUTHORIZATION": f"Bearer {scim_token}"},
    }


def _headers(route: Route, world) -> dict:
    """The attacker organization's SCIM token for SCIM routes (they take no session)."""
    return world["headers"] if route.name.startswith("scim-") else {}


def _url(route: Route, org_slug: str, objects: dict, missing: bool = False) -> str:
    kwargs = {"org_slug": org_slug}
    for kwarg in route.kwargs:
        if kwarg.endswith("_id"):
            kwargs[kwarg] = MISSING_ID if missing else objects[kwarg[:-3]].pk
        elif kwarg in VALUE_KWARGS:
            kwargs[kwarg] = VALUE_KWARGS[kwarg]
        elif kwarg in SECRET_KWARGS:  # an e-mailed link under an organization (the digest's share link)
            kwargs[kwarg] = "not-a-valid-token"
    return reverse(route.name, kwargs=kwargs)


@pytest.mark.parametrize("route", ORG_ROUTES, ids=lambda r: r.name)
def test_another_organizations_url_is_404_for_every_method(client, world, route):
    client.force_login(world["attacker"])
    for method in METHODS:
        # The victim's own slug: not a member, so the organization does not exist for them.
        response = getattr(client, method)(_url(route, "victim", world["objects"]), **_headers(route, world))
        assert response.status_code == 404, f"{method.upper()} {route.name} on the victim's slug"


OBJECT_ROUTES = [r for r in ORG_ROUTES if any(k.endswith("_id") for k in r.kwargs)]


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_another_organizations_object_answers_like_a_missing_one(client, world, route):
    """The attacker's own slug with the victim's object id: the same answer as no such id."""
    client.force_login(world["attacker"])
    saw_404 = False
    for method in METHODS:
        theirs = getattr(client, method)(_url(route, "attacker", world["objects"]), **_headers(route, world))
        missing = getattr(client, method)(
            _url(route, "attacker", world["objects"], missing=True), **_headers(route, world)
        )
        assert theirs.status_code == missing.status_code, f"{method.upper()} {route.name}"
        assert theirs.status_code not in (200, 201, 204, 302), f"{method.upper()} {route.name} acted"
        if route.name.startswith(("api-", "scim-")):
            assert theirs.json() == missing.json(), f"{method.upper()} {route.name} body differs"
        saw_404 = saw_404 or theirs.status_code == 404
    assert saw_404, f"{route.name} never answered 404"
    for model_name, obj in world["objects"].items():
        assert type(obj).objects.for_org(world["victim"]).filter(pk=obj.pk).exists(), f"{model_name} was deleted"


@pytest.mark.parametrize("route", [r for r in ORG_ROUTES if r.name.startswith("api-")], ids=lambda r: r.name)
def test_a_token_only_works_in_its_own_organization(client, world, route):
    """A member of both organizations, with a token of B, cannot reach A through the API."""
    both = MembershipFactory(organization=world["attacker_org"], roles=list(Role))
    MembershipFactory(organization=world["victim"], user=both.user, roles=list(Role))
    _, plain = create_api_token(actor=both, name="B only")
    response = client.get(_url(route, "victim", world["objects"]), HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_admin_site_is_closed_to_members_who_are_not_staff(client, world):
    client.force_login(world["attacker"])
    response = client.get("/admin/accounts/team/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_another_organizations_push_device_answers_like_a_missing_one(client, world):
    """The device endpoints name a subscription by its endpoint in the body, not in the URL:
    the victim's device, unsubscribed from the attacker's organization, is a 404 like a
    missing one, and stays the victim's (issue 22, point 4)."""
    device = world["objects"]["push_subscription"]
    client.force_login(world["attacker"])
    path = reverse("push_unsubscribe", kwargs={"org_slug": "attacker"})
    theirs = client.post(path, {"endpoint": device.endpoint}, content_type="application/json")
    missing = client.post(path, {"endpoint": device.endpoint + "-none"}, content_type="application/json")
    assert theirs.status_code == missing.status_code == 404 and theirs.json() == missing.json()
    assert type(device).objects.for_org(world["victim"]).filter(pk=device.pk, user=device.user).exists()

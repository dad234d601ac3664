"""The OpenAPI schema tells the truth (issue 15): schemathesis calls every operation of the live
server with a personal token and checks every answer against the schema, with all its checks.

Its Python engine runs here (the pytest plugin's lazy fixture does not run on this pytest),
with a fixed seed, no example database and no cache, so each run sends the same requests; and
bounded: MAX_EXAMPLES per operation in the fuzzing phase, plus the coverage phase's fixed set
(boundary and invalid values of each parameter and property). Nothing is excluded: the test
fails when an operation of the schema was not called.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
import schemathesis
from schemathesis.engine import events

from accounts import services as account_services
from accounts.models import Role
from compliance.models import AuditEntry, ReviewTask
from compliance.services import holds as hold_services
from compliance.services import policy as policy_services
from compliance.services import supervision as supervision_services
from content.services import sharing
from tests.accounts.factories import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    SocialConnectionFactory,
    TeamFactory,
)
from tests.content.factories import ContentItemFactory, SuggestionFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Operations this run's personal token cannot reach by design, tested with their own key instead:
# the conversion API admits only an organization's conversion key (cvk_), so every case here would
# be the same 404 (tests/analytics/test_conversions.py covers its 201/200/400/401/404/409).
KEYED_ELSEWHERE = {"/api/v1/o/{org_slug}/conversions/"}
MAX_EXAMPLES = 5  # per operation in the fuzzing phase: enough to find a mismatch, small enough for CI
ALL_ROLES = [Role.ADMIN, Role.EMPLOYEE, Role.MARKETER, Role.COMPLIANCE, Role.EXECUTIVE]
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def world(settings):
    """An organization with a team, a topic, content with a suggestion, two shares (the
    caller's own, and a colleague's waiting for review), lexicon terms, an invitation and
    audit entries. Its admin holds every role, so no operation is refused for the role, and
    calls with a personal token."""
    settings.NETWORK_APPS = {"linkedin": ("li", "s"), "x": ("x", "s"), "facebook": ("", "")}
    org = OrganizationFactory(slug="conformance")
    admin = MembershipFactory(organization=org, roles=ALL_ROLES, user__email="ada@example.com")
    author = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__email="bo@example.com")
    other = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__email="cy@example.com")
    team = TeamFactory(organization=org, name="Sales")
    admin.teams.add(team)
    topic = TopicFactory(organization=org, name="Launches", slug="launches")
    item = ContentItemFactory(organization=org)
    item.topics.add(topic)
    SuggestionFactory(item=item)
    policy_services.add_term(actor=admin, term="guaranteed", action="review")
    term = policy_services.add_term(actor=admin, term="moonshot", action="warn")
    policy_services.set_review_rule(actor=admin, review_mode="all", team_id=team.pk)  # tighter: applied
    relaxed = policy_services.set_review_rule(actor=admin, review_mode="none", team_id=team.pk)  # waits

    def share(membership, network: str, words: str):
        account = SocialConnectionFactory(organization=org, user=membership.user, network=network)
        made = sharing.submit_share(
            actor=membership,
            item_id=item.pk,
            commentary=words,
            target_keys=[f"connection:{account.pk}"],
            confirm_repeat=True,
        )
        return account, made

    _, in_review = share(author, "linkedin", "Guaranteed to be our best launch.")
    own_account, own_share = share(admin, "x", "Guaranteed good reading.")
    _, token = account_services.create_api_token(actor=admin, name="conformance")
    hold = hold_services.place_hold(actor=admin, name="Matter 1", reason="Subpoena", membership_id=author.pk)
    return {
        "org": org,
        "token": token,
        "ids": {
            "membership_id": other.pk,  # not the caller: removing it leaves the token working
            "team_id": team.pk,
            "invitation_id": InvitationFactory(organization=org).pk,
            "social_connection_id": own_account.pk,
            "content_item_id": item.pk,
            "topic_id": topic.pk,
            "share_id": own_share.pk,
            "delivery_id": own_share.deliveries.get().pk,
            "review_task_id": ReviewTask.objects.for_org(org).get(share=in_review).pk,
            "lexicon_term_id": term.pk,
            "audit_entry_id": AuditEntry.objects.for_org(org).order_by("pk").first().pk,
            "pending_policy_change_id": relaxed.pk,
            "supervision_assignment_id": supervision_services.add_supervisor(
                actor=admin, reviewer_id=admin.user_id, scope="fallback"
            ).pk,
            "legal_hold_id": hold.pk,
        },
    }


def schema_for(base_url: str, world: dict) -> dict:
    """The live server's schema with this organization's slug and rows in the paths.

    Each `{..._id}` becomes the id of a row made above, so every read, write, action and delete
    reaches a real object (a DELETE removes it for the phases after it: that 404 is documented).
    Other slugs and ids only ever answer 404: tests/isolation walks every route for that, and
    tests/api/test_schema.py checks that 404's body; fuzzing them here would spend the run there.

    Request bodies are sent as JSON and as multipart, not also as urlencoded forms: DRF reads
    both kinds of form with the same parser rules, and a third copy of every body case would
    add a minute to the run and no new path through the code.
    """
    response = requests.get(
        f"{base_url}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}, timeout=30
    )
    response.raise_for_status()
    schema = response.json()
    values = {"org_slug": world["org"].slug, **world["ids"]}

    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in values, f"no row for {{{name}}}: make one in world() and name its id"
        return str(values[name])

    paths = {}
    for path, item in schema["paths"].items():
        if path in KEYED_ELSEWHERE:
            continue
        for operation in item.values():
            operation["parameters"] = [p for p in operation.get("parameters", []) if p["in"] != "path"]
            operation.get("requestBody", {}).get("content", {}).pop("application/x-www-form-urlencoded", None)
        paths[re.sub(r"\{(\w+)\}", value, path)] = item
    schema["paths"] = paths
    return schema


def run_schemathesis(base_url: str, schema: dict, token: str) -> dict:
    """Every operation, every phase, every check of schemathesis; deterministic and bounded."""
    config = schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "seed": 15,
            "cache": {"enabled": False},  # nothing carried over from an earlier run
            # A new connection per request, as gunicorn's sync workers answer in production: the
            # test server's keep-alive misreads a request that follows one whose body the view
            # never read (an early 401/403/404), and the client then sees a broken status line.
            "headers": {"Authorization": f"Bearer {token}", "Connection": "close"},
            "request-timeout": 20,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"max-steps": MAX_EXAMPLES}},
            "checks": {
                # Schema-valid input may still break a business rule the schema cannot say (an
                # item that is not live, an account that is not yours, a start without an end):
                # the services refuse those with 400 in the error shape. Anything else that is
                # not a success (405, 415, 422...) still fails the check.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
                },
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(schema, config=config)
    failures, errors, phases, operations = {}, [], {}, set()
    started = time.monotonic()
    for event in schemathesis.engine.from_schema(loaded).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            operations.add(event.label)
            phases[event.phase.value] = phases.get(event.phase.value, 0) + len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        failures.setdefault((check.name, event.label), describe(event, case_id, check))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            errors.append(repr(event.exception))
    return {
        "failures": list(failures.values()),
        "errors": errors,
        "phases": phases,
        "operations": operations,
        "seconds": time.monotonic() - started,
    }


def describe(event, case_id: str, check) -> str:
    case = event.recorder.cases[case_id].value
    interaction = event.recorder.interactions.get(case_id)
    response = interaction.response if interaction else None
    return (
        f"{check.name}: {event.label} ({event.phase.value}) query={case.query!r} body={case.body!r:.300} "
        f"-> {response.status_code if response else '-'}\n"
        f"    {check.failure_info.failure.message[:500]}\n    {(response.text if response else '')[:300]}"
    )


def test_every_operation_answers_as_the_schema_says(live_server, world):
    schema = schema_for(live_server.url, world)
    result = run_schemathesis(live_server.url, schema, world["token"])
    print(
        f"\nschemathesis: {sum(result['phases'].values())} cases {result['phases']} over "
        f"{len(result['operations'])} operations in {result['seconds']:.1f} s"
    )
    assert not result["errors"], "\n".join(result["errors"])
    assert not result["failures"], "\n".join(result["failures"])
    every = {
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item if method in METHODS
    }
    assert result["operations"] == every, f"not called: {sorted(every - result['operations'])}"

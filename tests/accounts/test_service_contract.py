"""The service contract for accounts (issue 18): every write a person makes takes `actor`
keyword-only and refuses a wrong role inside the service, before writing anything."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Network, Role, SocialConnection
from accounts.services import (
    api_tokens,
    connections,
    domains,
    guidelines,
    imports,
    invitations,
    members,
    notifications,
    organizations,
    profile,
    suspension,
)
from tests.accounts.factories import (
    ApiTokenFactory,
    InvitationFactory,
    NotificationFactory,
    OrganizationFactory,
    SignupDomainFactory,
    SocialConnectionFactory,
    TeamFactory,
    TrainingItemFactory,
)
from tests.helpers import member
from tests.service_contract import database_snapshot, takes_actor, unclassified, wrong_actor

MODULES = (
    organizations,
    profile,
    members,
    invitations,
    imports,
    api_tokens,
    connections,
    domains,
    guidelines,
    notifications,
    suspension,
)

# Writes made on behalf of a person -> the permission they check, and how to call them
# (given the organization's objects) with everything but the actor.
WRITES = {
    organizations.update_organization_settings: (
        "org.settings",
        lambda w: {"name": "Renamed", "timezone_name": "UTC", "self_signup_domains": ["renamed.example"]},
    ),
    profile.update_profile: ("org.view", lambda w: {"name": "X", "timezone_name": "", "review_shortcuts": True}),
    profile.switch_organization: ("org.view", lambda w: {}),
    members.update_membership: ("members.manage", lambda w: {"membership": w["employee"], "roles": ["admin"]}),
    members.remove_member: ("members.manage", lambda w: {"membership": w["employee"]}),
    members.create_team: ("teams.manage", lambda w: {"name": "New team"}),
    members.update_team: ("teams.manage", lambda w: {"team": w["team"], "name": "Renamed", "kind": "department"}),
    members.delete_team: ("teams.manage", lambda w: {"team": w["team"]}),
    invitations.invite_member: ("members.manage", lambda w: {"email": "new@example.com"}),
    invitations.resend_invitation: ("members.manage", lambda w: {"invitation": w["invitation"]}),
    invitations.revoke_invitation: ("members.manage", lambda w: {"invitation": w["invitation"]}),
    imports.start_invitation_import: ("members.manage", lambda w: {"filename": "a.csv", "data": b"email\na@b.co\n"}),
    api_tokens.create_api_token: ("tokens.manage_own", lambda w: {"name": "ci"}),
    api_tokens.revoke_api_token: ("tokens.manage_own", lambda w: {"token": w["token"]}),
    connections.start_connection: ("connections.manage_own", lambda w: {"network": "linkedin", "session": {}}),
    connections.select_pages: ("connections.manage_own", lambda w: {"page_ids": []}),
    connections.disconnect: ("connections.manage_own", lambda w: {"connection": w["connection"]}),
    connections.update_network_app: (
        "org.settings",
        lambda w: {"network": "x", "is_enabled": False, "client_id": "", "client_secret": ""},
    ),
    domains.verify_signup_domain: ("org.settings", lambda w: {"signup_domain_id": w["domain"].pk}),
    guidelines.publish_guideline: ("guidelines.manage", lambda w: {"title": "Rules", "body": "Be kind."}),
    guidelines.accept_guidelines: ("org.view", lambda w: {"guideline_id": 1}),
    guidelines.create_training_item: ("guidelines.manage", lambda w: {"title": "Tone", "body": "Yours."}),
    guidelines.update_training_item: (
        "guidelines.manage",
        lambda w: {"item": w["item"], "title": "T", "body": "B", "position": 1, "is_published": True},
    ),
    guidelines.delete_training_item: ("guidelines.manage", lambda w: {"item": w["item"]}),
    notifications.mark_read: ("org.view", lambda w: {"notification_id": w["notification"].pk}),
    notifications.mark_all_read: ("org.view", lambda w: {}),
    notifications.set_preferences: ("org.view", lambda w: {"preferences": {"share_approved": {"email": False}}}),
    suspension.suspend_member: ("members.manage", lambda w: {"membership": w["employee"], "reason": "left"}),
    suspension.reactivate_member: ("members.manage", lambda w: {"membership": w["employee"]}),
}

# Writes with no acting membership, by design (each says why in its docstring).
NO_ACTOR = {
    profile.set_language,  # the person's own setting, also before they belong to an organization
    organizations.create_organization,  # the creator has no membership until it exists
    invitations.accept_invitation,  # not a member yet: the link's secret is the proof
    connections.finish_connection,  # the OAuth callback: the signed state names the membership
    organizations.join_organizations_by_email_domain,  # system: the verified address decides
    invitations.send_invitation,  # system: the import's rows, checked on upload
    invitations.expire_invitations,  # system: beat
    imports.run_invitation_import,  # system: the import task
    api_tokens.revoke_api_tokens_after_password_change,  # system: the password proved the person
    connections.mark_needs_reconnect,  # system
    connections.refresh_connection,  # system: tasks and publishing
    connections.warn_expiring_connections,  # system: beat
    notifications.notify,  # system: called by other services on an event
    notifications.notify_needs_reconnect,  # system
    notifications.record_emailed_notification,  # system: the content digest records what it mailed
    notifications.send_notification_email,  # system: notify's e-mail, after its commit or by its task
    notifications.send_notification_emails,  # system: notify_many's e-mails, after its commit or by its task
    notifications.notify_many,  # system: notify for several members at once
    suspension.suspend_membership,  # the directory (SCIM) or an admin's suspend_member: `by` names who
    suspension.reactivate_membership,  # likewise
    connections.withdraw_accounts_of_suspended_member,  # system: the task after a suspension
    connections.withdraw_account,  # system: one account of that task, or of the sweep
}

# Reads and pure helpers (no write).
NOT_WRITES = {
    connections.callback_url,
    connections.network_configs,
    connections.network_config,
    connections.connections_due_for_refresh,
    connections.connection_health,
    connections.accounts_to_withdraw,
    connections.suspended_members_holding_tokens,
    domains.txt_name,
    domains.txt_value,
    domains.clean_domains,
    domains.dns_client,
    guidelines.needs_acceptance,
    notifications.absolute_url,
    notifications.preference_for,
    notifications.preferences_of,
    notifications.in_words,  # issue 23: a lazy text put into the recipient's words
}


def test_every_public_service_function_is_classified():
    assert unclassified(MODULES, WRITES, NO_ACTOR, NOT_WRITES) == [], "classify these (a write takes actor=)"


@pytest.mark.parametrize("write", list(WRITES), ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_write_takes_the_actor_keyword_only(write):
    assert takes_actor(write)


@pytest.mark.parametrize("write", sorted(NO_ACTOR, key=lambda f: f.__name__), ids=lambda f: f.__name__)
def test_writes_without_an_actor_say_why(write):
    words = write.__doc__ or ""
    assert "System operation" in words or "No `actor`" in words or "no membership" in words.lower()


@pytest.fixture
def world(db):
    org = OrganizationFactory()
    employee = member(org, Role.EMPLOYEE)
    return {
        "org": org,
        "employee": employee,
        "team": TeamFactory(organization=org),
        "invitation": InvitationFactory(organization=org),
        "token": ApiTokenFactory(organization=org, user=employee.user),
        "connection": SocialConnectionFactory(
            organization=org, user=employee.user, network=Network.LINKEDIN, kind=SocialConnection.Kind.MEMBER
        ),
        "domain": SignupDomainFactory(organization=org, domain="acme.example"),
        "item": TrainingItemFactory(organization=org),
        "notification": NotificationFactory(organization=org, user=employee.user),
    }


@pytest.mark.parametrize("write", list(WRITES), ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_a_wrong_role_is_refused_inside_the_service_and_nothing_changes(write, world):
    action, arguments = WRITES[write]
    actor = wrong_actor(world["org"], action)
    before = database_snapshot()
    with pytest.raises(PermissionDenied):
        write(actor=actor, **arguments(world))
    assert database_snapshot() == before

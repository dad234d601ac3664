"""Writes for identity and tenancy: one function per business action, one module per concept.

organizations, profile, members (and teams), invitations, imports (CSV invitations),
api_tokens; and the siblings connections, domains, guidelines, notifications. Callers
write `from accounts import services` and `services.invite_member(...)`: the public
writes are re-exported here.
"""

from accounts.services.api_tokens import create_api_token, revoke_api_token, revoke_api_tokens_after_password_change
from accounts.services.imports import (
    CSV_COLUMNS,
    IMPORT_BATCH,
    INVITATION_IMPORT_TASK,
    run_invitation_import,
    start_invitation_import,
)
from accounts.services.invitations import (
    accept_invitation,
    expire_invitations,
    invite_member,
    resend_invitation,
    revoke_invitation,
)
from accounts.services.members import create_team, delete_team, remove_member, update_membership, update_team
from accounts.services.organizations import (
    create_organization,
    join_organizations_by_email_domain,
    update_organization_settings,
)
from accounts.services.profile import set_language, switch_organization, update_profile
from accounts.services.suspension import reactivate_member, suspend_member

__all__ = [
    "CSV_COLUMNS",
    "IMPORT_BATCH",
    "INVITATION_IMPORT_TASK",
    "accept_invitation",
    "create_api_token",
    "create_organization",
    "create_team",
    "delete_team",
    "expire_invitations",
    "invite_member",
    "join_organizations_by_email_domain",
    "reactivate_member",
    "remove_member",
    "resend_invitation",
    "revoke_api_token",
    "revoke_api_tokens_after_password_change",
    "revoke_invitation",
    "run_invitation_import",
    "set_language",
    "start_invitation_import",
    "suspend_member",
    "switch_organization",
    "update_membership",
    "update_organization_settings",
    "update_profile",
    "update_team",
]

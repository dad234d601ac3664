from django.urls import path

from accounts.views import api_tokens as api_token_views
from accounts.views import connections as connection_views
from accounts.views import guidelines as guideline_views
from accounts.views import invitations as invitation_views
from accounts.views import members as member_views
from accounts.views import notifications as notification_views
from accounts.views import organizations as organization_views
from accounts.views import profile as profile_views
from accounts.views import push as push_views
from accounts.views import scim as scim_views
from accounts.views import sso as sso_views
from accounts.views import unsubscribe as unsubscribe_views

# Mounted under /o/<org_slug>/: object ids are named <model>_id (the isolation suite relies on it).
org_urlpatterns = [
    path("members/", member_views.members, name="members"),
    path("members/<int:membership_id>/", member_views.member_edit, name="member_edit"),
    path("members/<int:membership_id>/remove/", member_views.member_remove, name="member_remove"),
    path("members/<int:membership_id>/suspend/", member_views.member_suspend, name="member_suspend"),
    path("members/<int:membership_id>/reactivate/", member_views.member_reactivate, name="member_reactivate"),
    path("invitations/", invitation_views.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/revoke/", invitation_views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<int:invitation_id>/resend/", invitation_views.invitation_resend, name="invitation_resend"),
    path(
        "invitations/imports/<int:invitation_import_id>/",
        invitation_views.invitation_import,
        name="invitation_import",
    ),
    path("teams/", member_views.teams, name="teams"),
    path("teams/<int:team_id>/", member_views.team_edit, name="team_edit"),
    path("teams/<int:team_id>/delete/", member_views.team_delete, name="team_delete"),
    path("settings/", organization_views.org_settings, name="org_settings"),
    path(
        "settings/domains/<int:signup_domain_id>/verify/",
        organization_views.org_domain_verify,
        name="org_domain_verify",
    ),
    path("settings/networks/", connection_views.network_settings, name="network_settings"),
    path("connections/", connection_views.connections_page, name="connections"),
    path("connections/facebook/pages/", connection_views.facebook_pages, name="facebook_pages"),
    path("connections/<str:network>/connect/", connection_views.connection_start, name="connection_start"),
    path(
        "connections/<int:social_connection_id>/disconnect/",
        connection_views.connection_disconnect,
        name="connection_disconnect",
    ),
    path("tokens/", api_token_views.api_tokens, name="api_tokens"),
    path("tokens/<int:api_token_id>/revoke/", api_token_views.api_token_revoke, name="api_token_revoke"),
    path("guidelines/", guideline_views.guidelines, name="guidelines"),
    path("guidelines/accept/", guideline_views.guidelines_accept, name="guidelines_accept"),
    path("guidelines/manage/", guideline_views.guidelines_manage, name="guidelines_manage"),
    path(
        "guidelines/manage/<int:guideline_id>/acceptances/",
        guideline_views.guideline_acceptances,
        name="guideline_acceptances",
    ),
    path("guidelines/training/", guideline_views.training_items, name="training_items"),
    path("guidelines/training/<int:training_item_id>/", guideline_views.training_item_edit, name="training_item_edit"),
    path(
        "guidelines/training/<int:training_item_id>/delete/",
        guideline_views.training_item_delete,
        name="training_item_delete",
    ),
    path("profile/", profile_views.profile, name="profile"),
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/<int:notification_id>/read/", notification_views.notification_read, name="notification_read"),
    path("notifications/read-all/", notification_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", notification_views.notification_preferences, name="notification_preferences"),
    path("notifications/devices/subscribe/", push_views.push_subscribe, name="push_subscribe"),
    path("notifications/devices/unsubscribe/", push_views.push_unsubscribe, name="push_unsubscribe"),
    path("settings/scim/", scim_views.scim_settings, name="scim_settings"),
    path("settings/scim/tokens/<int:scim_token_id>/revoke/", scim_views.scim_token_revoke, name="scim_token_revoke"),
    path("settings/scim/groups/<int:scim_group_id>/roles/", scim_views.scim_group_roles, name="scim_group_roles"),
    path("settings/sso/", sso_views.sso_settings, name="sso_settings"),
    path("settings/sso/test/", sso_views.sso_test, name="sso_test"),
]

urlpatterns = [
    path("", organization_views.home, name="home"),
    path("organizations/new/", organization_views.organization_create, name="organization_create"),
    path("language/", profile_views.switch_language, name="switch_language"),  # issue 23
    path("invitations/<str:token>/", invitation_views.invitation_accept, name="invitation_accept"),
    path("mail/unsubscribe/<str:token>/", unsubscribe_views.email_unsubscribe, name="email_unsubscribe"),  # issue 22
    # One redirect URI per network for the whole deployment; the org travels in `state`.
    path("connections/callback/<str:network>/", connection_views.connection_callback, name="connection_callback"),
    # The sign-in page's e-mail step (home-realm discovery): to the company's provider or the password.
    path("accounts/sso/", sso_views.sso_discover, name="sso_discover"),
]

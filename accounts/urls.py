from django.urls import path

from accounts import views
from accounts.views import guidelines as guideline_views
from accounts.views import notifications as notification_views
from accounts.views import profile as profile_views

# Mounted under /o/<org_slug>/: object ids are named <model>_id (the isolation suite relies on it).
org_urlpatterns = [
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/", views.member_edit, name="member_edit"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path(
        "invitations/imports/<int:invitation_import_id>/",
        views.invitation_import,
        name="invitation_import",
    ),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("teams/<int:team_id>/delete/", views.team_delete, name="team_delete"),
    path("settings/", views.org_settings, name="org_settings"),
    path("settings/domains/<int:signup_domain_id>/verify/", views.org_domain_verify, name="org_domain_verify"),
    path("settings/networks/", views.network_settings, name="network_settings"),
    path("connections/", views.connections_page, name="connections"),
    path("connections/facebook/pages/", views.facebook_pages, name="facebook_pages"),
    path("connections/<str:network>/connect/", views.connection_start, name="connection_start"),
    path(
        "connections/<int:social_connection_id>/disconnect/",
        views.connection_disconnect,
        name="connection_disconnect",
    ),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:api_token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
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
]

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    # One redirect URI per network for the whole deployment; the org travels in `state`.
    path("connections/callback/<str:network>/", views.connection_callback, name="connection_callback"),
]

from django.urls import path

from content.library_urls import urlpatterns as library_urlpatterns
from content.views import email_links, held, sharing, slack, teams

app_name = "content"
urlpatterns = [
    path("feed/", sharing.feed, name="feed"),
    path("feed/topics/<int:topic_id>/follow/", sharing.topic_follow, name="topic_follow"),
    path("feed/<int:content_item_id>/share/", sharing.compose, name="compose"),
    path("feed/<int:content_item_id>/share/check/", sharing.compose_check, name="compose_check"),
    path("shares/", sharing.my_shares, name="my_shares"),
    path("shares/<int:share_id>/", sharing.share_detail, name="share_detail"),
    path("shares/<int:share_id>/cancel/", sharing.share_cancel, name="share_cancel"),
    path("shares/<int:share_id>/delete/", sharing.share_delete_published, name="share_delete_published"),
    path("deliveries/<int:delivery_id>/retry/", sharing.delivery_retry, name="delivery_retry"),
    path("deliveries/<int:delivery_id>/posted/", sharing.delivery_assisted_done, name="delivery_assisted_done"),
    path("deliveries/<int:delivery_id>/attach/", sharing.delivery_attach, name="delivery_attach"),
    *library_urlpatterns,
    path("mail/share/<str:token>/", email_links.email_share, name="email_share"),  # issue 22: digest's one-click
    path("settings/teams/", teams.teams_settings, name="teams_settings"),  # issue 22: Microsoft Teams
    path("settings/teams/<int:teams_channel_id>/delete/", teams.teams_channel_delete, name="teams_channel_delete"),
    path("held/", held.held_list, name="held_list"),
    path("slack/", slack.slack_settings, name="slack_settings"),
    path("slack/install/", slack.slack_install, name="slack_install"),
    path("slack/me/", slack.slack_me, name="slack_me"),
    path("slack/uninstall/", slack.slack_uninstall, name="slack_uninstall"),
    path("slack/channels/", slack.slack_route_add, name="slack_route_add"),
    path("slack/channels/<int:slack_channel_route_id>/delete/", slack.slack_route_delete, name="slack_route_delete"),
    path("held/<int:share_id>/release/", held.held_release, name="held_release"),
    path("held/<int:share_id>/cancel/", held.held_cancel, name="held_cancel"),
]

from django.urls import path

from accounts import views_guidelines as views

# Mounted under /o/<org_slug>/: object ids are named <model>_id (the isolation suite relies on it).
org_urlpatterns = [
    path("guidelines/", views.guidelines, name="guidelines"),
    path("guidelines/accept/", views.guidelines_accept, name="guidelines_accept"),
    path("guidelines/manage/", views.guidelines_manage, name="guidelines_manage"),
    path(
        "guidelines/manage/<int:guideline_id>/acceptances/",
        views.guideline_acceptances,
        name="guideline_acceptances",
    ),
    path("guidelines/training/", views.training_items, name="training_items"),
    path("guidelines/training/<int:training_item_id>/", views.training_item_edit, name="training_item_edit"),
    path(
        "guidelines/training/<int:training_item_id>/delete/",
        views.training_item_delete,
        name="training_item_delete",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/preferences/", views.notification_preferences, name="notification_preferences"),
]

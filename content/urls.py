from django.urls import path

from content import views

app_name = "content"
urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("library/", views.library, name="library"),
]

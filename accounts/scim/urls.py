"""Mounted at /scim/v2/o/<org_slug>/ (no trailing slashes: SCIM clients append /Users)."""

from django.urls import path

from accounts.scim import views

urlpatterns = [
    path("", views.root, name="scim-root"),
    path(".search", views.search_everything, name="scim-search"),
    path("Users", views.users, name="scim-users"),
    path("Users/<str:membership_id>", views.user, name="scim-user"),
    path("Groups", views.groups, name="scim-groups"),
    path("Groups/<str:team_id>", views.group, name="scim-group"),
    path("ServiceProviderConfig", views.service_provider_config, name="scim-service-provider-config"),
    path("ResourceTypes", views.resource_types, name="scim-resource-types"),
    path("ResourceTypes/<str:resource_type>", views.resource_type, name="scim-resource-type"),
    path("Schemas", views.schemas, name="scim-schemas"),
    path("Schemas/<str:schema_urn>", views.schema, name="scim-schema"),
    path("<path:unknown_path>", views.unknown, name="scim-unknown"),  # a SCIM 404, not a page
]

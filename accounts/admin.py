"""Django admin for platform staff: deliberately cross-tenant, through all_organizations()."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import (
    ApiToken,
    Invitation,
    InvitationImport,
    Membership,
    NetworkApp,
    Organization,
    SignupDomain,
    SocialConnection,
    Team,
    User,
)


class AllOrganizationsAdmin(admin.ModelAdmin):
    readonly_fields = ("organization",)

    def get_queryset(self, request):
        return self.model.objects.all_organizations().select_related("organization")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name", "timezone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(AllOrganizationsAdmin):
    list_display = ["user", "organization", "is_employee", "is_marketer", "is_compliance", "is_executive", "is_admin"]
    list_filter = ["organization"]
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(AllOrganizationsAdmin):
    list_display = ["name", "kind", "organization"]


@admin.register(Invitation)
class InvitationAdmin(AllOrganizationsAdmin):
    list_display = ["email", "organization", "status", "expires_at"]
    exclude = ["token_hash"]


@admin.register(InvitationImport)
class InvitationImportAdmin(AllOrganizationsAdmin):
    list_display = ["filename", "organization", "status", "processed_rows", "total_rows"]


@admin.register(ApiToken)
class ApiTokenAdmin(AllOrganizationsAdmin):
    list_display = ["name", "user", "organization", "prefix", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(SignupDomain)
class SignupDomainAdmin(AllOrganizationsAdmin):
    list_display = ["domain", "organization"]


@admin.register(NetworkApp)
class NetworkAppAdmin(AllOrganizationsAdmin):
    list_display = ["network", "organization", "is_enabled", "client_id"]
    exclude = ["client_secret", "api_secret"]


@admin.register(SocialConnection)
class SocialConnectionAdmin(AllOrganizationsAdmin):
    list_display = ["name", "network", "kind", "user", "organization", "status", "expires_at"]
    list_filter = ["network", "status"]
    exclude = ["access_token", "refresh_token"]
    raw_id_fields = ["user", "parent"]

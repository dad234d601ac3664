"""Every URL. Organization pages live under /o/<org_slug>/, the API under /api/v1/."""

from allauth import urls as allauth_urls
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts import api as accounts_api
from accounts.urls import org_urlpatterns as accounts_org_urls
from accounts.urls import urlpatterns as accounts_urls
from accounts.views import pwa as pwa_views
from accounts.views import sso as sso_views
from advocacy import admin_access, pwa
from advocacy.health import healthz
from advocacy.languages import ScriptCatalog
from advocacy.viewsets import SingletonRouter
from analytics.api import content as analytics_content_api
from analytics.api import conversions as conversions_api
from analytics.api import me as analytics_me_api
from analytics.api import roi as roi_api
from analytics.views import browser_events
from analytics.views import crm as crm_views
from analytics.views.redirect import tracked_link
from compliance.api import audit as audit_api
from compliance.api import holds as holds_api
from compliance.api import policy as policy_api
from compliance.api import review as review_api
from compliance.api import supervision as supervision_api
from compliance.views import home
from content.api import library as library_api
from content.api import sharing as sharing_api
from content.views import library as library_views
from content.views import slack as slack_views

admin_access.install()  # /admin/ only through the product login, with TOTP (issue 15, finding 3)

ORG = r"o/(?P<org_slug>[-a-zA-Z0-9_]+)"

api_router = SimpleRouter()
api_router.register(rf"{ORG}/members", accounts_api.MemberViewSet, basename="api-members")
api_router.register(rf"{ORG}/teams", accounts_api.TeamViewSet, basename="api-teams")
api_router.register(rf"{ORG}/invitations", accounts_api.InvitationViewSet, basename="api-invitations")
api_router.register(rf"{ORG}/connections", accounts_api.ConnectionViewSet, basename="api-connections")
api_router.register(rf"{ORG}/content-items", library_api.ContentItemViewSet, basename="api-content-items")
api_router.register(rf"{ORG}/topics", library_api.TopicViewSet, basename="api-topics")
api_router.register(rf"{ORG}/shares", sharing_api.ShareViewSet, basename="api-shares")
api_router.register(rf"{ORG}/deliveries", sharing_api.DeliveryViewSet, basename="api-deliveries")
api_router.register(rf"{ORG}/review-tasks", review_api.ReviewTaskViewSet, basename="api-review-tasks")
api_router.register(rf"{ORG}/audit-entries", audit_api.AuditEntryViewSet, basename="api-audit-entries")
api_router.register(rf"{ORG}/policy/changes", policy_api.PendingPolicyChangeViewSet, basename="api-policy-changes")
api_router.register(rf"{ORG}/lexicon-terms", policy_api.LexiconTermViewSet, basename="api-lexicon-terms")
api_router.register(
    rf"{ORG}/supervision-assignments",
    supervision_api.SupervisionAssignmentViewSet,
    basename="api-supervision-assignments",
)
api_router.register(rf"{ORG}/legal-holds", holds_api.LegalHoldViewSet, basename="api-legal-holds")

# One object each, no list (the schema describes an object, not an array).
singletons = SingletonRouter()
singletons.register(r"me", accounts_api.MeViewSet, basename="api-me")
singletons.register(rf"{ORG}/policy", policy_api.PolicyViewSet, basename="api-policy")
singletons.register(rf"{ORG}/analytics/roi", roi_api.RoiViewSet, basename="api-analytics-roi")
singletons.register(
    rf"{ORG}/analytics/content", analytics_content_api.ContentPerformanceViewSet, basename="api-analytics-content"
)
singletons.register(rf"{ORG}/analytics/me", analytics_me_api.MyStatsViewSet, basename="api-analytics-me")
singletons.register(
    rf"{ORG}/analytics/leaderboard", analytics_me_api.LeaderboardViewSet, basename="api-analytics-leaderboard"
)
singletons.register(
    rf"{ORG}/analytics/preferences", analytics_me_api.AnalyticsPreferenceViewSet, basename="api-analytics-preferences"
)
singletons.register(
    rf"{ORG}/analytics/points-rules", analytics_me_api.PointsRulesViewSet, basename="api-analytics-points-rules"
)

# allauth's routes without its unnamed legacy redirects (/accounts/social/...: this product never
# had them), so that every route has a name (tests/isolation walks them all).
allauth_urlpatterns = [p for p in allauth_urls.urlpatterns if getattr(p, "name", "") is not None]

org_urlpatterns = [
    path("", home.org_home, name="org_home"),
    *accounts_org_urls,
    path("", include("content.urls")),
    path("", include("compliance.urls")),
    path("", include("analytics.urls")),
]

urlpatterns = [
    path("", include(accounts_urls)),
    path("o/<slug:org_slug>/", include(org_urlpatterns)),
    # Before allauth's: its SAML single logout (unsigned requests accepted, no IdP logout here).
    path("accounts/saml/<str:organization_slug>/sls/", sso_views.saml_logout_refused, name="saml_sls_refused"),
    path("accounts/", include(allauth_urlpatterns)),
    path("api/v1/o/<slug:org_slug>/conversions/", conversions_api.ConversionView.as_view(), name="api-conversions"),
    path("api/v1/", include(api_router.urls + singletons.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("jsi18n/", ScriptCatalog.as_view(), name="javascript_catalog"),  # the browser scripts' words (issue 23)
    path("r/<str:code>", tracked_link, name="tracked_link"),
    path("crm/hubspot/callback/", crm_views.hubspot_callback, name="crm_callback"),
    path("slack/oauth/callback/", slack_views.slack_oauth_callback, name="slack_oauth_callback"),  # issue 22
    path("slack/interactivity/", slack_views.slack_interactivity, name="slack_interactivity"),  # Slack signs it
    path("c/snippet.js", browser_events.snippet, name="conversion_snippet"),
    path("c/<slug:org_slug>/events", browser_events.events, name="conversion_events"),
    path("media/<path:key>", library_views.item_image, name="media"),  # a storage key: unguessable
    path("scim/v2/o/<slug:org_slug>/", include("accounts.scim.urls")),  # SCIM 2.0, the directory's token
    # The installable app (issue 22): manifest, service worker at the root scope, offline page, share target.
    path("manifest.webmanifest", pwa.manifest, name="pwa_manifest"),
    path("sw.js", pwa.service_worker, name="pwa_service_worker"),
    path("offline/", pwa.offline, name="pwa_offline"),
    path("share/", pwa_views.share_target, name="pwa_share_target"),
]

handler404 = "advocacy.views.page_not_found"

"""The service contract for analytics (issue 18): every write a person makes takes `actor`
keyword-only and refuses a wrong role inside the service, before writing anything.
(metrics.py and advocate_stats.py hold system work only: pulls, refreshes.)"""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Role
from analytics.services import advocates, clicks, conversions, crm, deals, report_version, roi_settings, rollups
from tests.accounts.factories import OrganizationFactory
from tests.analytics.factories import ConversionKeyFactory, CrmConnectionFactory
from tests.helpers import member
from tests.service_contract import database_snapshot, takes_actor, unclassified, wrong_actor

MODULES = (advocates, clicks, conversions, crm, deals, report_version, roi_settings, rollups)

CSV = b"id,amount,currency,close_date,email\nD-1,100.00,EUR,2026-11-30,a@example.com\n"

# Writes made on behalf of a person -> the permission they check, and the other arguments.
WRITES = {
    advocates.update_points_rules: ("analytics.settings", lambda w: {"points_per_share": 1}),
    advocates.set_leaderboard_hidden: ("org.view", lambda w: {"hidden": True}),
    advocates.set_weekly_summary: ("org.view", lambda w: {"enabled": False}),
    roi_settings.save_settings: ("analytics.settings", lambda w: {"currency": "EUR"}),
    roi_settings.save_conversion_settings: (
        "analytics.settings",
        lambda w: {"origins": "https://www.example.com", "events": "signup", "window_days": 7},
    ),
    conversions.create_key: ("analytics.settings", lambda w: {"name": "Site"}),
    conversions.revoke_key: ("analytics.settings", lambda w: {"key": w["key"]}),
    crm.start_connect: ("analytics.settings", lambda w: {"session": {}}),
    crm.request_sync: ("analytics.settings", lambda w: {}),
    crm.disconnect: ("analytics.settings", lambda w: {}),
    deals.import_deals_csv: ("analytics.settings", lambda w: {"content": CSV, "filename": "deals.csv"}),
}

# Writes with no acting membership: system operations (tasks, beat, API keys, the
# tracked-link redirect) and the CRM's OAuth callback (its state names the membership).
NO_ACTOR = {
    rollups.note_raw_clicks_from,  # system: the clicks retention task
    crm.finish_connect,
    advocates.stop_weekly_summary,  # the e-mail's one-click unsubscribe: its signed link names the membership
    crm.mark_needs_reconnect,
    crm.access_token,  # refreshes the stored tokens when due
    conversions.record,  # a site's key or the browser snippet reports it
    conversions.attribute_pending,
    deals.save_deal,
    deals.attribute_waiting_deals,
    deals.sync_hubspot,
    clicks.record_click,
    clicks.forget_local_links,
    clicks.discard_handoff,
    clicks.push_handoff,
    clicks.flush_clicks,
    clicks.write_clicks,
    report_version.warm,
    report_version.queue_warming,
    report_version.bump,
    rollups.add,
    rollups.fold_activity,
    rollups.rebuild,
}

# Reads and pure helpers.
NOT_WRITES = {
    conversions.email_digest,
    conversions.authenticate_key,
    conversions.parse_event,
    crm.callback_url,
    crm.hubspot_client,
    crm.connection_of,
    deals.connections_due,
    deals.countdown,
    deals.parse_deals_csv,
    clicks.tracked_url,
    clicks.link_for,
    clicks.is_counted,
    clicks.visitor_hash,
    clicks.rate_source,
    clicks.buffered_count,
    report_version.warming_key,
    roi_settings.settings_for,
    rollups.local_day,
    rollups.has_link,
}


def test_every_public_service_function_is_classified():
    assert unclassified(MODULES, WRITES, NO_ACTOR, NOT_WRITES) == [], "classify these (a write takes actor=)"


@pytest.mark.parametrize("write", list(WRITES), ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_write_takes_the_actor_keyword_only(write):
    assert takes_actor(write)


@pytest.fixture
def world(db):
    org = OrganizationFactory()
    CrmConnectionFactory(organization=org)
    return {"org": org, "key": ConversionKeyFactory(organization=org), "employee": member(org, Role.EMPLOYEE)}


@pytest.mark.parametrize("write", list(WRITES), ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_a_wrong_role_is_refused_inside_the_service_and_nothing_changes(
    write, world, django_capture_on_commit_callbacks
):
    action, arguments = WRITES[write]
    actor = wrong_actor(world["org"], action)
    before = database_snapshot()
    with django_capture_on_commit_callbacks() as queued, pytest.raises(PermissionDenied):
        write(actor=actor, **arguments(world))
    assert database_snapshot() == before
    assert queued == [], "nothing is enqueued either"

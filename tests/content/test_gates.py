"""Issue 16, item 3: the gates up front. The cap counts the day a share goes out (the org's
day), the guidelines show before writing (a banner on every page, the composer opening on
them with the draft kept), the feed shows the cap and the posting hours, and outside the
hours the composer offers "Schedule for <next allowed time>" as one action."""

import html
import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from accounts.models import GuidelineAcceptance, Role
from accounts.services import guidelines as guideline_services
from advocacy.errors import Conflict
from content.models import Share
from content.services import sharing
from tests.accounts.factories import GuidelineFactory, OrganizationFactory
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

# Tuesday 1 December 2026, 11:00 in Paris (CET, UTC+1): inside 08:00-20:00.
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
# The same Tuesday, 22:30 in Paris: outside the hours.
TUESDAY_NIGHT = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
WEDNESDAY_0800_PARIS = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def item(org):
    return ContentItemFactory(organization=org)


def capped(org, cap=2, hours=(time(8, 0), time(20, 0))):
    org.daily_share_cap = cap
    org.posting_hours_start, org.posting_hours_end = hours
    org.save()
    return org


def submit(employee, item, **kwargs):
    return sharing.submit_share(
        actor=employee,
        item_id=item.pk,
        commentary="My own words about this launch.",
        target_keys=["assisted:x"],
        confirm_repeat=True,
        **kwargs,
    )


def compose_url(org, item):
    return org_url("content:compose", org, content_item_id=item.pk)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


# --- the cap counts the day a share goes out ------------------------------------------------


def test_a_share_for_tomorrow_is_accepted_when_todays_cap_is_used_and_counts_tomorrow(org, employee, item):
    capped(org, cap=2)
    tomorrow_10 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item)
        submit(employee, item)
        assert sharing.shares_left_today(employee) == 0
        with pytest.raises(Conflict, match="shared 2 times today"):
            submit(employee, item)
        later = submit(employee, item, scheduled_for=tomorrow_10)
        assert later.status == "scheduled"
        assert sharing.shares_left_today(employee) == 0
        assert sharing.shares_left_on(employee, tomorrow_10) == 1
        submit(employee, item, scheduled_for=tomorrow_10 + timedelta(hours=2))
        with pytest.raises(Conflict, match="2 of your shares already go out on Wednesday 2 December"):
            submit(employee, item, scheduled_for=tomorrow_10 + timedelta(hours=4))
    assert Share.objects.for_org(org).filter(author=employee.user).count() == 4


def test_moving_a_share_to_a_full_day_is_refused_and_changes_nothing(org, employee, item):
    """Re-timing a share (the API's resubmit takes a new time) counts it on its new day."""
    capped(org, cap=1, hours=(None, None))
    tomorrow_10 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item, scheduled_for=tomorrow_10)
        today = submit(employee, item)
        with pytest.raises(Conflict, match="1 of your shares already go out on Wednesday 2 December"):
            sharing.edit_share(
                actor=employee,
                share_id=today.pk,
                commentary="Moved.",
                scheduled_for=tomorrow_10 + timedelta(hours=1),
            )
        today.refresh_from_db()
        assert (today.version, today.scheduled_for, today.commentary) == (1, None, "My own words about this launch.")
        # The same day: a new time on it is not a second share that day.
        again = sharing.edit_share(
            actor=employee,
            share_id=today.pk,
            commentary="Later today.",
            scheduled_for=TUESDAY_MORNING + timedelta(hours=3),
        )
        assert again.version == 2


def test_a_share_scheduled_for_later_today_leaves_room_on_no_other_day(org, employee, item):
    capped(org, cap=1, hours=(None, None))
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item, scheduled_for=TUESDAY_MORNING + timedelta(hours=3))
        assert sharing.shares_left_today(employee) == 0
        with pytest.raises(Conflict, match="shared 1 time today"):
            submit(employee, item)


def test_the_day_is_the_organizations_not_utcs(org, employee, item):
    capped(org, cap=1, hours=(None, None))
    # 23:30 UTC on Tuesday is 00:30 on Wednesday in Paris: it counts on Wednesday.
    just_after_midnight_paris = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item, scheduled_for=just_after_midnight_paris)
        assert sharing.shares_left_today(employee) == 1
        assert sharing.shares_left_on(employee, WEDNESDAY_0800_PARIS) == 0
        submit(employee, item)  # today still has its one
        assert sharing.shares_left_today(employee) == 0


def test_cancelled_and_rejected_shares_do_not_count(org, employee, item):
    capped(org, cap=1, hours=(None, None))
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        first = submit(employee, item)
        sharing.cancel_share(actor=employee, share_id=first.pk)
        assert sharing.shares_left_today(employee) == 1
        Share.objects.for_org(org).filter(pk=first.pk).update(status="rejected")
        assert sharing.shares_left_today(employee) == 1


# --- the gates for the feed and the composer --------------------------------------------------


def test_gates_outside_hours_name_the_next_allowed_time_in_the_viewers_zone(org, employee):
    capped(org, cap=3)
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        gates = sharing.sharing_gates(employee, zone="Europe/Paris")
        assert (gates.cap, gates.left_today, gates.later_because) == (3, 3, "hours")
        assert gates.next_time == WEDNESDAY_0800_PARIS
        assert gates.next_words == "Wednesday 08:00 CET"
        assert gates.hours == "Posts go out between 08:00 and 20:00 CET."
        in_new_york = sharing.sharing_gates(employee, zone="America/New_York")
    assert in_new_york.next_words == "Wednesday 02:00 EST"
    assert in_new_york.hours == "Posts go out between 02:00 and 14:00 EST (08:00 to 20:00 in Europe/Paris)."


def test_gates_inside_hours_with_room_let_a_share_go_now(org, employee):
    capped(org, cap=3)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        gates = sharing.sharing_gates(employee, zone="Europe/Paris")
    assert gates.next_time is None and gates.later_because == "" and not gates.blocked


def test_gates_past_todays_cap_offer_the_first_hour_of_the_next_day_with_room(org, employee, item):
    capped(org, cap=1)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item)
        submit(employee, item, scheduled_for=datetime(2026, 12, 2, 12, 0, tzinfo=UTC))  # fills Wednesday
        gates = sharing.sharing_gates(employee, zone="Europe/Paris")
    assert (gates.left_today, gates.later_because) == (0, "cap")
    assert gates.next_time == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    assert gates.next_words == "Thursday 08:00 CET"


def test_gates_without_cap_or_hours_say_nothing(org, employee):
    gates = sharing.sharing_gates(employee, zone="Europe/Paris")
    assert (gates.cap, gates.left_today, gates.hours, gates.next_time) == (None, None, "", None)


def test_the_feed_shows_the_cap_left_the_hours_and_the_next_time(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        submit(employee, item, scheduled_for=WEDNESDAY_0800_PARIS + timedelta(hours=1))
        body = text_of(client.get(org_url("content:feed", org)))
    assert "3 of 3 shares left today" in body  # the scheduled one goes out on Wednesday
    assert "Posts go out between 08:00 and 20:00 CET." in body
    assert "Outside the posting hours now: what you share now can go out Wednesday 08:00 CET." in body


def test_the_feed_counts_todays_shares(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item)
        body = text_of(client.get(org_url("content:feed", org)))
    assert "2 of 3 shares left today" in body
    assert "Outside the posting hours" not in body


# --- outside hours: "Schedule for <next allowed time>" as one action ---------------------------


def test_outside_hours_the_composer_offers_the_next_allowed_time_first(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        body = text_of(client.get(compose_url(org, item)))
    button = re.search(r'<button[^>]*data-testid="schedule-next"[^>]*>([^<]*)</button>', body)
    assert button and button.group(1) == "Schedule for Wednesday 08:00 CET"
    first, then = body.index('data-testid="schedule-next"'), body.index('data-testid="share-button"')
    assert first < then, "the primary action first"


def test_inside_hours_there_is_no_schedule_action(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        body = text_of(client.get(compose_url(org, item)))
    assert 'data-testid="schedule-next"' not in body


def test_schedule_for_the_next_allowed_time_is_one_action(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    data = {"commentary": "Late thoughts on our launch.", "targets": ["assisted:x"], "when": "now"}
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        refused = text_of(client.post(compose_url(org, item), data))
        assert "The next allowed time is Wednesday 2 December at 08:00" in refused
        assert not Share.objects.for_org(org).exists()
        response = client.post(compose_url(org, item), {**data, "schedule_next": "1"})
    assert response.status_code == 302
    share = Share.objects.for_org(org).get()
    assert share.scheduled_for == WEDNESDAY_0800_PARIS and share.status == "scheduled"
    assert share.commentary == "Late thoughts on our launch."


def test_schedule_next_ignores_a_time_sent_by_the_page(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    data = {
        "commentary": "Late thoughts on our launch.",
        "targets": ["assisted:x"],
        "when": "later",
        "scheduled_for": "2026-12-01T23:00",  # outside the hours: not what the button means
        "schedule_next": "1",
    }
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        assert client.post(compose_url(org, item), data).status_code == 302
    assert Share.objects.for_org(org).get().scheduled_for == WEDNESDAY_0800_PARIS


def test_schedule_next_past_the_cap_goes_to_the_next_day(client, org, employee, item):
    capped(org, cap=1)
    client.force_login(employee.user)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        submit(employee, item)
        body = text_of(client.get(compose_url(org, item)))
        assert "Today's shares are used up. The next allowed time is Wednesday 08:00 CET." in body
        data = {"commentary": "One more, tomorrow.", "targets": ["assisted:linkedin"], "schedule_next": "1"}
        assert client.post(compose_url(org, item), data).status_code == 302
    assert Share.objects.for_org(org).order_by("pk").last().scheduled_for == WEDNESDAY_0800_PARIS


def test_a_schedule_next_with_bad_input_keeps_the_words_and_says_why(client, org, employee, item):
    capped(org, cap=3)
    client.force_login(employee.user)
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        body = text_of(client.post(compose_url(org, item), {"commentary": "Kept words.", "schedule_next": "1"}))
    assert "Choose at least one account to share to." in body and "Kept words." in body
    assert not Share.objects.for_org(org).exists()


# --- the guidelines before the first share ----------------------------------------------------


PAGES = ["org_home", "content:feed", "content:my_shares", "connections", "analytics:my_stats", "profile"]


def test_a_member_who_has_not_accepted_sees_the_banner_on_every_page(client, org, employee):
    GuidelineFactory(organization=org, version=1)
    client.force_login(employee.user)
    for name in PAGES:
        body = text_of(client.get(org_url(name, org)))
        assert 'data-testid="guidelines-banner"' in body, name
        assert "read and accept Acme's social media guidelines (version 1)" in body, name
    # Not on the guidelines page itself: the accept button is there.
    assert 'data-testid="guidelines-banner"' not in text_of(client.get(org_url("guidelines", org)))


def test_no_banner_once_accepted_nor_for_roles_that_never_share_nor_without_guidelines(client, org, employee):
    for name in PAGES[:2]:
        client.force_login(employee.user)
        assert 'data-testid="guidelines-banner"' not in text_of(client.get(org_url(name, org)))
    guideline = GuidelineFactory(organization=org, version=1)
    guideline_services.accept_guidelines(actor=employee, guideline_id=guideline.pk)
    assert 'data-testid="guidelines-banner"' not in text_of(client.get(org_url("content:feed", org)))
    marketer = member(org, Role.MARKETER)
    client.force_login(marketer.user)
    assert 'data-testid="guidelines-banner"' not in text_of(client.get(org_url("org_home", org)))
    # A new version asks again.
    GuidelineFactory(organization=org, version=2)
    client.force_login(employee.user)
    assert "(version 2)" in text_of(client.get(org_url("content:my_shares", org)))


def test_the_banner_costs_no_query(client, org, employee):
    client.force_login(employee.user)
    guideline = GuidelineFactory(organization=org, version=1)
    url = org_url("content:my_shares", org)
    client.get(url)
    with CaptureQueriesContext(db) as pending:
        assert 'data-testid="guidelines-banner"' in text_of(client.get(url))
    guideline_services.accept_guidelines(actor=employee, guideline_id=guideline.pk)
    with CaptureQueriesContext(db) as accepted:
        assert 'data-testid="guidelines-banner"' not in text_of(client.get(url))
    assert len(pending.captured_queries) == len(accepted.captured_queries)


def test_another_organizations_guidelines_do_not_count(client, org, employee):
    GuidelineFactory(organization=OrganizationFactory(), version=3)
    client.force_login(employee.user)
    assert 'data-testid="guidelines-banner"' not in text_of(client.get(org_url("content:feed", org)))


def test_the_composer_opens_on_the_guidelines_and_accepting_keeps_the_draft(client, org, employee, item):
    guideline = GuidelineFactory(organization=org, version=2, title="Share kindly", body="Be kind, disclose.")
    client.force_login(employee.user)
    body = text_of(client.get(compose_url(org, item)))
    assert 'data-testid="guidelines-gate"' in body and "Be kind, disclose." in body
    assert f'name="accept_guideline" value="{guideline.pk}"' in body
    assert 'data-testid="guidelines-banner"' not in body, "the composer shows the guidelines themselves"

    draft = {
        "commentary": "Words I do not want to type twice.",
        "targets": ["assisted:x", "assisted:linkedin"],
        "when": "later",
        "scheduled_for": "2030-01-08T10:30",
        "accept_guideline": str(guideline.pk),
    }
    body = text_of(client.post(compose_url(org, item), draft))
    assert GuidelineAcceptance.objects.for_org(org).filter(user=employee.user, guideline=guideline).exists()
    assert "Your draft is kept." in body
    assert "Words I do not want to type twice.</textarea>" in body
    assert all(re.search(f'value="assisted:{n}" data-network="{n}" checked', body) for n in ("x", "linkedin"))
    assert 'value="2030-01-08T10:30"' in body
    assert 'data-testid="guidelines-gate"' not in body
    assert not Share.objects.for_org(org).exists(), "accepting shares nothing"
    assert 'class="error"' not in body, "the draft is not judged yet"


def test_submitting_before_accepting_keeps_the_words_and_shows_the_guidelines(client, org, employee, item):
    GuidelineFactory(organization=org, version=1, body="Be kind.")
    client.force_login(employee.user)
    data = {"commentary": "Not lost.", "targets": ["assisted:x"], "when": "now"}
    body = text_of(client.post(compose_url(org, item), data))
    assert "guidelines (version 1) before sharing" in body and "Not lost.</textarea>" in body
    assert 'data-testid="guidelines-gate"' in body
    assert not Share.objects.for_org(org).exists()


def test_accepting_an_outdated_version_says_why_and_keeps_the_draft(client, org, employee, item):
    old = GuidelineFactory(organization=org, version=1)
    GuidelineFactory(organization=org, version=2, body="The new rules.")
    client.force_login(employee.user)
    data = {"commentary": "Still here.", "targets": ["assisted:x"], "accept_guideline": str(old.pk)}
    body = text_of(client.post(compose_url(org, item), data))
    assert "A newer version of the guidelines (version 2) was published" in body
    assert 'class="error"' not in body, "the draft is not judged yet"
    assert "Still here.</textarea>" in body and "The new rules." in body
    assert not GuidelineAcceptance.objects.for_org(org).exists()


def test_another_organizations_guideline_cannot_be_accepted_from_the_composer(client, org, employee, item):
    GuidelineFactory(organization=org, version=1)
    theirs = GuidelineFactory(organization=OrganizationFactory(), version=1)
    client.force_login(employee.user)
    data = {"commentary": "Mine.", "targets": ["assisted:x"], "accept_guideline": str(theirs.pk)}
    body = text_of(client.post(compose_url(org, item), data))
    assert "No such guidelines." in body and "Mine.</textarea>" in body
    assert not GuidelineAcceptance.objects.all_organizations().filter(user=employee.user).exists()

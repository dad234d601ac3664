"""Legal holds: held records cannot be removed by retention or deletion; holds are placed,
changed and released by officers, audited and listed."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, User
from advocacy.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from compliance.models import AuditEntry, Decision, LegalHold, Policy, Screening
from compliance.selectors.holds import active_hold_on
from compliance.services import holds, retention
from content.models import Delivery, Share, ShareVersion
from content.services import publishing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory
from tests.compliance.factories import DecisionFactory, PolicyFactory, ScreeningFactory
from tests.content.factories import DeliveryFactory, ShareFactory, ShareVersionFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

YEARS_AGO_10 = 365 * 10


@pytest.fixture
def org():
    org = OrganizationFactory(slug="acme", timezone="Europe/Paris")
    PolicyFactory(organization=org, retention_years=7)
    return org


@pytest.fixture
def officer(org):
    return member(org, Role.COMPLIANCE)


def _old_share(org, *, author=None, team=None, days_ago=YEARS_AGO_10):
    """A share with its whole history, last active `days_ago` days ago (past retention by default)."""
    share = ShareFactory(item__organization=org, team=team, **({"author": author} if author else {}))
    version = ShareVersionFactory(share=share)
    ScreeningFactory(share=share, version=version)
    DecisionFactory(share=share)
    DeliveryFactory(share=share)
    old = timezone.now() - datetime.timedelta(days=days_ago)
    Share.objects.for_org(org).filter(pk=share.pk).update(submitted_at=old, updated_at=old, created_at=old)
    share.refresh_from_db()
    return share


def _day(days_ago: int) -> datetime.date:
    return (timezone.now() - datetime.timedelta(days=days_ago)).date()


def _delete_refused(org, model, share) -> bool:
    """Try to delete the share's rows of `model` in the database; True when the guard refused."""
    field = "pk" if model is Share else "share_id"
    try:
        with transaction.atomic():
            model.objects.for_org(org).filter(**{field: share.pk}).delete()
    except DatabaseError as exc:
        assert "legal hold" in str(exc)
        return True
    return False


# --- the database refuses to delete held records, after retention too ---------------------


@pytest.mark.parametrize("model", [Share, ShareVersion, Delivery, Decision, Screening])
def test_a_hold_on_a_person_blocks_deleting_their_records_after_retention(org, officer, model):
    person = MembershipFactory(organization=org)
    held = _old_share(org, author=person.user)
    other = _old_share(org)
    holds.place_hold(actor=officer, name="Matter 2026-14", reason="Subpoena", membership_id=person.pk)
    assert _delete_refused(org, model, held)
    assert model.objects.for_org(org).filter(**({"pk": held.pk} if model is Share else {"share": held})).exists()
    assert not _delete_refused(org, Share, other)  # same age, not held: retention alone lets it go
    assert not Share.objects.for_org(org).filter(pk=other.pk).exists()


def test_a_hold_on_a_team_covers_the_team_the_author_was_in_when_sharing(org, officer):
    team, elsewhere = TeamFactory(organization=org), TeamFactory(organization=org)
    held = _old_share(org, team=team)
    not_held = _old_share(org, team=elsewhere)
    holds.place_hold(actor=officer, name="Team matter", reason="Regulator inquiry", team_id=team.pk)
    assert _delete_refused(org, Share, held)
    assert not _delete_refused(org, Share, not_held)


def test_a_hold_on_a_date_range_covers_shares_active_in_it(org, officer):
    inside = _old_share(org, days_ago=3000)
    before = _old_share(org, days_ago=3200)
    after = _old_share(org, days_ago=2800)
    holds.place_hold(actor=officer, name="Q3 matter", reason="Class action", date_from=_day(3010), date_to=_day(2990))
    assert _delete_refused(org, Share, inside)
    assert not _delete_refused(org, Share, before)
    assert not _delete_refused(org, Share, after)


def test_a_person_within_a_range_needs_both_to_match(org, officer):
    person = MembershipFactory(organization=org)
    theirs_inside = _old_share(org, author=person.user, days_ago=3000)
    theirs_outside = _old_share(org, author=person.user, days_ago=3300)
    someone_inside = _old_share(org, days_ago=3000)
    holds.place_hold(
        actor=officer,
        name="Matter X",
        reason="Counsel's letter",
        membership_id=person.pk,
        date_from=_day(3100),
        date_to=_day(2900),
    )
    assert _delete_refused(org, Share, theirs_inside)
    assert not _delete_refused(org, Share, theirs_outside)
    assert not _delete_refused(org, Share, someone_inside)


def test_the_python_check_names_the_hold_and_agrees_with_the_database(org, officer):
    officer.user.name = "Dana Officer"
    officer.user.save()
    person = MembershipFactory(organization=org)
    held, free = _old_share(org, author=person.user), _old_share(org)
    holds.place_hold(actor=officer, name="Matter 2026-14", reason="Subpoena", membership_id=person.pk)
    with pytest.raises(NotAllowed, match=rf"Share {held.pk} is under the legal hold 'Matter 2026-14' placed by Dana"):
        retention.check_share_deletable(held)
    retention.check_share_deletable(free)  # past retention, not held
    assert _delete_refused(org, Share, held) and not _delete_refused(org, Share, free)


def test_releasing_the_hold_lifts_it(org, officer):
    person = MembershipFactory(organization=org)
    held = _old_share(org, author=person.user)
    hold = holds.place_hold(actor=officer, name="Matter 7", reason="Subpoena", membership_id=person.pk)
    assert _delete_refused(org, Share, held)
    released = holds.release_hold(actor=officer, hold_id=hold.pk, reason="Matter settled")
    assert released.shares_held_at_release == 1 and released.released_by_id == officer.user_id
    retention.check_share_deletable(held)
    assert not _delete_refused(org, Share, held)
    assert LegalHold.objects.for_org(org).filter(pk=hold.pk).exists()  # released, never deleted


def test_a_hold_keeps_records_still_inside_retention_after_it_too(org, officer):
    young = _old_share(org, days_ago=10)
    hold = holds.place_hold(actor=officer, name="Recent", reason="Inquiry", date_from=_day(30))
    assert _delete_refused(org, Share, young)
    holds.release_hold(actor=officer, hold_id=hold.pk, reason="Closed")
    with pytest.raises(DatabaseError, match="retention: share"), transaction.atomic():
        Share.objects.for_org(org).filter(pk=young.pk).delete()


def test_days_are_the_organizations_and_the_database_agrees_with_python(org, officer):
    share = _old_share(org)
    late_evening_utc = datetime.datetime(2016, 3, 31, 23, 30, tzinfo=datetime.UTC)  # 1 April 01:30 in Paris
    Share.objects.for_org(org).filter(pk=share.pk).update(
        created_at=late_evening_utc, submitted_at=late_evening_utc, updated_at=late_evening_utc
    )
    share.refresh_from_db()
    march = holds.place_hold(actor=officer, name="March", reason="r", date_to=datetime.date(2016, 3, 31))
    assert active_hold_on(share, org) is None and not _delete_refused(org, ShareVersion, share)
    holds.release_hold(actor=officer, hold_id=march.pk, reason="wrong month")
    holds.place_hold(actor=officer, name="April", reason="r", date_from=datetime.date(2016, 4, 1))
    assert active_hold_on(share, org).name == "April"
    assert _delete_refused(org, Share, share)


def test_another_organizations_hold_does_not_cover_our_shares(org, officer):
    other_org = OrganizationFactory()
    holds.place_hold(actor=member(other_org, Role.COMPLIANCE), name="Theirs", reason="x", date_from=_day(5000))
    share = _old_share(org)
    assert active_hold_on(share, org) is None
    assert not _delete_refused(org, Share, share)


def test_the_database_keeps_holds_and_their_scope(org, officer):
    hold = holds.place_hold(actor=officer, name="Kept", reason="x", date_from=_day(100))
    with pytest.raises(DatabaseError, match="release it instead"), transaction.atomic():
        LegalHold.objects.for_org(org).filter(pk=hold.pk).delete()
    with pytest.raises(DatabaseError, match="scope of hold"), transaction.atomic():
        LegalHold.objects.for_org(org).filter(pk=hold.pk).update(date_from=_day(1))
    holds.release_hold(actor=officer, hold_id=hold.pk, reason="done")
    with pytest.raises(DatabaseError, match="was released"), transaction.atomic():
        LegalHold.objects.for_org(org).filter(pk=hold.pk).update(released_at=None)


# --- every other path that removes records ----------------------------------------------


def test_removing_a_held_member_keeps_their_records_and_the_user_cannot_be_erased(org, officer):
    person = MembershipFactory(organization=org)
    share = _old_share(org, author=person.user)
    hold = holds.place_hold(actor=officer, name="Departure", reason="Dispute", membership_id=person.pk)
    admin = member(org, Role.ADMIN)
    account_services.remove_member(actor=admin, membership=person)
    Policy.objects.for_org(org).update(delete_after_retention=True)
    report = retention.purge_expired_records(organization_id=org.pk)
    assert report.removed == 0 and report.kept_by_hold == {"Departure": 1}
    assert Share.objects.for_org(org).filter(pk=share.pk).exists()
    assert active_hold_on(share, org) == hold  # the hold follows a removed member too
    with pytest.raises(ProtectedError), transaction.atomic():  # the shares and the hold name the user
        User.objects.filter(pk=person.user_id).delete()
    assert User.objects.filter(pk=person.user_id).exists()


def test_a_held_team_cannot_be_deleted_and_its_shares_keep_their_team(org, officer):
    team = TeamFactory(organization=org, name="Sales")
    share = _old_share(org, team=team)
    holds.place_hold(actor=officer, name="Sales matter", reason="Inquiry", team_id=team.pk)
    with pytest.raises(Conflict, match="Team Sales is named by legal hold “Sales matter”, a record that must be kept"):
        account_services.delete_team(actor=member(org, Role.ADMIN), team=team)
    share.refresh_from_db()
    assert share.team_id == team.pk
    assert not AuditEntry.objects.for_org(org).filter(action="team.deleted").exists()


def test_a_held_post_can_be_taken_down_at_the_network_and_its_record_stays(pub, client, settings):
    settings.PUBLISH_QUEUE = "publish-nobody-listens"  # this test publishes itself
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, "x")])
    for delivery in pub.deliveries(share):
        assert publishing.publish(delivery.pk) == "published"
    officer = member(pub.org, Role.COMPLIANCE)
    holds.place_hold(actor=officer, name="Matter 2026-14", reason="Subpoena", membership_id=emma.pk)
    client.force_login(emma.user)
    page = client.post(
        org_url("content:share_delete_published", pub.org, share_id=share.pk), follow=True
    ).content.decode()
    assert "Removed from X." in page and pub.posts() == []
    share.refresh_from_db()
    assert share.status == Share.Status.PUBLISHED  # the record, its versions and deliveries stay
    assert all(d.removed_at is not None and d.remote_id for d in pub.deliveries(share))
    assert ShareVersion.objects.for_org(pub.org).filter(share=share).exists()
    with pytest.raises(NotAllowed, match="under the legal hold 'Matter 2026-14'"):
        retention.check_share_deletable(share)


# --- placing, changing, releasing: rules and audit --------------------------------------


def test_hold_actions_are_audited(org, officer):
    person = MembershipFactory(organization=org)
    _old_share(org, author=person.user)
    hold = holds.place_hold(actor=officer, name="Matter 1", reason="Subpoena", membership_id=person.pk)
    holds.change_hold(actor=officer, hold_id=hold.pk, name="Matter 1 (SEC)", reason="Subpoena")
    holds.release_hold(actor=officer, hold_id=hold.pk, reason="Closed")
    entries = {e.action: e for e in AuditEntry.objects.for_org(org).filter(action__startswith="legal_hold.")}
    assert set(entries) == {"legal_hold.placed", "legal_hold.changed", "legal_hold.released"}
    assert entries["legal_hold.placed"].after["shares_held"] == 1
    assert entries["legal_hold.placed"].after["membership_id"] == person.pk
    assert entries["legal_hold.changed"].before == {"name": "Matter 1"}
    assert entries["legal_hold.changed"].after == {"name": "Matter 1 (SEC)"}
    assert entries["legal_hold.released"].after["release_reason"] == "Closed"
    assert all(e.actor_id == officer.user_id or e.actor_id is None for e in entries.values())


def test_the_audit_log_says_hold_actions_in_words_linked_to_the_hold(org, officer):
    from advocacy.audit import acting_as
    from compliance.selectors.audit_trail import entries_in_words

    person = MembershipFactory(organization=org, user__name="Emma Employee")
    with acting_as(officer.user):  # what the request middleware sets for a page
        hold = holds.place_hold(actor=officer, name="Matter 7", reason="Subpoena", membership_id=person.pk)
        holds.release_hold(actor=officer, hold_id=hold.pk, reason="The matter closed")
    entries = AuditEntry.objects.for_org(org).filter(action__startswith="legal_hold.").order_by("sequence")
    placed, released = entries_in_words(org, officer, entries.select_related("actor"))
    who = officer.user.get_full_name()
    assert placed.sentence == f"{who} placed the legal hold “Matter 7” on Emma Employee's shares"
    assert released.sentence == f"{who} released the legal hold “Matter 7”: The matter closed"
    assert placed.target.url == org_url("compliance:legal_hold", org, legal_hold_id=hold.pk)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({}, "Say what the hold covers"),
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "is before the first day"),
        ({"date_from": "March"}, "YYYY-MM-DD"),
        ({"name": "  ", "date_from": "2026-03-01"}, "Name the matter"),
        ({"reason": "", "date_from": "2026-03-01"}, "Say why"),
        ({"membership_id": "person", "date_from": "2026-03-01"}, "Choose a person"),
    ],
)
def test_bad_input_is_refused_in_words_and_changes_nothing(org, officer, kwargs, words):
    args = {"name": "Matter", "reason": "Subpoena", **kwargs}
    with pytest.raises(ValidationFailed, match=words):
        holds.place_hold(actor=officer, **args)
    assert not LegalHold.objects.for_org(org).exists()
    assert not AuditEntry.objects.for_org(org).filter(action__startswith="legal_hold.").exists()


def test_a_person_and_a_team_of_another_organization_are_refused(org, officer):
    other = OrganizationFactory()
    with pytest.raises(ValidationFailed, match="Choose a person of this organization"):
        holds.place_hold(actor=officer, name="M", reason="r", membership_id=MembershipFactory(organization=other).pk)
    with pytest.raises(ValidationFailed, match="Choose a team of this organization"):
        holds.place_hold(actor=officer, name="M", reason="r", team_id=TeamFactory(organization=other).pk)
    with pytest.raises(ValidationFailed, match="one person or one team"):
        holds.place_hold(
            actor=officer,
            name="M",
            reason="r",
            membership_id=MembershipFactory(organization=org).pk,
            team_id=TeamFactory(organization=org).pk,
        )
    assert not LegalHold.objects.for_org(org).exists()


def test_another_organizations_hold_is_not_found_and_not_changed(org, officer):
    theirs = holds.place_hold(
        actor=member(OrganizationFactory(), Role.COMPLIANCE), name="Theirs", reason="r", date_from="2026-01-01"
    )
    with pytest.raises(NotFound):
        holds.release_hold(actor=officer, hold_id=theirs.pk, reason="mine now")
    with pytest.raises(NotFound):
        holds.change_hold(actor=officer, hold_id=theirs.pk, name="x", reason="y")
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.name == "Theirs"


def test_names_are_unique_among_active_holds_and_released_holds_are_final(org, officer):
    hold = holds.place_hold(actor=officer, name="Matter 9", reason="r", date_from="2026-01-01")
    with pytest.raises(Conflict, match="already called 'Matter 9'"):
        holds.place_hold(actor=officer, name="Matter 9", reason="r", date_to="2026-01-01")
    holds.release_hold(actor=officer, hold_id=hold.pk, reason="done")
    with pytest.raises(Conflict, match="already released"):
        holds.release_hold(actor=officer, hold_id=hold.pk, reason="again")
    with pytest.raises(Conflict, match="can no longer be changed"):
        holds.change_hold(actor=officer, hold_id=hold.pk, name="Matter 9b", reason="r")
    holds.place_hold(actor=officer, name="Matter 9", reason="reopened", date_from="2026-01-01")
    assert LegalHold.objects.for_org(org).filter(name="Matter 9").count() == 2


def test_only_compliance_officers_place_holds(org):
    for roles in ([Role.ADMIN], [Role.EMPLOYEE], [Role.MARKETER, Role.EXECUTIVE]):
        with pytest.raises(PermissionDenied):
            holds.place_hold(actor=member(org, *roles), name="M", reason="r", date_from="2026-01-01")
    assert not LegalHold.objects.for_org(org).exists()


# --- the page -----------------------------------------------------------------------------


def test_officers_place_change_and_release_holds_on_the_page(client, org, officer):
    person = MembershipFactory(organization=org, user__name="Emma Employee")
    _old_share(org, author=person.user)
    _old_share(org, author=person.user, days_ago=20)
    client.force_login(officer.user)
    url = org_url("compliance:legal_holds", org)
    response = client.post(
        url, {"name": "Matter 2026-14", "reason": "Subpoena", "membership": str(person.pk)}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302
    hold = LegalHold.objects.for_org(org).get()
    assert AuditEntry.objects.for_org(org).get(action="legal_hold.placed").ip == "203.0.113.9"
    page = client.get(url).content.decode()
    assert "Matter 2026-14" in page and "Emma Employee&#x27;s shares" in page
    assert '<td data-testid="hold-shares">2</td>' in page
    detail = org_url("compliance:legal_hold", org, legal_hold_id=hold.pk)
    assert client.post(detail, {"name": "Matter 2026-14 (SEC)", "reason": "Subpoena"}).status_code == 302
    release = org_url("compliance:legal_hold_release", org, legal_hold_id=hold.pk)
    client.post(release, {"release_reason": ""})
    hold.refresh_from_db()
    assert hold.is_active and hold.name == "Matter 2026-14 (SEC)"
    assert client.post(release, {"release_reason": "Settled"}).status_code == 302
    hold.refresh_from_db()
    assert not hold.is_active and hold.shares_held_at_release == 2
    assert "when released" in client.get(url).content.decode()


def test_the_release_message_counts_one_share_in_the_singular(client, org, officer):
    person = MembershipFactory(organization=org, user__name="Emma Employee")
    _old_share(org, author=person.user)
    hold = holds.place_hold(actor=officer, name="Matter 1", reason="r", membership_id=person.pk)
    client.force_login(officer.user)
    release = org_url("compliance:legal_hold_release", org, legal_hold_id=hold.pk)
    page = client.post(release, {"release_reason": "Settled"}, follow=True).content.decode()
    assert "Legal hold &#x27;Matter 1&#x27; released; it held 1 share." in page


def test_bad_input_on_the_page_shows_the_error_and_places_nothing(client, org, officer):
    client.force_login(officer.user)
    url = org_url("compliance:legal_holds", org)
    response = client.post(url, {"name": "M", "reason": "r", "date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert response.status_code == 400 and "is before the first day" in response.content.decode()
    response = client.post(url, {"name": "M", "reason": "r"})
    assert response.status_code == 400 and "Say what the hold covers" in response.content.decode()
    other_team = TeamFactory(organization=OrganizationFactory())
    response = client.post(url, {"name": "M", "reason": "r", "team": str(other_team.pk)})
    assert response.status_code == 400
    assert not LegalHold.objects.for_org(org).exists()


# session, user, membership; the person and the team choices; the holds with their share counts
# (one query whatever their number); the organization switcher and the unread notifications
QUERIES_HOLDS_PAGE = 8


def test_the_list_page_has_a_fixed_query_count(client, org, officer, django_assert_num_queries):
    client.force_login(officer.user)
    url = org_url("compliance:legal_holds", org)
    team = TeamFactory(organization=org)
    holds.place_hold(actor=officer, name="First", reason="r", team_id=team.pk)
    _old_share(org, team=team)
    client.get(url)  # warm the session
    with django_assert_num_queries(QUERIES_HOLDS_PAGE) as few:
        client.get(url)
    for n in range(8):
        person = MembershipFactory(organization=org)
        _old_share(org, author=person.user)
        hold = holds.place_hold(actor=officer, name=f"Matter {n}", reason="r", membership_id=person.pk)
        if n % 2:
            holds.release_hold(actor=officer, hold_id=hold.pk, reason="done")
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("data-hold=") == 9


def test_only_officers_see_the_page_and_another_orgs_hold_is_404(client, org, officer):
    theirs = LegalHold.objects.create(
        organization=OrganizationFactory(), name="Theirs", reason="r", date_from=_day(1), placed_at=timezone.now()
    )
    client.force_login(officer.user)
    assert client.get(org_url("compliance:legal_hold", org, legal_hold_id=theirs.pk)).status_code == 404
    release = org_url("compliance:legal_hold_release", org, legal_hold_id=theirs.pk)
    assert client.post(release, {"release_reason": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
    client.force_login(member(org, Role.ADMIN, Role.EMPLOYEE).user)
    assert client.get(org_url("compliance:legal_holds", org)).status_code == 403


# --- the API ------------------------------------------------------------------------------


def test_the_api_places_lists_changes_and_releases_holds(client, org, officer, django_assert_num_queries):
    person = MembershipFactory(organization=org, user__email="emma@acme.test")
    _old_share(org, author=person.user)
    client.force_login(officer.user)
    base = f"/api/v1/o/{org.slug}/legal-holds/"
    created = client.post(
        base, {"name": "Matter 2026-14", "reason": "Subpoena", "membership": person.pk}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["person"], body["active"], body["shares_held"]) == ("emma@acme.test", True, 1)
    hold_url = f"{base}{body['id']}/"
    changed = client.patch(hold_url, {"name": "Matter 2026-14 (SEC)"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["name"] == "Matter 2026-14 (SEC)"
    refused = client.post(f"{hold_url}release/", {"reason": ""}, content_type="application/json")
    assert refused.status_code == 400 and client.get(hold_url).json()["active"] is True
    released = client.post(f"{hold_url}release/", {"reason": "Settled"}, content_type="application/json")
    assert released.status_code == 200
    assert (released.json()["active"], released.json()["shares_held"]) == (False, 1)
    assert client.delete(hold_url).status_code == 405
    client.get(base)
    with django_assert_num_queries(QUERIES_HOLDS_API) as few:
        client.get(base)
    for n in range(5):
        holds.place_hold(actor=officer, name=f"M{n}", reason="r", date_from=_day(n))
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(base).json()["results"]) == 6


# session, user, membership, the page's count, the holds with their share counts
QUERIES_HOLDS_API = 5


def test_the_api_refuses_bad_input_and_other_organizations(client, org, officer):
    client.force_login(officer.user)
    base = f"/api/v1/o/{org.slug}/legal-holds/"
    bad = client.post(
        base,
        {"name": "M", "reason": "r", "date_from": "2026-03-01", "date_to": "2026-02-01"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "before the first day" in bad.content.decode()
    no_scope = client.post(base, {"name": "M", "reason": "r"}, content_type="application/json")
    assert no_scope.status_code == 400 and "Say what the hold covers" in no_scope.content.decode()
    other = OrganizationFactory()
    stranger = client.post(
        base,
        {"name": "M", "reason": "r", "membership": MembershipFactory(organization=other).pk},
        content_type="application/json",
    )
    assert stranger.status_code == 400
    assert not LegalHold.objects.for_org(org).exists()
    theirs = holds.place_hold(actor=member(other, Role.COMPLIANCE), name="Theirs", reason="r", date_from=_day(1))
    assert client.get(f"{base}{theirs.pk}/").status_code == 404
    gone = client.post(f"{base}{theirs.pk}/release/", {"reason": "x"}, content_type="application/json")
    assert gone.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active

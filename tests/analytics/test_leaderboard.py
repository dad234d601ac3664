"""The leaderboard: visible members ranked by points in the period (ties share a rank), the
organization's points rules, hiding oneself (others no longer see them; they still see
their own rank, privately), over the page and the API."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import Role
from analytics.models import AdvocatePreference
from analytics.selectors.advocates import leaderboard, points_rules_for
from analytics.selectors.periods import Period
from analytics.services.advocates import set_leaderboard_hidden, set_weekly_summary, update_points_rules
from tests.accounts.factories import OrganizationFactory, acting
from tests.analytics.factories import AdvocateDailyStatsFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
QUERY = {"start": "2026-11-01", "end": "2026-11-30"}


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")


def person(org, name, *roles):
    membership = member(org, *roles)
    membership.user.name = name
    membership.user.save()
    return membership


def score(membership, *, day=date(2026, 11, 10), **counters):
    return AdvocateDailyStatsFactory(organization=membership.organization, user=membership.user, day=day, **counters)


@pytest.fixture
def team(org):
    """Default rules: 1 per share, 5 per post, 1 per unique click, 2 per engagement."""
    ada, bob, cy, dee = (person(org, n) for n in ("Ada", "Bob", "Cy", "Dee"))
    score(ada, shares=10, posts=8)  # 10 + 40 = 50
    score(bob, posts=2, unique_clicks=10, likes=5)  # 10 + 10 + 10 = 30
    score(cy, shares=20, likes=3, comments=2)  # 20 + 10 = 30
    score(dee, posts=1, unique_clicks=3, clicks=9)  # 5 + 3 = 8 (unique clicks score, not raw clicks)
    score(dee, day=date(2026, 10, 31), posts=100)  # before the period: not counted
    return {"ada": ada, "bob": bob, "cy": cy, "dee": dee}


def ranks(board):
    return [(row["name"], row["rank"], row["points"]) for row in board.rows]


def test_members_ranked_by_points_with_shared_ranks(org, team):
    board = leaderboard(org, PERIOD, points_rules_for(org), viewer_user_id=team["dee"].user_id)
    assert ranks(board) == [("Ada", 1, 50), ("Bob", 2, 30), ("Cy", 2, 30), ("Dee", 4, 8)]
    assert (board.my_rank, board.ranked, board.hidden) == (4, 4, False)


def test_the_organizations_rules_decide_the_order(org, team):
    update_points_rules(
        actor=acting(org), points_per_share=0, points_per_post=1, points_per_click=10, points_per_engagement=0
    )
    board = leaderboard(org, PERIOD, points_rules_for(org))
    assert ranks(board) == [("Bob", 1, 102), ("Dee", 2, 31), ("Ada", 3, 8)]  # Cy has 0: not on the board


def test_members_without_points_inactive_or_of_another_org_are_not_ranked(org, team):
    team["cy"].is_active = False
    team["cy"].save()
    person(org, "Eve")  # no activity
    stranger = person(OrganizationFactory(), "Stranger")
    score(stranger, posts=50)
    assert [name for name, *_ in ranks(leaderboard(org, PERIOD, points_rules_for(org)))] == ["Ada", "Bob", "Dee"]


def test_a_hidden_member_is_invisible_to_others_but_sees_their_own_rank(org, team):
    set_leaderboard_hidden(actor=team["bob"], hidden=True)
    rules = points_rules_for(org)
    seen_by_ada = leaderboard(org, PERIOD, rules, viewer_user_id=team["ada"].user_id)
    assert ranks(seen_by_ada) == [("Ada", 1, 50), ("Cy", 2, 30), ("Dee", 3, 8)]
    assert "Bob" not in str(seen_by_ada.as_dict())
    seen_by_bob = leaderboard(org, PERIOD, rules, viewer_user_id=team["bob"].user_id)
    assert ranks(seen_by_bob) == ranks(seen_by_ada)
    assert (seen_by_bob.hidden, seen_by_bob.my_rank, seen_by_bob.me["points"]) == (True, 2, 30)
    set_leaderboard_hidden(actor=team["bob"], hidden=False)
    assert ("Bob", 2, 30) in ranks(leaderboard(org, PERIOD, rules))


def test_hiding_from_the_page_and_what_others_see(org, team, client):
    client.force_login(team["bob"].user)
    url = org_url("analytics:my_stats", org)
    response = client.post(org_url("analytics:leaderboard_visibility", org), {"hidden": "1", **QUERY})
    assert response.status_code == 302 and response["Location"] == f"{url}?start=2026-11-01&end=2026-11-30"
    assert AdvocatePreference.objects.for_org(org).get(user=team["bob"].user).hidden_from_leaderboard
    mine = client.get(url, QUERY).content.decode()
    assert "hidden: only you see this" in mine and "Show me on the leaderboard" in mine
    client.force_login(team["ada"].user)
    theirs = client.get(url, QUERY).content.decode()
    board = theirs.split('data-testid="leaderboard"')[1].split("</table>")[0]
    assert "Bob" not in board and "Cy" in board and f'data-user="{team["bob"].user_id}"' not in board


def test_visibility_redirect_keeps_only_the_period(org, team, client):
    client.force_login(team["ada"].user)
    response = client.post(
        org_url("analytics:leaderboard_visibility", org), {"hidden": "0", "days": "7", "next": "https://evil.example/"}
    )
    assert response["Location"] == org_url("analytics:my_stats", org) + "?days=7"
    assert client.get(org_url("analytics:leaderboard_visibility", org)).status_code == 405


def test_api_leaderboard_and_preferences(org, team, client):
    client.force_login(team["cy"].user)
    prefs = f"/api/v1/o/{org.slug}/analytics/preferences/"
    assert client.get(prefs).json() == {"hidden_from_leaderboard": False, "weekly_summary": False}
    hidden = client.post(prefs, {"hidden_from_leaderboard": True}, content_type="application/json")
    assert hidden.json()["hidden_from_leaderboard"] is True
    body = client.get(f"/api/v1/o/{org.slug}/analytics/leaderboard/", QUERY).json()
    assert [row["name"] for row in body["rows"]] == ["Ada", "Bob", "Dee"]
    assert (body["hidden"], body["my_rank"], body["me"]["name"]) == (True, 2, "Cy")
    client.force_login(team["ada"].user)
    body = client.get(f"/api/v1/o/{org.slug}/analytics/leaderboard/", QUERY).json()
    assert "Cy" not in [row["name"] for row in body["rows"]] and body["my_rank"] == 1
    # An employee cannot subscribe to the executives' summary: refused, nothing changed.
    refused = client.post(prefs, {"weekly_summary": True}, content_type="application/json")
    assert refused.status_code == 403 and "executives" in refused.json()["error"]["message"]
    assert client.get(prefs).json()["weekly_summary"] is False


def test_hiding_is_audited_and_repeating_it_changes_nothing(org, team):
    from compliance.models import AuditEntry

    set_leaderboard_hidden(actor=team["ada"], hidden=True)
    set_leaderboard_hidden(actor=team["ada"], hidden=True)
    [entry] = AuditEntry.objects.for_org(org).filter(action="analytics.leaderboard_visibility_changed")
    assert (entry.before, entry.after) == ({"hidden": False}, {"hidden": True})


def test_weekly_summary_opt_in_needs_the_reports_permission(org):
    from advocacy.errors import NotAllowed

    employee = person(org, "Emp")
    with pytest.raises(NotAllowed):
        set_weekly_summary(actor=employee, enabled=True)
    executive = person(org, "Exec", Role.EXECUTIVE)
    assert set_weekly_summary(actor=executive, enabled=True).weekly_summary is True

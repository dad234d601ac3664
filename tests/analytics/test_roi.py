"""The executive ROI report: numbers equal a hand computation (Auckland day boundaries),
"not available" is never 0, page / API / CSV / PDF agree, fixed query count, permissions."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import Role
from analytics.models import AdvocateDailyStats, DailyRollup
from analytics.selectors import report_cache, roi
from analytics.selectors.periods import Period, period_from
from analytics.services import roi_settings, rollups
from tests.accounts.factories import OrganizationFactory, acting
from tests.analytics.test_rollups import DAY1, DAY2, produce_history
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

PERIOD = Period(DAY1, DAY2)


@pytest.fixture
def org():
    return OrganizationFactory(timezone="Pacific/Auckland")


@pytest.fixture
def world(org):
    from tests.accounts.factories import TeamFactory, UserFactory

    author = UserFactory(name="Ana Author")
    member(org).user  # noqa: B018 (three more employees: four in all)
    member(org)
    member(org)
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(organization=org, user=author, roles=[Role.EMPLOYEE])
    return {
        "team": TeamFactory(organization=org, name="Sales"),
        "item": ContentItemFactory(organization=org, title="Q4 launch"),
        "author": author,
    }


@pytest.fixture
def executive(org):
    return member(org, Role.EXECUTIVE)


@pytest.fixture
def seeded(org, world):
    deliveries = produce_history(org, world)
    roi_settings.save_settings(
        actor=acting(org),
        currency="NZD",
        cpm_x=Decimal("10"),
        cpm_linkedin=Decimal("20"),
        cpc=Decimal("0.50"),
        licence_per_month=Decimal("1000"),
        people_hours_per_month=Decimal("10"),
        people_hourly_cost=Decimal("50"),
        api_link_post_cost_x=Decimal("0.20"),
        api_post_cost_x=Decimal("0.05"),
        api_post_cost_linkedin=Decimal("0.10"),
    )
    # Per-author stats (kept by the advocates' refresh): one advocate now, one the period before.
    AdvocateDailyStats.objects.create(organization=org, day=DAY1, user=world["author"], shares=1, posts=1, clicks=3)
    other = member(org)
    AdvocateDailyStats.objects.create(organization=org, day=DAY1 - timedelta(days=1), user=other.user, shares=1)
    return deliveries


def figures(report):
    return {f["key"]: f for f in report["figures"]}


def test_report_equals_the_hand_computed_expectation(org, seeded):
    report = roi.executive_report(org, PERIOD)
    f = figures(report)
    assert f["shares"]["value"] == 2  # 23:30 and 00:30 local both inside DAY1..DAY2
    assert f["posts"]["value"] == 3
    assert f["impressions"]["value"] == 80  # X only: 50 on DAY1 + 30 on DAY2
    impressions = f["impressions"]["coverage"]
    assert not impressions["complete"] and impressions["posts_percent"] == 33.3 and impressions["networks"] == ["X"]
    assert impressions["text"] == (
        "X only, 33.3% of posts; LinkedIn (1 post) does not report impressions to this app;"
        " Facebook (1 post) does not report impressions to this app."
    )
    assert f["engagement"]["value"] == 17  # X 5+1+1, LinkedIn likes 1, Facebook 7+2+0
    assert (f["clicks"]["value"], f["unique_clicks"]["value"]) == (4, 3)
    # EMV over X only (LinkedIn and Facebook give no impressions): 80/1000 x 10 + X's 3 clicks x 0.50
    assert f["emv"]["value"] == Decimal("2.30")
    assert f["emv"]["coverage"]["networks"] == ["X"] and f["emv"]["coverage"]["posts_percent"] == 33.3
    cost = report["cost"]
    assert (cost["licence"], cost["people"], cost["api"]) == (Decimal("65.75"), Decimal("32.88"), Decimal("0.30"))
    assert f["program_cost"]["value"] == Decimal("98.93")
    assert f["program_cost"]["coverage"]["complete"]  # Facebook's API rate is not set, but it had no API post
    # ROI over the third of posts EMV covers, against a third of the cost (98.93 / 3 = 32.98)
    assert f["roi"]["value"] == round((Decimal("2.30") - Decimal("32.98")) / Decimal("32.98") * 100, 1)
    assert "33.3%" in f["roi"]["coverage"]["text"] and "NZD 32.98" in f["roi"]["coverage"]["text"]
    assert report["lead"] == "measured"  # a third of posts is under the threshold: measured figures lead
    assert f["active_advocates"]["value"] == 1 and f["active_advocates"]["previous"] == 1
    assert f["participation_rate"]["value"] == 20.0  # 1 of 5 active employee members
    assert f["emv"]["basis"] == "estimated" and f["clicks"]["basis"] == "measured"
    assert report["trend"]["shares"] == [1, 1]
    assert report["trend"]["impressions"] == [50, 30]
    networks = {r["network"]: r for r in report["by_network"]}
    assert networks["facebook"]["impressions"] is None and networks["x"]["impressions"] == 80
    teams = {r["name"]: r for r in report["by_team"]}
    assert teams["Sales"]["shares"] == 1 and teams["No team"]["shares"] == 1
    assert report["top_content"][0]["title"] == "Q4 launch"
    assert report["top_advocates"][0]["name"] == "Ana Author"


def test_the_local_day_boundary_splits_the_periods(org, seeded):
    first = figures(roi.executive_report(org, Period(DAY1, DAY1)))
    second = figures(roi.executive_report(org, Period(DAY2, DAY2)))
    assert (first["shares"]["value"], second["shares"]["value"]) == (1, 1)  # 23:30 vs 00:30 local
    assert (first["posts"]["value"], second["posts"]["value"]) == (1, 2)
    assert (first["clicks"]["value"], second["clicks"]["value"]) == (2, 2)
    assert second["shares"]["previous"] == 1 and second["shares"]["change"]["direction"] == "flat"


def test_without_metrics_figures_are_not_available_never_zero(client, org, executive):
    item = ContentItemFactory(organization=org)
    rollups.add(organization_id=org.pk, day=DAY1, team_key=0, network="facebook", item_id=item.pk, published=2)
    report = roi.executive_report(org, PERIOD)
    f = figures(report)
    assert f["impressions"]["value"] is None and f["engagement"]["value"] is None
    assert f["estimated_reach"]["value"] is None
    assert f["roi"]["value"] is None  # no cost entered
    client.force_login(executive.user)
    page = client.get(org_url("analytics:reports", org) + "?start=2026-11-10&end=2026-11-11").content.decode()
    assert 'data-testid="value-impressions">not available<' in page
    assert 'data-testid="value-roi">not available<' in page
    assert 'data-testid="value-posts">2<' in page


def test_page_api_and_csv_show_the_same_numbers(client, org, seeded, executive):
    client.force_login(executive.user)
    query = "?start=2026-11-10&end=2026-11-11"
    page = client.get(org_url("analytics:reports", org) + query).content.decode()
    api = client.get(f"/api/v1/o/{org.slug}/analytics/roi/" + query).json()
    csv_text = client.get(org_url("analytics:reports_csv", org) + query).content.decode()
    report = roi.executive_report(org, PERIOD)

    rows = list(csv.reader(io.StringIO(csv_text)))
    by_label = {r[0]: r for r in rows if len(r) >= 5}
    for f in report["figures"]:
        shown = "not available" if f["value"] is None else str(f["value"])
        assert by_label[f["label"]][1] == shown
        api_figure = next(a for a in api["figures"] if a["key"] == f["key"])
        assert api_figure["value"] == (
            None if f["value"] is None else str(f["value"]) if isinstance(f["value"], Decimal) else f["value"]
        )
    assert 'data-testid="value-emv">NZD 2.30<' in page
    assert 'data-testid="value-clicks">4<' in page
    assert 'data-testid="value-impressions">80<' in page
    assert "EMV = Σ impressions ÷ 1000 × CPM" in page and "NZD 10.00" in page  # formula and rate beside it


def test_pdf_report_contains_the_numbers(client, org, seeded, executive):
    client.force_login(executive.user)
    response = client.get(org_url("analytics:reports_pdf", org) + "?start=2026-11-10&end=2026-11-11")
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "2026-11-10 to 2026-11-11" in text
    assert "NZD 2.30" in text and "NZD 98.93" in text
    assert "not available" in text  # estimated reach
    assert "Ana Author" in text and "Q4 launch" in text


def _rollups(org, count):
    """`count` detailed rollup rows (and their summaries) over count/15 days."""
    items = [ContentItemFactory(organization=org) for _ in range(5)]
    for n in range(count):
        rollups.add(
            organization_id=org.pk,
            day=DAY2 - timedelta(days=n // 15),
            team_key=0,
            network=("x", "linkedin", "facebook")[n % 3],
            item_id=items[n % 5].pk,
            published=1,
            clicks=n,
        )
    assert DailyRollup.objects.for_org(org).count() == count


@pytest.mark.parametrize("history", [10, 1000])
def test_query_count_is_fixed_whatever_the_history(client, org, executive, django_assert_num_queries, history):
    _rollups(org, history)
    with django_assert_num_queries(roi.QUERIES):
        roi.executive_report(org, Period(DAY2 - timedelta(days=90), DAY2))
    client.force_login(executive.user)
    url = org_url("analytics:reports", org) + "?days=90"
    client.get(url)  # the layout's own first-request queries
    cache.clear()
    # The first view computes the report (its queries and the cache's one statement: version,
    # members, teams, names); a repeated view with nothing changed costs that one statement.
    with django_assert_num_queries(report_cache.QUERIES + roi.QUERIES + 5):  # the layout: session, user, ...
        assert client.get(url).status_code == 200
    with django_assert_num_queries(report_cache.QUERIES + 5):
        assert client.get(url).status_code == 200


def test_executives_and_admins_only(client, org):
    url = org_url("analytics:reports", org)
    for roles, status in (([Role.EXECUTIVE], 200), ([Role.ADMIN], 200), ([Role.EMPLOYEE], 403), ([Role.MARKETER], 403)):
        client.force_login(member(org, *roles).user)
        assert client.get(url).status_code == status, roles
        assert client.get(org_url("analytics:reports_csv", org)).status_code == status
        assert client.get(f"/api/v1/o/{org.slug}/analytics/roi/").status_code == status
    stranger = member(OrganizationFactory(), Role.EXECUTIVE)
    client.force_login(stranger.user)
    assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/o/{org.slug}/analytics/roi/").status_code == 404


def test_a_bad_range_is_explained_and_the_default_shown(client, org, executive):
    client.force_login(executive.user)
    response = client.get(org_url("analytics:reports", org) + "?start=2026-11-20&end=2026-11-01")
    assert response.status_code == 200
    assert "The start date is after the end date. Showing the last 30 days instead." in response.content.decode()
    api = client.get(f"/api/v1/o/{org.slug}/analytics/roi/?start=nonsense&end=2026-11-01")
    assert api.status_code == 400 and "not a date" in api.json()["error"]["message"]


def test_default_period_is_the_last_30_days_in_the_org_timezone(org):
    import time_machine

    with time_machine.travel("2026-11-10T11:30:00Z", tick=False):  # already the 11th in Auckland
        period = period_from({}, org)
    assert period == Period(date(2026, 10, 13), date(2026, 11, 11))
    assert period.previous() == Period(date(2026, 9, 13), date(2026, 10, 12))


def test_admin_sets_rates_and_bad_input_changes_nothing(client, org):
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    url = org_url("analytics:settings", org)
    assert client.get(url).status_code == 200
    response = client.post(url, {"currency": "EUR", "cpm_x": "12.50", "cpc": "0.40"})
    assert response.status_code == 302
    saved = roi_settings.settings_for(org)
    assert (saved.currency, saved.cpm_x, saved.cpc, saved.cpm_linkedin) == (
        "EUR",
        Decimal("12.50"),
        Decimal("0.40"),
        None,
    )
    response = client.post(url, {"currency": "euros", "cpm_x": "-3"})
    assert response.status_code == 200
    assert roi_settings.settings_for(org).cpm_x == Decimal("12.50")
    client.force_login(member(org, Role.EXECUTIVE).user)
    assert client.get(url).status_code == 403
    assert reverse("analytics:reports", kwargs={"org_slug": org.slug}).endswith("/reports/")


def _author_days(org, today, span):
    """Per-author daily rows over `span` days: active now, active only before, both, clicks
    only, and engagement a network did not give (NULL)."""
    from tests.accounts.factories import UserFactory

    rows = []
    for n in range(14):
        person = UserFactory(name=f"Advocate {n}")
        for back in range(0, span, 1 + n % 4):
            if n == 5 and back < span // 2:
                continue  # active only in the period before
            likes = None if n % 3 == 0 else n + back
            rows.append(
                AdvocateDailyStats(
                    organization=org,
                    user=person,
                    day=today - timedelta(days=back),
                    shares=0 if n == 7 else (n + back) % 3,
                    posts=(n * back) % 4,
                    clicks=n * 10 + back,
                    likes=likes,
                    comments=None if likes is None else 1,
                    reposts=None if likes is None else 0,
                )
            )
    AdvocateDailyStats.objects.bulk_create(rows)


@pytest.mark.parametrize("days", [7, 30, 90])
def test_preset_windows_give_exactly_the_numbers_of_the_daily_rows(org, days):
    from analytics.models import AdvocateWindowStats
    from analytics.selectors.periods import last_days, today_for
    from analytics.services import advocate_stats

    today = today_for(org)
    _author_days(org, today, span=2 * days)
    period = last_days(org, days)
    from_daily = roi.executive_report(org, period)
    assert not AdvocateWindowStats.objects.for_org(org).exists()

    advocate_stats.refresh_windows(org, today)
    # From here the window rows are what is read: without the daily rows the numbers stay.
    AdvocateDailyStats.objects.for_org(org).delete()
    from_windows = roi.executive_report(org, period)

    assert from_windows["top_advocates"] == from_daily["top_advocates"]
    assert len(from_daily["top_advocates"]) == roi.TOP
    for key in ("active_advocates", "participation_rate"):
        assert figures(from_windows)[key] == figures(from_daily)[key]
    assert figures(from_daily)["active_advocates"]["previous"] > 0


def test_a_period_that_is_not_a_current_window_sums_the_daily_rows(org):
    from analytics.selectors.periods import today_for
    from analytics.services import advocate_stats

    today = today_for(org)
    _author_days(org, today, span=60)
    advocate_stats.refresh_windows(org, today - timedelta(days=1))  # yesterday's windows: stale
    period = Period(today - timedelta(days=29), today)
    stale = roi.executive_report(org, period)
    AdvocateDailyStats.objects.for_org(org).delete()

    assert stale["top_advocates"] and figures(stale)["active_advocates"]["value"] > 0
    assert roi.executive_report(org, period)["top_advocates"] == []


def test_the_refresh_keeps_the_windows_ending_today_and_moves_them_at_midnight(org):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from analytics.models import AdvocateWindowStats
    from analytics.selectors.periods import PRESETS
    from analytics.services import advocate_stats

    _author_days(org, date(2026, 3, 10), span=20)
    evening = datetime(2026, 3, 10, 23, 0, tzinfo=ZoneInfo(org.timezone))
    advocate_stats.refresh(org, now=evening)
    windows = AdvocateWindowStats.objects.for_org(org)
    assert set(windows.values_list("through", flat=True)) == {date(2026, 3, 10)}
    assert set(windows.values_list("window_days", flat=True)) == set(PRESETS)

    advocate_stats.refresh(org, now=evening + timedelta(hours=2))  # past local midnight, nothing new
    assert set(windows.values_list("through", flat=True)) == {date(2026, 3, 11)}


def test_csv_report_neutralises_formulas_and_keeps_numbers(client, org, seeded, executive, world):
    """Issue 15, point 5: a title or team name a spreadsheet would run as a formula."""
    from advocacy import csvsafe
    from analytics.exports import report_csv

    report = roi.executive_report(org, PERIOD)
    report["top_content"] = [dict(report["top_content"][0], title='=HYPERLINK("https://evil.test","x")')]
    report["by_team"] = [dict(report["by_team"][0], name="@SUM(A1)", clicks=-3)] if report["by_team"] else []
    report["by_network"] = [
        dict(r, label=label) for r, label in zip(report["by_network"], ["+1", "-1", "\t1"], strict=False)
    ]
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    cells = [c for r in rows for c in r]
    assert '\'=HYPERLINK("https://evil.test","x")' in cells
    for c in cells:
        if c.startswith(csvsafe.FORMULA_STARTS):
            Decimal(c)  # only numbers our code produced may start with - or +
    if report["by_team"]:
        assert [r[0] for r in rows if r and r[0].endswith("SUM(A1)")] == ["'@SUM(A1)"]
        assert "-3" in cells  # a number our code produced stays a number
    assert csvsafe.neutralise(-2.5) == -2.5 and csvsafe.neutralise("\rCR") == "'\rCR"


def test_pdf_escapes_user_strings(client, org, seeded, executive):
    """Issue 15, point 7: markup in the organization's name is text, not reportlab markup."""
    name = 'Acme <img src="/etc/passwd"/> & <b>'
    type(org).objects.filter(pk=org.pk).update(name=name)
    client.force_login(executive.user)
    response = client.get(org_url("analytics:reports_pdf", org) + "?start=2026-11-10&end=2026-11-11")
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert name in text.replace("\n", " ")

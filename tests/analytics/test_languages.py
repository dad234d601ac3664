"""Analytics in the reader's language (issue 23): the executive dashboard in the viewer's
words and number format, the CSV in one neutral format whatever the language, the weekly
summary e-mail in each recipient's language (through the task the beat runs)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import translation
from pypdf import PdfReader

from accounts.models import Role
from analytics import formatting
from analytics.models import AdvocatePreference
from analytics.services import advocate_stats
from analytics.tasks import send_weekly_summaries
from tests.accounts.factories import OrganizationFactory
from tests.analytics.factories import AdvocatePreferenceFactory
from tests.analytics.posts import auckland, post
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

QUERY = "?start=2026-11-09&end=2026-11-15"
MONDAY_7AM = datetime(2026, 11, 15, 18, 0, tzinfo=UTC)  # Monday 16 Nov, 07:00 in Auckland


@pytest.fixture
def org():
    cache.clear()  # the report's cache is per organization, period and language
    return OrganizationFactory(slug="acme", name="Acme", timezone="Pacific/Auckland")


@pytest.fixture
def program(org):
    """Week of 9 to 15 Nov (local): two posts, 12,345 impressions in all."""
    item = ContentItemFactory(organization=org, title="Rocket launch")
    e1, e2 = member(org).user, member(org).user
    post(org, e1, item, at=auckland(10), likes=3, comments=1, reposts=0, impressions=12000, clicks=5)
    post(org, e2, item, at=auckland(12), likes=2, comments=0, reposts=0, impressions=345, clicks=1)
    advocate_stats.refresh(org)


def executive(org, language: str):
    membership = member(org, Role.EXECUTIVE)
    membership.user.language = language
    membership.user.save(update_fields=["language"])
    return membership


def test_the_dashboard_for_a_german_executive_groups_figures_and_speaks_german(client, org, program):
    client.force_login(executive(org, "de").user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    assert 'data-testid="value-impressions">12.345<' in page
    assert "Wichtige Kennzahlen" in page and "Key figures" not in page
    assert "Programmergebnisse und ROI" in page


def test_the_dashboard_for_an_english_executive_groups_figures_with_commas(client, org, program):
    client.force_login(executive(org, "en").user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    assert 'data-testid="value-impressions">12,345<' in page
    assert "Key figures" in page and "Program results and ROI" in page


def test_the_chart_spec_carries_the_page_language_and_translated_legends(client, org, program):
    client.force_login(executive(org, "fr").user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    assert '"locale": "fr"' in page
    assert '"label": "Partages"' in page  # the legend is in French; the spec's keys are not


def test_the_csv_is_the_same_file_whatever_the_viewer_language(client, org, program):
    files = {}
    for language in ("en", "fr", "de", "es"):
        client.force_login(executive(org, language).user)
        files[language] = client.get(org_url("analytics:reports_csv", org) + QUERY).content
    assert files["fr"] == files["en"] and files["de"] == files["en"] and files["es"] == files["en"]
    text = files["en"].decode()
    assert "Impressions,12345," in text  # plain digits: no grouping, a dot for decimals
    assert "12,345" not in text and "12.345" not in text and "12\xa0345" not in text
    assert "period,2026-11-09,2026-11-15" in text  # ISO 8601 days


def test_the_pdf_is_in_the_viewer_language_and_formats(client, org, program):
    client.force_login(executive(org, "de").user)
    response = client.get(org_url("analytics:reports_pdf", org) + QUERY)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "09.11.2026 bis 15.11.2026 (7 Tage)" in text
    assert "Programmkosten" in text and "12.345" in text and "Program cost" not in text


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "12,345.50"), ("fr", "12\xa0345,50"), ("de", "12.345,50"), ("es", "12\xa0345,50")],
)
def test_numbers_and_money_in_the_language_format(language, shown):
    with translation.override(language):
        assert formatting.figure(12345) == shown.rsplit(shown[-3], 1)[0]
        assert formatting.money(12345.5) == shown
        assert formatting.figure(None) != "" and formatting.outcome(None) != ""
    with translation.override("en"):
        assert formatting.money(12345.5, "EUR") == "EUR 12,345.50"
        assert formatting.percent(12.5) == "12.5%"
    with translation.override("fr"):
        assert formatting.money(12345.5, "EUR") == "12\xa0345,50\xa0EUR"
        assert formatting.percent(12.5) == "12,5\xa0%"


def test_the_weekly_summary_is_in_the_recipient_language(org, program, mailoutbox):
    french = executive(org, "fr")
    english = executive(org, "en")
    for membership in (french, english):
        AdvocatePreferenceFactory(organization=org, user=membership.user, weekly_summary=True)
    with time_machine.travel(MONDAY_7AM + timedelta(minutes=5), tick=False):
        assert send_weekly_summaries.apply().get() == 2  # the task the beat runs
    mails = {mail.to[0]: mail for mail in mailoutbox}
    fr, en = mails[french.user.email], mails[english.user.email]
    assert "Acme\xa0: votre semaine ambassadeurs (du 9 novembre au 15 novembre 2026)" in fr.subject
    assert "Bonjour" in fr.body and "Hello" not in fr.body
    assert "Impressions\xa0: 12\xa0345 (semaine précédente\xa0:" in fr.body
    assert "Ce que les publications ont rapporté (mesuré)" in fr.body
    assert "Acme: your advocacy week (09 Nov to 15 Nov 2026)" in en.subject
    assert "Impressions: 12,345 (week before:" in en.body
    assert all(
        p.weekly_summary_sent_for.day == 9
        for p in AdvocatePreference.objects.for_org(org).filter(user__in=[french.user, english.user])
    )


PAGES = ("reports", "content_performance", "my_stats", "crm", "conversion_keys", "settings", "points_rules")


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_every_analytics_page_renders_in_every_language(client, org, program, language):
    admin = member(org, Role.ADMIN, Role.EXECUTIVE, Role.MARKETER, Role.EMPLOYEE)
    admin.user.language = language
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    for name in (*PAGES, "weekly_summary"):
        response = client.get(org_url(f"analytics:{name}", org) + (QUERY if name in PAGES[:3] else ""))
        assert response.status_code == 200, name
        assert response["Content-Language"] == language, name
    page = client.get(org_url("analytics:content_performance", org) + QUERY).content.decode()
    assert {"fr": "Performance des contenus", "de": "Inhalts-Performance", "es": "Rendimiento de los contenidos"}[
        language
    ] in page


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("en", "1 post, 1 engagement", "1,564 posts, 1,564 engagement"),
        ("fr", "1 publication, 1 interaction", "1\xa0564 publications, 1\xa0564 interactions"),
        ("de", "1 Beitrag, 1 Interaktion", "1.564 Beiträge, 1.564 Interaktionen"),
        ("es", "1 publicación, 1 interacción", "1\xa0564 publicaciones, 1\xa0564 interacciones"),
    ],
)
def test_the_lead_sentence_counts_each_figure_with_its_own_plural(language, one, many):
    """A label after a number is not a plural ("1 564 interacción" was Spanish for 1,564
    engagement): each measured figure has counted words of its own in each language."""

    def measured(value):
        return ", ".join(
            formatting.MEASURED_WORDS[key] % {"count": value, "value": formatting.figure(value)}
            for key in ("posts", "engagement")
        )

    with translation.override(language):
        assert (measured(1), measured(1564)) == (one, many)

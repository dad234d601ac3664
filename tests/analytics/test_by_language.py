"""Analytics cut by the share's language (issue 23, item 4): the content performance page and
its API break posts down by the language their words were written in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.models import Role
from analytics.selectors.content import content_performance
from analytics.selectors.periods import Period
from analytics.services import advocate_stats
from content.models import Share
from tests.accounts.factories import OrganizationFactory
from tests.analytics.posts import post
from tests.content.factories import ContentItemFactory
from tests.helpers import member

pytestmark = pytest.mark.django_db

WEEK = Period(datetime(2026, 11, 2).date(), datetime(2026, 11, 8).date())


def test_content_performance_breaks_posts_down_by_the_shares_language(client):
    org = OrganizationFactory(slug="acme", timezone="Europe/Paris", default_language="en")
    author = member(org).user
    item = ContentItemFactory(organization=org, title="Solar plant")
    english = post(
        org, author, item, at=datetime(2026, 11, 3, 10, tzinfo=UTC), likes=3, comments=0, reposts=0, clicks=2
    )
    for day in (4, 5):
        french = post(org, author, item, at=datetime(2026, 11, day, 10, tzinfo=UTC), likes=5, comments=1, reposts=0)
        Share.objects.for_org(org).filter(pk=french.share_id).update(language="fr")
    Share.objects.for_org(org).filter(pk=english.share_id).update(language="en")
    advocate_stats.refresh(org)

    rows = {row["language"]: row for row in content_performance(org, WEEK).languages}
    assert set(rows) == {"en", "fr"}
    assert (rows["fr"]["posts"], rows["fr"]["engagement"], rows["fr"]["clicks"]) == (2, 12, 0)
    assert (rows["en"]["posts"], rows["en"]["engagement"], rows["en"]["clicks"]) == (1, 3, 2)
    assert [row["language"] for row in content_performance(org, WEEK).languages] == ["fr", "en"]  # most posts first

    marketer = member(org, Role.MARKETER)
    client.force_login(marketer.user)
    url = reverse("analytics:content_performance", kwargs={"org_slug": "acme"})
    page = client.get(url, {"start": "2026-11-02", "end": "2026-11-08"}).text
    assert 'data-testid="languages-table"' in page and 'data-language="fr"' in page

"""A sign-up on the company's own site, after a click on an employee's post, counted as a
measured conversion: real Chromium, our live server on one origin, a tiny company site on
another (localhost vs 127.0.0.1, another port), the snippet, the redirect, the click flush."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analytics.models import Conversion
from analytics.selectors import roi
from analytics.selectors.periods import Period
from analytics.services import clicks, conversions, roi_settings
from tests.accounts.factories import OrganizationFactory, acting
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory
from tests.content.loopback import LoopbackSite

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
LANDING = """<!doctype html><html><head><title>Acme pricing</title>
<script src="{snippet}" data-org="acme" data-days="30"></script></head>
<body><h1>Pricing</h1><button id="signup">Start free trial</button>
<script>document.getElementById("signup").addEventListener("click", function () {{
  advocacy.track("signup").then(function (answer) {{ document.body.dataset.answer = JSON.stringify(answer); }});
}});</script></body></html>"""


def test_a_signup_on_the_company_site_after_a_click_is_a_measured_conversion(browser, live_server):
    clicks.forget_local_links()
    org = OrganizationFactory(slug="acme", timezone="Europe/Paris")
    with LoopbackSite() as site:
        company = site.url("/pricing", host="localhost")
        site.page("/pricing", LANDING.format(snippet=f"{live_server.url}/c/snippet.js"))
        item = ContentItemFactory(organization=org, url=company, title="Pricing")
        share = ShareFactory(organization=org, item=item)
        delivery = DeliveryFactory(
            organization=org, share=share, network="linkedin", status="published", published_at=timezone.now()
        )
        roi_settings.save_conversion_settings(
            actor=acting(org), origins=f"http://localhost:{site.port}", events="signup", window_days=30
        )
        context = browser.new_context(user_agent=BROWSER)
        page = context.new_page()
        try:
            page.goto(f"{live_server.url}/r/{delivery.tracking_code}")
            assert page.url.startswith(company + "?") and f"utm_content={delivery.tracking_code}" in page.url
            # The code is kept in a first-party cookie of the company's site, not ours.
            assert f"adv_code={delivery.tracking_code}" in page.evaluate("document.cookie")
            page.goto(company)  # later, on another page of the site: no utm_content any more
            with page.expect_response(f"{live_server.url}/c/acme/events") as answer:
                page.click("#signup")
            assert answer.value.status == 201
            page.wait_for_function("document.body.dataset.answer !== undefined")
        finally:
            context.close()

    conversion = Conversion.objects.for_org(org).get()
    assert (conversion.source, conversion.tracking_code) == ("browser", delivery.tracking_code)
    clicks.flush_clicks()  # the redirect's buffer, as the beat does every few seconds
    assert conversions.attribute_pending() == 1
    conversion.refresh_from_db()
    assert (conversion.status, conversion.delivery_id) == ("attributed", delivery.pk)
    day = conversion.day  # the event's day in Paris
    report = roi.executive_report(org, Period(day, day))
    figures = {f["key"]: f for f in report["figures"]}
    assert figures["conversions"]["value"] == 1 and figures["conversions"]["basis"] == "measured"
    assert report["top_content"][0]["conversions"] == 1

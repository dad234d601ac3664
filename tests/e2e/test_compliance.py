"""Issue 6's journey: a share with a flagged term lands in the review queue, the compliance
officer sends it back with a comment, the employee edits and resubmits, the officer approves."""

from __future__ import annotations

import re

import pytest

from compliance.models import Decision, LexiconTerm, Policy, ReviewTask
from content.models import Share
from tests.e2e.conftest import compose_first_item, login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORDS = "Guaranteed to be the best news of the year, and I am proud of the team behind it."
BETTER = "I am proud of the team behind it: one of the best pieces of news this year."
COMMENT = "Please drop “guaranteed”: we cannot promise outcomes."


def test_officer_sends_back_a_flagged_share_the_employee_resubmits_and_the_officer_approves(
    page, live_server, demo, settings
):
    settings.SITE_URL = live_server.url
    # The demo policy flags "guaranteed" for review; every share of Acme is reviewed, so the
    # resubmitted words (without the term) come back to the officer too.
    term, _ = LexiconTerm.objects.for_org(demo).get_or_create(
        organization=demo, term="guaranteed", defaults={"action": "review"}
    )
    assert term.action == "review"
    Policy.objects.for_org(demo).update(review_mode=Policy.ReviewMode.ALL)

    # The employee shares an item with the flagged word.
    login(page, live_server, "employee@acme.test")
    compose_first_item(page, WORDS)
    page.get_by_test_id("findings").wait_for()  # the composer warns before submitting
    page.get_by_role("button", name="Share now").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/$"))
    assert "Compliance will review it" in page.locator(".messages").inner_text()
    share = Share.objects.for_org(demo).get(commentary=WORDS)
    assert share.status == Share.Status.IN_REVIEW
    page.get_by_role("button", name="Sign out").click()

    # The officer finds it in the queue and opens it: the term is highlighted.
    login(page, live_server, "compliance@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    row = page.locator(f'tr[data-share="{share.pk}"]')
    assert "Needs review" in row.inner_text()
    screenshot(page, "review-queue")
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/review/shares/{share.pk}/$"))
    mark = page.locator("mark.finding").first
    assert mark.inner_text() == "Guaranteed"
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"
    screenshot(page, "review-flagged-share")

    # Send back with the keyboard: "s" asks for the comment first, Ctrl+Enter sends it.
    page.locator("h1").click()
    page.keyboard.press("s")
    comment = page.get_by_label("Comment for the employee")
    assert comment.evaluate("el => el === document.activeElement")
    assert "Ctrl+Enter" in page.locator("#key-hint").inner_text()
    comment.fill(COMMENT)
    with page.expect_navigation():
        comment.press("Control+Enter")
    assert path_of(page) == "/o/acme/review/"
    assert "Sent back" in page.locator(".messages").inner_text()
    share.refresh_from_db()
    assert (share.status, share.review_comment) == (Share.Status.CHANGES_REQUESTED, COMMENT)
    page.get_by_role("button", name="Sign out").click()

    # The employee sees the comment, edits and resubmits.
    login(page, live_server, "employee@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My shares").click()
    mine = page.locator(f'tr[data-share="{share.pk}"]')
    assert COMMENT in mine.inner_text() and "Sent back" in mine.inner_text()
    mine.get_by_role("link", name="Open", exact=True).click()
    assert COMMENT in page.locator("main").inner_text()
    screenshot(page, "share-sent-back")
    page.get_by_label("Your words").fill(BETTER)
    page.get_by_role("button", name="Save and resubmit").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/$"))
    assert "Saved as version 2" in page.locator(".messages").inner_text()
    share.refresh_from_db()
    assert (share.status, share.version) == (Share.Status.IN_REVIEW, 2)
    page.get_by_role("button", name="Sign out").click()

    # The officer sees what changed and approves with "a".
    login(page, live_server, "compliance@acme.test")
    page.goto(f"{live_server.url}/o/acme/review/")
    page.keyboard.press("j")  # the queue's first row, then Enter opens it
    assert page.locator(f'tr[data-share="{share.pk}"]').get_attribute("class").split()[-1] == "selected"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == f"/o/acme/review/shares/{share.pk}/"
    # What changed since the version they sent back, under the note they wrote.
    assert COMMENT in page.get_by_test_id("sent-back-note").inner_text()
    diff = page.get_by_test_id("diff-sent-back")
    assert "Guaranteed" in diff.locator("del").all_inner_texts()[0]
    assert page.locator("mark.finding").count() == 0
    screenshot(page, "review-resubmitted")
    page.locator("h1").click()
    with page.expect_navigation():
        page.keyboard.press("a")
    assert "Approved" in page.locator(".messages").inner_text()

    share.refresh_from_db()
    assert share.status == Share.Status.APPROVED
    decisions = list(Decision.objects.for_org(demo).filter(share=share).order_by("version"))
    assert [(d.version, d.outcome, d.reviewer.email) for d in decisions] == [
        (1, "changes_requested", "compliance@acme.test"),
        (2, "approved", "compliance@acme.test"),
    ]
    assert ReviewTask.objects.for_org(demo).get(share=share).closed_at is not None

    page.goto(f"{live_server.url}/o/acme/compliance/")
    assert page.locator('[data-stat="approval_rate"]').inner_text() == "50%"
    screenshot(page, "compliance-dashboard")

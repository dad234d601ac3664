"""Whole journeys through the product, in a real browser."""

from __future__ import annotations

import re

import pytest

from accounts.models import Invitation, InvitationImport, User
from tests.conftest import wait_for
from tests.e2e.conftest import login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# --- a. switching organization ----------------------------------------------------------------


def test_admin_switches_to_globex_and_comes_back_there_after_logging_in_again(page, live_server, demo):
    login(page, live_server, "admin@acme.test")
    assert path_of(page) == "/o/acme/"
    switcher = page.get_by_test_id("org-switcher")
    summary = switcher.locator("summary")
    assert summary.inner_text().split(":")[-1].strip() == "Acme"

    summary.click()
    assert switcher.get_attribute("open") is not None
    globex = switcher.get_by_role("link", name="Globex", exact=True)
    assert globex.is_visible()
    screenshot(page, "org-switcher-open")
    globex.click()

    page.wait_for_url(f"{live_server.url}/o/globex/")
    assert summary.inner_text().split(":")[-1].strip() == "Globex"
    assert page.title().endswith("Globex")
    assert User.objects.get(email="admin@acme.test").last_organization.slug == "globex"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.get_by_test_id("org-switcher").count() == 0

    login(page, live_server, "admin@acme.test")
    assert path_of(page) == "/o/globex/"
    assert page.get_by_test_id("org-switcher").locator("summary").inner_text().split() == ["Organization:", "Globex"]


# --- b. bulk invitations from a CSV, processed by the real worker -----------------------------

GOOD = {
    "ana.sales@example.com": ({"employee"}, {"Sales"}),
    "bo.writer@example.com": ({"employee", "marketer"}, set()),
    "cy.plain@example.com": ({"employee"}, set()),
}
CSV = (
    "email,roles,teams\n"
    "ana.sales@example.com,employee,Sales\n"  # line 2
    "bo.writer@example.com,employee;marketer,\n"  # line 3
    "cy.plain@example.com,employee,\n"  # line 4
    "not-an-email,employee,\n"  # line 5
    "ANA.SALES@example.com,employee,\n"  # line 6: the same address as line 2
    "dee.magic@example.com,wizard,\n"  # line 7
    "eve.lost@example.com,employee,Atlantis\n"  # line 8
    "employee@acme.test,employee,\n"  # line 9: a member already
)
# line -> (e-mail cell as shown, words the reason must contain)
REJECTED = {
    "5": ("not-an-email", "not a valid e-mail address"),
    "6": ("ANA.SALES@example.com", "appears earlier in the file"),
    "7": ("dee.magic@example.com", "Unknown role “wizard”"),
    "8": ("eve.lost@example.com", "Unknown team: Atlantis"),
    "9": ("employee@acme.test", "already a member"),
}
BAD_ADDRESSES = ["not-an-email", "dee.magic@example.com", "eve.lost@example.com"]


@pytest.mark.worker
def test_bulk_invitation_from_csv_reports_progress_and_every_rejected_row(page, live_server, demo, worker_process):
    acme = demo
    users_before = User.objects.count()
    login(page, live_server, "admin@acme.test")
    page.goto(f"{live_server.url}/o/acme/invitations/")
    screenshot(page, "invitations")

    upload_form = page.locator("form[enctype='multipart/form-data']")
    upload_form.get_by_label("CSV file").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    upload_form.get_by_role("button", name="Upload and invite").click()

    page.wait_for_url(re.compile(r"/o/acme/invitations/imports/\d+/$"))
    assert page.locator("h1").inner_text() == "Inviting from people.csv"
    progress = page.locator("#import-progress")
    assert progress.is_visible()
    assert page.get_by_role("progressbar", name="Rows processed").count() == 1

    page.wait_for_selector("#import-progress[data-status=done]", timeout=30_000)
    status = progress.get_by_role("status").inner_text()
    assert status.strip() == "Done: 3 invited, 5 rejected, out of 8 rows."
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    screenshot(page, "invitation-import-done")

    table = page.get_by_test_id("rejected-rows")
    rows = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()]
    assert [row[0] for row in rows] == list(REJECTED), rows
    for line, email, reason in rows:
        expected_email, expected_words = REJECTED[line]
        assert email == expected_email
        assert expected_words in reason, f"line {line}: {reason!r}"
        assert reason.endswith("."), f"line {line}: the reason should be a sentence: {reason!r}"

    # The page stopped polling once done (no more hx-get on the swapped-in section).
    assert progress.get_attribute("hx-get") is None

    # What the worker wrote: exactly the three good invitations, nothing for the bad rows.
    job = InvitationImport.objects.for_org(acme).get()
    assert (job.status, job.invited_count, job.processed_rows, job.total_rows) == ("done", 3, 8, 8)
    pending = {
        inv.email: inv
        for inv in Invitation.objects.for_org(acme).filter(status=Invitation.Status.PENDING).prefetch_related("teams")
    }
    assert set(pending) == set(GOOD)
    for email, (roles, teams) in GOOD.items():
        assert set(pending[email].roles) == roles, email
        assert {t.name for t in pending[email].teams.all()} == teams, email
    assert Invitation.objects.for_org(acme).count() == 3
    assert not Invitation.objects.all_organizations().filter(email__in=BAD_ADDRESSES).exists()
    assert not User.objects.filter(email__in=[*BAD_ADDRESSES, *GOOD]).exists()
    assert User.objects.count() == users_before

    # Each good address got its e-mail from the worker; the bad ones got none.
    sent = wait_for(
        lambda: (mail := worker_process.sent_mail()) and all(e in mail for e in GOOD) and mail,
        timeout=30,
        message="the three invitation e-mails",
    )
    for address in [*BAD_ADDRESSES, "employee@acme.test"]:
        assert f"To: {address}" not in sent

    # The invitations page now lists them, and the upload in "Recent uploads".
    page.get_by_role("link", name="Back to invitations").click()
    page.wait_for_url(f"{live_server.url}/o/acme/invitations/")
    listed = page.locator("table").last.inner_text()
    for email in GOOD:
        assert email in listed
    assert "people.csv — Done, 3 invited, 5 rejected" in page.locator("main").inner_text()


# --- c. accessibility basics ------------------------------------------------------------------

UNLABELLED_INPUTS_JS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.checkVisibility({visibilityProperty: true}))
  .filter(el => !(el.labels.length > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
  .map(el => el.outerHTML)
"""


def _check_accessibility_basics(page, name: str):
    assert page.evaluate(UNLABELLED_INPUTS_JS) == [], f"{name}: inputs without a label"
    assert page.locator("h1").count() == 1, f"{name}: {page.locator('h1').all_inner_texts()}"
    assert page.locator("html").get_attribute("lang") == "en"

    # The first Tab lands on the skip link, which then shows; following it focuses <main>.
    page.locator("body").focus()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({cls: document.activeElement.className, text: document.activeElement.textContent.trim(),"
        " left: document.activeElement.getBoundingClientRect().left})"
    )
    assert focused["cls"] == "skip-link", f"{name}: first Tab focused {focused}"
    assert focused["text"] == "Skip to content"
    assert focused["left"] >= 0, f"{name}: the focused skip link is off screen"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main", f"{name}: skip link does not move focus"


def test_accessibility_basics_on_login_page_and_org_home(page, live_server, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "login")
    _check_accessibility_basics(page, "login page")
    # The login fields are labelled with their visible text, not placeholders only: the
    # e-mail step, then the password step.
    assert page.get_by_label("Email").get_attribute("name") == "login"
    page.goto(f"{live_server.url}/accounts/login/?with=password")
    _check_accessibility_basics(page, "login page, password step")
    assert page.get_by_label("Email").get_attribute("name") == "login"
    assert page.get_by_label("Password", exact=False).first.get_attribute("name") == "password"

    login(page, live_server, "admin@acme.test")
    assert path_of(page) == "/o/acme/"
    _check_accessibility_basics(page, "org home")

    # A page with many kinds of fields (text, checkbox lists, select, file) for good measure.
    page.goto(f"{live_server.url}/o/acme/invitations/")
    _check_accessibility_basics(page, "invitations")

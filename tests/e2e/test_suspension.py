"""An admin suspends a member from the pages (confirming), the member's open session ends at
once and their password is refused in words; reactivating lets them back in."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_suspends_and_reactivates_a_member_whose_session_ends_at_once(browser, page, live_server, demo):
    member_context = browser.new_context(viewport={"width": 1280, "height": 800})
    member_context.set_default_timeout(10_000)
    employee = member_context.new_page()
    login(employee, live_server, "employee@acme.test")
    employee.goto(f"{live_server.url}/o/acme/")
    assert path_of(employee) == "/o/acme/"

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    login(page, live_server, "admin@acme.test")
    page.goto(f"{live_server.url}/o/acme/members/")
    page.get_by_role("link", name="Edit employee@acme.test").click()
    page.get_by_label("Why").fill("Left the company")
    with page.expect_navigation():
        page.get_by_role("button", name="Suspend employee@acme.test").click()
    assert dialogs == ["Suspend employee@acme.test? They are signed out at once."]
    assert path_of(page) == "/o/acme/members/"
    row = page.locator("tr", has_text="employee@acme.test")
    assert "Suspended" in row.inner_text() and "by admin:admin@acme.test: Left the company" in row.inner_text()
    screenshot(page, "members-suspended")

    # The member's open session ends on their next click; their password no longer opens a session.
    employee.reload()
    assert path_of(employee) == "/accounts/login/"
    step = employee.get_by_test_id("email-step")  # the sign-in page asks for the e-mail first
    step.get_by_label("Email").fill("employee@acme.test")
    with employee.expect_navigation():
        step.get_by_role("button", name="Continue").click()
    form = employee.locator("form[action$='/accounts/login/']")
    form.get_by_label("Email").fill("employee@acme.test")
    form.get_by_label("Password", exact=False).first.fill(DEMO_PASSWORD)
    with employee.expect_navigation():
        form.get_by_role("button", name=re.compile(r"sign in|log in", re.I)).click()
    assert "Your access has been suspended by your organization" in employee.inner_text("main")

    page.get_by_role("link", name="Held posts of suspended members").click()
    assert page.get_by_role("heading", name="Held posts").is_visible()
    page.get_by_role("link", name="Back to members").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Reactivate employee@acme.test").click()
    assert "Reactivated employee@acme.test" in page.inner_text("main")

    login(employee, live_server, "employee@acme.test")
    employee.goto(f"{live_server.url}/o/acme/")
    assert path_of(employee) == "/o/acme/"
    member_context.close()

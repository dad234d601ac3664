"""Browser tests: a real Chromium (Debian's, driven by Playwright) against Django's live server.

Every test here gets a fresh browser context (`page`), and the demo organization from
`seed_demo` when it asks for `demo`. Screenshots of key pages land in
test-results/screenshots/ (git-ignored) for humans to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio loop running in this thread; Django's ORM (used
# by the tests themselves next to the live server) refuses to run there without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The page the marketer's link points at is served on loopback, which the unfurler refuses
# by design. Only this one host:port is allowed, and it is put in the environment here, at
# collection, so that the Celery worker process (started later, from this environment)
# fetches it like any public page. Every other loopback address stays refused.
SITE_PORT = _free_port()
os.environ["UNFURL_ALLOWED_HOSTS"] = f"127.0.0.1:{SITE_PORT}"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCREENSHOTS = ROOT / "test-results" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

from analytics.management.commands.seed_demo import DEMO_PASSWORD  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Everything in this folder is an e2e test, whatever its module says."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# --- the browser ----------------------------------------------------------------------------


def _chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Chromium is not installed, and the browser tests need it. Install Debian's build with:\n"
            "    apt-get install chromium\n"
            "(Playwright's own browser downloads are not used here.)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    executable = _chromium_path()
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except PlaywrightError as exc:
        playwright.stop()
        pytest.fail(
            f"Chromium at {executable} did not start ({exc}). Reinstall it with:\n    apt-get install chromium",
            pytrace=False,
        )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def phone(browser):
    """A page in a phone-sized window (390 x 844, the size of a common phone). Not in Chromium's
    mobile mode: there a page too wide widens the layout viewport (window.innerWidth grows to
    match), which would hide the very overflow the phone tests look for."""
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# --- data -----------------------------------------------------------------------------------


SNAPSHOT = "demo_snapshot"  # a schema of this worker's test database


class DemoSnapshot:
    """`seed_demo` once per test process, its rows copied into the SNAPSHOT schema; each
    test then gets them back with one INSERT ... SELECT per table (about a second, where
    seeding took 7-20) into the database its previous test left empty. Rows, ids and
    sequences are exactly what the seed made; its times are as old as the session."""

    def __init__(self):
        self.tables: list[str] = []
        self.columns: dict[str, str] = {}
        self.sequences: list[tuple[str, int | None]] = []

    def take(self) -> None:
        from django.core.management import call_command
        from django.db import connection

        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        self.tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE; CREATE SCHEMA {SNAPSHOT}")
            for table in self.tables:
                cursor.execute(f'CREATE TABLE {SNAPSHOT}."{table}" AS TABLE public."{table}"')
            # Generated columns (the search vectors) are written by the database, never copied in.
            cursor.execute(
                "SELECT table_name, string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) "
                "FROM information_schema.columns WHERE table_schema = 'public' AND is_generated = 'NEVER' "
                "GROUP BY table_name"
            )
            self.columns = dict(cursor.fetchall())
            cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            self.sequences = cursor.fetchall()

    def restore(self) -> None:
        from django.db import connection, transaction

        quoted = ", ".join(f'public."{table}"' for table in self.tables)
        with transaction.atomic(), connection.cursor() as cursor:
            # A copy of rows that were valid: no foreign-key checks or triggers on the way in
            # (the test role is the cluster's superuser, as pytest-django's flush needs).
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(f"TRUNCATE {quoted}")
            for table in self.tables:
                columns = self.columns[table]
                cursor.execute(f'INSERT INTO public."{table}" ({columns}) SELECT {columns} FROM {SNAPSHOT}."{table}"')
            for name, value in self.sequences:
                cursor.execute("SELECT setval(%s, %s, %s)", [f'public."{name}"', value or 1, value is not None])


@pytest.fixture(scope="session")
def _demo_snapshot():
    return DemoSnapshot()


@pytest.fixture
def demo(transactional_db, _demo_snapshot, settings):
    """The demo organizations Acme (one user per role) and Globex (the admin only)."""
    # Audit anchors are written outside the database: one left by an earlier test would
    # not match the chain restored here (same organization ids).
    shutil.rmtree(Path(settings.PRIVATE_ROOT) / "audit-anchors", ignore_errors=True)
    if _demo_snapshot.tables:
        _demo_snapshot.restore()
    else:
        _demo_snapshot.take()
    from accounts.models import Organization

    return Organization.objects.get(slug="acme")


# --- helpers --------------------------------------------------------------------------------


def login(page, live_server, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in as a person would: the e-mail step (no single sign-on for this address), then
    allauth's password form; wait for the next page."""
    page.goto(f"{live_server.url}/accounts/login/")
    step = page.get_by_test_id("email-step")
    step.get_by_label("Email").fill(email)
    with page.expect_navigation():
        step.get_by_role("button", name="Continue").click()
    form = page.locator("form[action$='/accounts/login/']")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password", exact=False).first.fill(password)
    with page.expect_navigation():
        form.get_by_role("button", name=re.compile(r"sign in|log in", re.I)).click()
    if "/accounts/login/" in page.url:
        errors = page.locator(".errorlist, .form-errors, .error").all_inner_texts()
        raise AssertionError(f"Login as {email} failed: {errors or page.inner_text('main')[:500]}")


def compose_first_item(page, words: str) -> None:
    """From any page: the feed's first item in the composer, to LinkedIn, with these words."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feed").click()
    page.locator("article.item").first.get_by_role("link", name=re.compile("^Share")).click()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    page.get_by_label(re.compile(r"^\s*LinkedIn \(opens")).check()
    page.get_by_label("Your words").fill(words)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-results/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def path_of(page) -> str:
    """The current URL's path (`/o/acme/`)."""
    from urllib.parse import urlsplit

    return urlsplit(page.url).path

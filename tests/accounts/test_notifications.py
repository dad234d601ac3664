"""Notifications: preferences decide in-app and e-mail, mail leaves after commit and never breaks
the action, members see and mark only their own."""

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts.context_processors import unread_notifications
from accounts.models import Notification, NotificationPreference, Role, SocialConnection
from accounts.services import notifications as services
from advocacy.errors import NotFound, ValidationFailed
from tests.accounts.factories import (
    MembershipFactory,
    NotificationFactory,
    NotificationPreferenceFactory,
    OrganizationFactory,
    SocialConnectionFactory,
)
from tests.helpers import org_url as url

# Every organization page: session, user, membership, org switcher, unread notifications.
LAYOUT_QUERIES = 5

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def employee(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])


def notify(membership, kind=Kind.SHARE_APPROVED, message="Your share was approved.", url="/o/acme/shares/1/"):
    return services.notify(
        organization_id=membership.organization_id, user_id=membership.user_id, kind=kind, message=message, url=url
    )


# --- notify ---------------------------------------------------------------------------------


def test_by_default_a_notification_is_shown_and_emailed_as_plain_text(
    employee, mailoutbox, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(employee)
    assert Notification.objects.for_org(employee.organization).get() == notification
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [employee.user.email]
    assert mail.subject.startswith(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + "Acme: Your share was approved.")
    assert mail.message().get_content_type() == "text/plain" and not getattr(mail, "alternatives", [])
    assert "Your share was approved." in mail.body
    assert settings.SITE_URL + "/o/acme/shares/1/" in mail.body
    assert settings.SITE_URL + url("notification_preferences", employee.organization) in mail.body
    notification.refresh_from_db()
    assert notification.emailed_at is not None and notification.read_at is None


def test_the_mail_waits_for_the_commit(employee, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notify(employee)
                raise RuntimeError("the action failed after notifying")
        except RuntimeError:
            pass
    assert callbacks == [] and mailoutbox == []
    assert not Notification.objects.for_org(employee.organization).exists()


def test_in_app_off_still_emails(employee, mailoutbox, django_capture_on_commit_callbacks):
    NotificationPreferenceFactory(
        organization=employee.organization, user=employee.user, kind=Kind.SHARE_FAILED, in_app=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(employee, kind=Kind.SHARE_FAILED) is None
    assert not Notification.objects.for_org(employee.organization).exists()
    assert len(mailoutbox) == 1


def test_email_off_only_shows_it(employee, mailoutbox, django_capture_on_commit_callbacks):
    NotificationPreferenceFactory(
        organization=employee.organization, user=employee.user, kind=Kind.SHARE_PUBLISHED, email=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(employee, kind=Kind.SHARE_PUBLISHED)
    assert notification.emailed_at is None and mailoutbox == []


def test_a_preference_is_per_kind_and_per_organization(employee, mailoutbox, django_capture_on_commit_callbacks):
    NotificationPreferenceFactory(
        organization=employee.organization, user=employee.user, kind=Kind.SHARE_FAILED, email=False
    )
    elsewhere = MembershipFactory(user=employee.user, organization=OrganizationFactory())
    with django_capture_on_commit_callbacks(execute=True):
        notify(employee, kind=Kind.SHARE_APPROVED)
        notify(elsewhere, kind=Kind.SHARE_FAILED)
    assert len(mailoutbox) == 2


def test_a_mail_failure_is_logged_not_raised(employee, settings, caplog, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.helpers.FailingMailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(employee)
    notification.refresh_from_db()
    assert notification.emailed_at is None
    assert "Could not e-mail the share_approved notification" in caplog.text


def test_an_unknown_kind_is_a_programming_error(employee):
    with pytest.raises(ValueError):
        notify(employee, kind="birthday")


def test_notify_many_tells_each_member_as_their_preference_says_with_one_read_and_one_insert(
    org, employee, mailoutbox, django_capture_on_commit_callbacks
):
    quiet = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    unmailed = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    NotificationPreferenceFactory(organization=org, user=quiet.user, kind=Kind.SHARE_PUBLISHED, in_app=False)
    NotificationPreferenceFactory(organization=org, user=unmailed.user, kind=Kind.SHARE_PUBLISHED, email=False)
    NotificationPreferenceFactory(organization=org, user=employee.user, kind=Kind.SHARE_FAILED, email=False)
    notices = [
        services.Notice(member.user_id, Kind.SHARE_PUBLISHED, f"Live for {n}.", f"/o/acme/shares/{n}/")
        for n, member in enumerate([employee, quiet, unmailed])
    ]

    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        rows = services.notify_many(org.pk, notices)

    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 2, statements
    assert statements[0].startswith("SELECT") and '"accounts_notificationpreference"' in statements[0]
    assert statements[1].startswith('INSERT INTO "accounts_notification" '), "one INSERT for every in-app row"
    assert rows[1] is None, "in-app off"
    assert [(row.user_id, row.message, row.url) for row in (rows[0], rows[2])] == [
        (employee.user_id, "Live for 0.", "/o/acme/shares/0/"),
        (unmailed.user_id, "Live for 2.", "/o/acme/shares/2/"),
    ]
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([employee.user.email, quiet.user.email])
    assert Notification.objects.for_org(org).get(pk=rows[0].pk).emailed_at is not None


def test_notify_many_with_an_unknown_kind_writes_nothing(org, employee, mailoutbox, django_capture_on_commit_callbacks):
    live, unknown = Kind.SHARE_PUBLISHED, "birthday"
    notices = [services.Notice(employee.user_id, live, "Live."), services.Notice(employee.user_id, unknown, "?")]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValueError):
        services.notify_many(org.pk, notices)
    assert not Notification.objects.for_org(org).exists() and mailoutbox == []


def test_needs_reconnect_tells_the_employee_once_until_read(employee, mailoutbox, django_capture_on_commit_callbacks):
    conn = SocialConnectionFactory(
        organization=employee.organization,
        user=employee.user,
        name="Ada",
        status=SocialConnection.Status.NEEDS_RECONNECT,
        status_reason="LinkedIn asks you to reconnect (token revoked).",
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify_needs_reconnect(conn)
        assert services.notify_needs_reconnect(conn) is None
    assert first.kind == Kind.CONNECTION_NEEDS_RECONNECT and first.url == url("connections", employee.organization)
    assert "LinkedIn account Ada needs reconnecting: LinkedIn asks you to reconnect" in first.message
    assert len(mailoutbox) == 1
    services.mark_read(actor=employee, notification_id=first.pk)
    assert services.notify_needs_reconnect(conn) is not None


# --- reading and marking --------------------------------------------------------------------


def test_mark_read_is_for_ones_own_notifications_only(org, employee):
    mine = NotificationFactory(organization=org, user=employee.user)
    colleagues = NotificationFactory(organization=org)
    other_org = NotificationFactory(user=employee.user)
    assert services.mark_read(actor=employee, notification_id=mine.pk).read_at is not None
    first_read = Notification.objects.for_org(org).get(pk=mine.pk).read_at
    assert services.mark_read(actor=employee, notification_id=mine.pk).read_at == first_read
    for theirs in (colleagues, other_org):
        with pytest.raises(NotFound):
            services.mark_read(actor=employee, notification_id=theirs.pk)
    assert Notification.objects.for_org(org).get(pk=colleagues.pk).read_at is None


def test_mark_all_read_touches_only_the_members_unread_in_this_organization(org, employee):
    NotificationFactory.create_batch(3, organization=org, user=employee.user)
    colleagues = NotificationFactory(organization=org)
    other_org = NotificationFactory(user=employee.user)
    assert services.mark_all_read(actor=employee) == 3
    assert services.mark_all_read(actor=employee) == 0
    assert Notification.objects.for_org(org).get(pk=colleagues.pk).read_at is None
    assert Notification.objects.for_org(other_org.organization_id).get(pk=other_org.pk).read_at is None


def test_preferences_default_then_save_partially(employee):
    prefs = services.preferences_of(employee)
    assert list(prefs) == Kind.values
    assert all(p.in_app and p.email and p.pk is None for p in prefs.values())
    assert prefs[Kind.CONTENT_DIGEST].digest == NotificationPreference.Digest.WEEKLY
    services.set_preferences(
        actor=employee,
        preferences={Kind.SHARE_APPROVED: {"email": False}, Kind.CONTENT_DIGEST: {"digest": "daily"}},
    )
    services.set_preferences(actor=employee, preferences={Kind.SHARE_APPROVED: {"in_app": False}})
    prefs = services.preferences_of(employee)
    assert (prefs[Kind.SHARE_APPROVED].in_app, prefs[Kind.SHARE_APPROVED].email) == (False, False)
    assert prefs[Kind.CONTENT_DIGEST].digest == "daily"
    assert NotificationPreference.objects.for_org(employee.organization).count() == 2


def test_bad_preferences_save_nothing(employee):
    with pytest.raises(ValidationFailed):
        services.set_preferences(
            actor=employee,
            preferences={Kind.SHARE_APPROVED: {"email": False}, Kind.CONTENT_DIGEST: {"digest": "hourly"}},
        )
    with pytest.raises(ValidationFailed):
        services.set_preferences(actor=employee, preferences={"birthday": {"email": False}})
    assert not NotificationPreference.objects.for_org(employee.organization).exists()


# --- pages ----------------------------------------------------------------------------------


def test_the_list_shows_only_ones_own(client, org, employee):
    NotificationFactory(organization=org, user=employee.user, message="Mine to read")
    NotificationFactory(organization=org, message="A colleague's")
    NotificationFactory(user=employee.user, message="From another organization")
    client.force_login(employee.user)
    page = client.get(url("notifications", org)).content.decode()
    assert "Mine to read" in page and "colleague" not in page and "another organization" not in page
    assert "1 unread." in page


def test_open_marks_read_and_follows_the_link(client, org, employee):
    notification = NotificationFactory(organization=org, user=employee.user, url="/o/acme/shares/7/")
    client.force_login(employee.user)
    response = client.post(url("notification_read", org, notification_id=notification.pk), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/o/acme/shares/7/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_open_never_leaves_the_site(client, org, employee):
    notification = NotificationFactory(organization=org, user=employee.user, url="https://evil.example/")
    client.force_login(employee.user)
    response = client.post(url("notification_read", org, notification_id=notification.pk), {"open": "1"})
    assert response["Location"] == url("notifications", org)


def test_a_colleagues_notification_is_404(client, org, employee):
    theirs = NotificationFactory(organization=org)
    client.force_login(employee.user)
    assert client.post(url("notification_read", org, notification_id=theirs.pk)).status_code == 404
    assert client.get(url("notification_read", org, notification_id=theirs.pk)).status_code == 405
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_from_the_page(client, org, employee):
    NotificationFactory.create_batch(2, organization=org, user=employee.user)
    client.force_login(employee.user)
    response = client.post(url("notifications_read_all", org), follow=True)
    assert "Marked 2 notifications read." in response.content.decode()
    assert selectors.unread_count(employee) == 0


def test_preferences_page_saves_the_choices(client, org, employee):
    client.force_login(employee.user)
    page = client.get(url("notification_preferences", org)).content.decode()
    assert 'name="content_digest__digest"' in page and 'name="share_failed__email"' in page
    data = {
        f"{kind}__{what}": "on" for kind in Kind.values if kind != Kind.CONTENT_DIGEST for what in ("in_app", "email")
    }
    data.pop("share_published__email")
    data["content_digest__digest"] = "off"
    response = client.post(url("notification_preferences", org), data)
    assert response.status_code == 302
    prefs = services.preferences_of(employee)
    assert prefs[Kind.SHARE_PUBLISHED].email is False and prefs[Kind.SHARE_PUBLISHED].in_app is True
    assert prefs[Kind.CONTENT_DIGEST].digest == "off"
    response = client.post(url("notification_preferences", org), {**data, "content_digest__digest": "hourly"})
    assert response.status_code == 200 and services.preferences_of(employee)[Kind.CONTENT_DIGEST].digest == "off"


def test_unread_count_for_the_header_is_lazy(org, employee, django_assert_num_queries):
    NotificationFactory.create_batch(2, organization=org, user=employee.user)
    NotificationFactory(organization=org, user=employee.user, read_at="2026-01-01T00:00:00Z")
    request = RequestFactory().get("/")
    request.membership = None
    assert unread_notifications(request) == {}
    request.membership = employee
    with django_assert_num_queries(0):
        context = unread_notifications(request)
    with django_assert_num_queries(1):
        assert int(str(context["unread_notifications"])) == 2


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx)


@pytest.mark.parametrize(
    "page, expected, grow",
    [
        # session, user, membership, org switcher + the page's own queries
        ("notifications", LAYOUT_QUERIES + 3, lambda m: NotificationFactory(organization=m.organization, user=m.user)),
        (
            "notification_preferences",
            LAYOUT_QUERIES + 2,  # the preferences, the member's push devices
            lambda m: NotificationPreferenceFactory(
                organization=m.organization,
                user=m.user,
                kind=next(k for k in Kind.values if not services.preferences_of(m)[k].pk),
            ),
        ),
    ],
)
def test_page_query_count_is_fixed_whatever_the_size(client, employee, page, expected, grow):
    client.force_login(employee.user)
    grow(employee)
    small = queries_for(client, url(page, employee.organization))
    for _ in range(4):
        grow(employee)
    assert queries_for(client, url(page, employee.organization)) == small == expected

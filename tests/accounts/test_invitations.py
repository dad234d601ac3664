"""Invitations: one at a time, in bulk from a CSV through the real worker, and accepting them."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, InvitationImport, Membership, Role, User
from accounts.services import imports
from advocacy.errors import Conflict, NotAllowed, ValidationFailed
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory, UserFactory
from tests.conftest import wait_for


def token_from(body: str) -> str:
    return re.search(r"/invitations/([^/\s]+)/", body).group(1)


@pytest.fixture
def admin(db):
    return MembershipFactory(roles=[Role.ADMIN, Role.EMPLOYEE])


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def invite(admin, email="new@example.com", **kwargs):
    return services.invite_member(actor=admin, email=email, **kwargs)


# --- one invitation -----------------------------------------------------------------------


def test_admin_invites_by_email_with_roles_and_teams(admin_client, admin, django_capture_on_commit_callbacks):
    sales = TeamFactory(organization=admin.organization, name="Sales")
    url = reverse("invitations", kwargs={"org_slug": admin.organization.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"email": "Bo@Example.com", "roles": ["employee", "marketer"], "teams": [sales.pk]}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.for_org(admin.organization).get()
    assert (invitation.email, invitation.roles, list(invitation.teams.all())) == (
        "bo@example.com",
        ["employee", "marketer"],
        [sales],
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bo@example.com"]
    assert admin.organization.name in mail.outbox[0].subject
    assert invitation.token_hash not in mail.outbox[0].body, "only the secret travels, never its hash"


def test_bad_invitation_keeps_the_form_and_writes_nothing(admin_client, admin):
    MembershipFactory(organization=admin.organization, user__email="taken@example.com")
    url = reverse("invitations", kwargs={"org_slug": admin.organization.slug})
    response = admin_client.post(url, {"email": "taken@example.com", "roles": ["employee"]})
    assert response.status_code == 200
    assert b"already a member" in response.content
    assert b'value="taken@example.com"' in response.content
    assert not Invitation.objects.for_org(admin.organization).exists()


def test_a_second_pending_invitation_for_the_same_address_is_refused(admin):
    invite(admin)
    with pytest.raises(Conflict, match="pending invitation"):
        invite(admin)
    with pytest.raises(ValidationFailed, match="Unknown role"):
        invite(admin, email="x@example.com", roles=["wizard"])


def test_resend_gives_a_new_link_and_kills_the_old(admin, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(admin)
    old = token_from(mail.outbox[-1].body)
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(actor=admin, invitation=invitation)
    new = token_from(mail.outbox[-1].body)
    assert old != new
    assert client.get(reverse("invitation_accept", args=[old])).status_code == 404
    assert client.get(reverse("invitation_accept", args=[new])).status_code == 200


# --- accepting ----------------------------------------------------------------------------


@pytest.fixture
def invited(admin, django_capture_on_commit_callbacks):
    team = TeamFactory(organization=admin.organization)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(admin, email="new@example.com", roles=["marketer"], teams=[team])
    return invitation, token_from(mail.outbox[-1].body)


def test_accepting_creates_the_user_verified_and_logged_in(client, invited):
    invitation, token = invited
    url = reverse("invitation_accept", args=[token])
    response = client.post(
        url, {"name": "Nina New", "password1": "a-Strong-passphrase-42", "password2": "a-Strong-passphrase-42"}
    )
    assert response["Location"] == f"/o/{invitation.organization.slug}/"
    user = User.objects.get(email="new@example.com")
    assert user.name == "Nina New" and user.emailaddress_set.get().verified
    membership = Membership.objects.for_org(invitation.organization).get(user=user)
    assert membership.roles == {"marketer"}
    assert list(membership.teams.all()) == list(invitation.teams.all())
    assert int(client.session["_auth_user_id"]) == user.pk
    # A second click on the same link changes nothing and says why.
    again = client.post(url)
    assert Membership.objects.for_org(invitation.organization).filter(user=user).count() == 1
    assert again.status_code in (200, 302)


def test_accepting_with_a_weak_password_keeps_the_name_and_creates_nothing(client, invited):
    _, token = invited
    response = client.post(
        reverse("invitation_accept", args=[token]), {"name": "Nina", "password1": "12345678", "password2": "12345678"}
    )
    assert response.status_code == 200
    assert b"too common" in response.content and b'value="Nina"' in response.content
    assert not User.objects.filter(email="new@example.com").exists()


def test_an_existing_user_signs_in_and_is_linked(client, invited):
    invitation, token = invited
    existing = UserFactory(email="new@example.com")
    page = client.get(reverse("invitation_accept", args=[token]))
    assert b"Sign in to accept" in page.content
    client.force_login(existing)
    client.post(reverse("invitation_accept", args=[token]))
    assert Membership.objects.for_org(invitation.organization).get(user=existing).roles == {"marketer"}


def test_the_wrong_signed_in_user_cannot_take_an_invitation(invited):
    invitation, token = invited
    stranger = UserFactory(email="stranger@example.com")
    with pytest.raises(NotAllowed, match=r"stranger@example\.com"):
        services.accept_invitation(token=token, user=stranger)
    assert not Membership.objects.for_org(invitation.organization).filter(user=stranger).exists()


def test_expired_and_revoked_invitations_do_not_work(client, invited, admin):
    invitation, token = invited
    Invitation.objects.for_org(invitation.organization).filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    with pytest.raises(Conflict, match="expired"):
        services.accept_invitation(token=token, name="X", password="a-Strong-passphrase-42")
    assert services.expire_invitations() == 1
    with pytest.raises(Conflict):
        services.revoke_invitation(actor=admin, invitation=invitation)
    assert not User.objects.filter(email="new@example.com").exists()


# --- bulk from CSV, through the real worker -----------------------------------------------

CSV = """email,roles,teams
good1@example.com,employee,Sales
good2@example.com,employee;marketer,
not-an-email,employee,
good1@example.com,employee,
wizard@example.com,wizard,
lost@example.com,employee,Atlantis
member@example.com,employee,
good3@example.com,,Sales|Paris
"""


def test_csv_with_a_bad_header_is_refused_before_anything_is_queued(admin):
    with pytest.raises(ValidationFailed, match="'email' column"):
        services.start_invitation_import(actor=admin, filename="x.csv", data=b"mail,role\na@b.c,x\n")
    with pytest.raises(ValidationFailed, match="UTF-8"):
        services.start_invitation_import(actor=admin, filename="x.csv", data=b"email\n\xff\xfe\n")
    assert not InvitationImport.objects.for_org(admin.organization).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_csv_import_invites_good_rows_and_reports_each_bad_one(worker_process, client):
    org = OrganizationFactory()
    admin = MembershipFactory(organization=org, roles=[Role.ADMIN])
    MembershipFactory(organization=org, user__email="member@example.com")
    TeamFactory(organization=org, name="Sales")
    TeamFactory(organization=org, name="Paris", kind="location")
    client.force_login(admin.user)
    upload = __import__("django.core.files.uploadedfile", fromlist=["x"]).SimpleUploadedFile(
        "people.csv", CSV.encode(), content_type="text/csv"
    )
    response = client.post(reverse("invitations", kwargs={"org_slug": org.slug}), {"file": upload})
    job = InvitationImport.objects.for_org(org).get()
    assert response["Location"] == reverse(
        "invitation_import", kwargs={"org_slug": org.slug, "invitation_import_id": job.pk}
    )
    assert job.total_rows == 8

    done = wait_for(
        lambda: InvitationImport.objects.for_org(org).filter(pk=job.pk, status="done").first(),
        message="the worker to finish the import",
    )
    assert done.invited_count == 3 and done.processed_rows == 8
    reasons = {row["line"]: row["reason"] for row in done.rejected_rows}
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert "not a valid e-mail" in reasons[4]
    assert "earlier in the file" in reasons[5]
    assert "Unknown role" in reasons[6]
    assert "Unknown team: Atlantis" in reasons[7]
    assert "already a member" in reasons[8]

    invitations = Invitation.objects.for_org(org)
    assert sorted(invitations.values_list("email", flat=True)) == [
        "good1@example.com",
        "good2@example.com",
        "good3@example.com",
    ]
    assert sorted(t.name for t in invitations.get(email="good3@example.com").teams.all()) == ["Paris", "Sales"]
    assert not User.objects.filter(email__in=["wizard@example.com", "lost@example.com"]).exists()
    sent = wait_for(
        lambda: worker_process.sent_mail().count("To: good") == 3 and worker_process.sent_mail(),
        message="three invitation e-mails",
    )
    assert "wizard@example.com" not in sent

    page = client.get(reverse("invitation_import", kwargs={"org_slug": org.slug, "invitation_import_id": job.pk}))
    assert b"Done: 3 invited, 5 rejected" in page.content and b"Unknown team: Atlantis" in page.content

    # A redelivered task is a no-op: nothing is invited twice.
    services.run_invitation_import(import_id=job.pk)
    assert Invitation.objects.for_org(org).count() == 3


# --- failures while importing ---------------------------------------------------------------


def start_import(admin, n_rows: int) -> InvitationImport:
    data = "email\n" + "".join(f"p{i}@example.com\n" for i in range(n_rows))
    return services.start_invitation_import(actor=admin, filename="p.csv", data=data.encode())


def failing_on_call(number: int, error: BaseException):
    real, calls = imports.send_invitation, []

    def send_invitation(**kwargs):
        calls.append(kwargs["email"])
        if len(calls) == number:
            raise error
        return real(**kwargs)

    return send_invitation


def test_an_unexpected_error_marks_the_upload_failed_in_words(admin, monkeypatch):
    job = start_import(admin, 40)
    monkeypatch.setattr(imports, "send_invitation", failing_on_call(30, RuntimeError("disk on fire")))
    with pytest.raises(RuntimeError):
        services.run_invitation_import(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "upload the remaining rows" in job.error
    assert job.processed_rows == services.IMPORT_BATCH == 25
    assert Invitation.objects.for_org(admin.organization).count() == 25, "the committed batch stays"


def test_a_worker_killed_mid_import_resumes_without_inviting_twice(admin, monkeypatch):
    job = start_import(admin, 60)
    monkeypatch.setattr(imports, "send_invitation", failing_on_call(37, KeyboardInterrupt()))  # the kill
    with pytest.raises(KeyboardInterrupt):
        services.run_invitation_import(import_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == ("running", 25)
    monkeypatch.undo()
    done = services.run_invitation_import(import_id=job.pk)  # the redelivered task
    assert (done.status, done.processed_rows, done.invited_count, done.rejected_rows) == ("done", 60, 60, [])
    assert Invitation.objects.for_org(admin.organization).count() == 60


def test_a_corrected_row_after_a_rejected_one_is_invited(admin):
    data = b"email,teams\nfix@example.com,Atlantis\nfix@example.com,\n"
    job = services.start_invitation_import(actor=admin, filename="p.csv", data=data)
    done = services.run_invitation_import(import_id=job.pk)
    assert done.invited_count == 1 and [r["line"] for r in done.rejected_rows] == [2]


@pytest.mark.django_db(transaction=True)
def test_two_admins_inviting_the_same_address_at_once_get_one_invitation():
    """Two real connections: the second insert waits on the first, then reads a Conflict."""
    import threading

    from django.db import connection, connections, transaction

    admin = MembershipFactory(roles=[Role.ADMIN])
    org = admin.organization
    first_inserted, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                services.invite_member(actor=admin, email="race@example.com")
                first_inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second():
        try:
            services.invite_member(actor=admin, email="race@example.com")
            outcome["second"] = "invited"
        except Conflict as exc:
            outcome["second"] = exc.message
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert first_inserted.wait(10)
    b = threading.Thread(target=second)
    b.start()
    wait_for(lambda: _someone_waits_on_a_lock(connection), message="the second insert to block")
    release.set()
    a.join(10)
    b.join(10)
    assert "pending invitation already" in outcome["second"]
    assert Invitation.objects.for_org(org).filter(email="race@example.com").count() == 1


def _someone_waits_on_a_lock(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0

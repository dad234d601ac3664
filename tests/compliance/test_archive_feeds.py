"""Archive feeds (issue 19, item 5): one RFC 5322 message per published post and per decision,
delivered daily and incrementally to a real local SFTP server and a real local S3-compatible
server (tests/integrations/archive_servers.py), re-run safe, with a manifest written last;
typed refusals in words; secrets encrypted and never rendered; the pages and the worker."""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import hashlib
import json
import uuid
import zoneinfo
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from compliance.models import ArchiveDestination, ArchiveFeedRun, AuditEntry
from compliance.services import archive_feed
from content.models import Delivery, Share
from tests.accounts.factories import OrganizationFactory, SocialConnectionFactory, TeamFactory, UserFactory
from tests.compliance.factories import ArchiveDestinationFactory, ArchiveFeedRunFactory, DecisionFactory
from tests.conftest import wait_for
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory, ShareVersionFactory
from tests.helpers import member, org_url
from tests.integrations.archive_servers import S3Server, SftpServer

DAY1 = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)
DAY2 = DAY1 + datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory):
    server = SftpServer(tmp_path_factory.mktemp("sftp-root")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme-feeds", name="Acme", timezone="Europe/Paris")


@pytest.fixture
def officer(org):
    return member(org, Role.COMPLIANCE)


@pytest.fixture
def sftp_dest(org, sftp_server):
    folder = f"drop-{uuid.uuid4().hex[:8]}"
    (sftp_server.root / folder).mkdir()
    return ArchiveDestinationFactory(
        organization=org,
        name="Smarsh SFTP",
        kind="sftp",
        host="127.0.0.1",
        port=sftp_server.port,
        username=sftp_server.username,
        password=sftp_server.password,
        host_key_fingerprint=sftp_server.fingerprint,
        remote_directory=f"/{folder}",
        endpoint_url="",
        bucket="",
        access_key_id="",
        secret_access_key="",
    )


@pytest.fixture
def s3_dest(org, s3_server):
    bucket = f"archive-{uuid.uuid4().hex[:8]}"
    s3_server.s3().create_bucket(Bucket=bucket)
    return ArchiveDestinationFactory(
        organization=org,
        name="Global Relay bucket",
        kind="s3",
        endpoint_url=s3_server.endpoint_url,
        region="us-east-1",
        bucket=bucket,
        prefix="acme/feed",
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
    )


def _post(org, published_at, *, text="We open in Lyon ✓ «bienvenue»", network="linkedin", auto=False):
    """A published share: one version, its approval (by a reviewer, or the policy), one delivery."""
    author = UserFactory(name="Émma Employee", email=f"emma{uuid.uuid4().hex[:6]}@acme.test")
    item = ContentItemFactory(organization=org, title="Lyon office", url="https://acme.example/lyon")
    team = TeamFactory(organization=org, name=f"Sales {uuid.uuid4().hex[:4]}")
    share = ShareFactory(item=item, author=author, commentary=text, version=1, team=team, status="published")
    Share.objects.for_org(org).filter(pk=share.pk).update(created_at=published_at - datetime.timedelta(hours=1))
    ShareVersionFactory(share=share, number=1, commentary=text)
    account = SocialConnectionFactory(
        organization=org, user=author, network=network, name="Émma on LinkedIn", username="emma-e", remote_id="urn:1"
    )
    delivery = DeliveryFactory(
        share=share,
        network=network,
        mode=Delivery.Mode.API,
        connection=account,
        text=text + "\n\nhttps://go.acme.example/r/abc",
        status="published",
        remote_id="urn:li:share:7",
        remote_url="https://linkedin.example/feed/update/7",
        published_at=published_at,
    )
    digest = hashlib.sha256(delivery.text.encode()).hexdigest()
    Delivery.objects.for_org(org).filter(pk=delivery.pk).update(approved_text_hash=digest)
    reviewer = None if auto else UserFactory(name="Dana Officer", email=f"dana{uuid.uuid4().hex[:6]}@acme.test")
    decision = DecisionFactory(
        share=share,
        version=1,
        outcome="approved",
        reviewer=reviewer,
        comment="Fine" if reviewer else "",
        text_hashes={str(delivery.pk): digest},
        decided_at=published_at - datetime.timedelta(minutes=30),
    )
    return share, delivery, decision


def _parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def _deliver(destination, now):
    return archive_feed.deliver(
        archive_destination_id=destination.pk, organization_id=destination.organization_id, now=now
    )


def _folder_files(sftp_server, destination, folder):
    prefix = f"{destination.remote_directory.strip('/')}/{folder}/"
    return {k[len(prefix) :]: v for k, v in sftp_server.files().items() if k.startswith(prefix)}


# --- the messages ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_eml_parses_back_with_headers_text_and_hashes(org):
    share, delivery, decision = _post(org, DAY1)
    files = list(archive_feed.feed_files(org, None, DAY2))
    assert [(f.kind, f.name) for f in files] == [
        ("post", f"post-{delivery.pk}.eml"),
        ("decision", f"decision-{decision.pk}.eml"),
    ]
    post, made = _parse(files[0].data), _parse(files[1].data)
    assert all(byte < 128 for byte in files[0].data), "7-bit safe: UTF-8 encoded, not raw"
    assert post.get_content().replace("\r\n", "\n").rstrip("\n") == delivery.text
    assert email.utils.parsedate_to_datetime(post["Date"]) == DAY1
    assert post["Message-ID"] == f"<post-{delivery.pk}.org-{org.pk}@{urlsplit(settings.SITE_URL).hostname}>"
    assert post["From"].addresses[0].display_name == "Émma Employee"
    assert post["From"].addresses[0].addr_spec == share.author.email
    assert (post["X-Advocacy-Kind"], post["X-Advocacy-Network"]) == ("post", "linkedin")
    assert (post["X-Advocacy-Account-Name"], post["X-Advocacy-Account-Handle"]) == ("Émma on LinkedIn", "emma-e")
    assert post["X-Advocacy-Approver"] == f"Dana Officer <{decision.reviewer.email}>"
    assert post["X-Advocacy-Approved-Text-SHA256"] == decision.text_hashes[str(delivery.pk)]
    assert post["X-Advocacy-Text-SHA256"] == hashlib.sha256(delivery.text.encode()).hexdigest()
    assert post["X-Advocacy-Share-Id"] == str(share.pk) and post["X-Advocacy-Remote-Id"] == "urn:li:share:7"
    assert "LinkedIn post by" in post["Subject"]

    assert email.utils.parsedate_to_datetime(made["Date"]) == decision.decided_at
    assert (made["X-Advocacy-Outcome"], made["X-Advocacy-Decision-Id"]) == ("approved", str(decision.pk))
    assert made["To"].addresses[0].addr_spec == share.author.email
    assert f"delivery={delivery.pk} network=linkedin {decision.text_hashes[str(delivery.pk)]}" == str(
        made["X-Advocacy-Approved-Text-SHA256"]
    )
    assert "Comment: Fine" in made.get_content() and share.commentary in made.get_content()
    # Stable per record: the same bytes (and Message-ID) on every run.
    assert [f.data for f in archive_feed.feed_files(org, None, DAY2)] == [f.data for f in files]


@pytest.mark.django_db
def test_an_auto_approval_says_so_and_headers_cannot_be_injected(org):
    _post(org, DAY1, text="Line one\r\nBcc: evil@example.com\nline three", auto=True)
    post, made = (_parse(f.data) for f in archive_feed.feed_files(org, None, DAY2))
    assert post["X-Advocacy-Approver"] == "the policy (approved without review)"
    assert made["From"].addresses[0].display_name == "Review policy"
    assert post["Bcc"] is None and made["Bcc"] is None
    assert "Bcc: evil@example.com" in post["Subject"]  # folded into one line, not a header
    assert post.get_content().replace("\r\n", "\n").startswith("Line one\nBcc: evil@example.com\nline three")


@pytest.mark.django_db
def test_another_organizations_records_are_not_in_the_feed(org):
    _post(OrganizationFactory(), DAY1)
    assert list(archive_feed.feed_files(org, None, DAY2)) == []


# --- delivery, re-runs, increments ----------------------------------------------------------


@pytest.mark.django_db
def test_delivered_to_sftp_with_the_manifest_last_and_its_hashes_matching(org, sftp_server, sftp_dest):
    _share, delivery, decision = _post(org, DAY1)
    run = _deliver(sftp_dest, DAY1 + datetime.timedelta(hours=2))
    assert (run.status, run.posts, run.decisions, run.uploaded, run.error) == ("succeeded", 1, 1, 2, "")
    assert run.folder == "2026-03-10"
    files = _folder_files(sftp_server, sftp_dest, run.folder)
    assert set(files) == {f"post-{delivery.pk}.eml", f"decision-{decision.pk}.eml", "manifest.json"}
    manifest = json.loads(files["manifest.json"])
    assert {e["name"]: e["sha256"] for e in manifest["files"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in files.items() if name != "manifest.json"
    }
    assert {(e["kind"], e["record_id"]) for e in manifest["files"]} == {
        ("post", delivery.pk),
        ("decision", decision.pk),
    }
    ours = [p for p in sftp_server.renamed if p.startswith(sftp_dest.remote_directory)]
    assert ours[-1].endswith("/manifest.json") and len(ours) == 3
    assert not any(name.endswith(".part") for name in files)
    sftp_dest.refresh_from_db()
    assert sftp_dest.delivered_until == run.window_end == DAY1 + datetime.timedelta(hours=2, minutes=-5)
    delivered = AuditEntry.objects.for_org(org).get(action="archive_feed.delivered")
    assert delivered.after["uploaded"] == 2 and delivered.actor_label == "system"


@pytest.mark.django_db
def test_re_running_the_same_day_duplicates_nothing_and_keeps_the_days_manifest(org, sftp_server, sftp_dest):
    _post(org, DAY1)
    first = _deliver(sftp_dest, DAY1 + datetime.timedelta(hours=2))
    before = _folder_files(sftp_server, sftp_dest, first.folder)
    again = _deliver(sftp_dest, DAY1 + datetime.timedelta(hours=3))
    assert (again.status, again.uploaded, again.posts) == ("succeeded", 0, 0)
    after = _folder_files(sftp_server, sftp_dest, first.folder)
    assert {k: v for k, v in after.items() if k != "manifest.json"} == {
        k: v for k, v in before.items() if k != "manifest.json"
    }
    assert json.loads(after["manifest.json"])["files"] == json.loads(before["manifest.json"])["files"]
    # A later post the same day joins the same folder; the manifest lists all four files.
    _s, late, _d = _post(org, DAY1 + datetime.timedelta(hours=4))
    third = _deliver(sftp_dest, DAY1 + datetime.timedelta(hours=6))
    assert (third.uploaded, third.posts, third.decisions) == (2, 1, 1)
    files = _folder_files(sftp_server, sftp_dest, third.folder)
    names = [e["name"] for e in json.loads(files["manifest.json"])["files"]]
    assert len(names) == 4 and f"post-{late.pk}.eml" in names and set(names) == set(files) - {"manifest.json"}


@pytest.mark.django_db
def test_the_next_day_delivers_only_the_new_post(org, sftp_server, sftp_dest):
    _s, old, _d = _post(org, DAY1)
    _deliver(sftp_dest, DAY1 + datetime.timedelta(hours=2))
    _s, new, new_decision = _post(org, DAY2)
    run = _deliver(sftp_dest, DAY2 + datetime.timedelta(hours=2))
    assert (run.folder, run.posts, run.decisions, run.uploaded) == ("2026-03-11", 1, 1, 2)
    files = _folder_files(sftp_server, sftp_dest, "2026-03-11")
    assert set(files) == {f"post-{new.pk}.eml", f"decision-{new_decision.pk}.eml", "manifest.json"}
    assert f"post-{old.pk}.eml" in _folder_files(sftp_server, sftp_dest, "2026-03-10")


@pytest.mark.django_db
def test_a_failed_run_keeps_the_watermark_and_the_next_run_delivers_from_it(org, sftp_server, sftp_dest):
    _s, delivery, _d = _post(org, DAY1)
    sftp_dest.password = "wrong-password"
    sftp_dest.save()
    failed = _deliver(sftp_dest, DAY1 + datetime.timedelta(hours=2))
    assert failed.status == "failed" and "refused the login of user 'archive'" in failed.error
    sftp_dest.refresh_from_db()
    assert sftp_dest.delivered_until is None
    assert AuditEntry.objects.for_org(org).get(action="archive_feed.failed").after["error"] == failed.error
    sftp_dest.password = sftp_server.password
    sftp_dest.save()
    retried = _deliver(sftp_dest, DAY2)
    assert (retried.status, retried.window_start, retried.posts) == ("succeeded", None, 1)
    assert f"post-{delivery.pk}.eml" in _folder_files(sftp_server, sftp_dest, retried.folder)


@pytest.mark.django_db
def test_delivered_to_an_s3_compatible_bucket_and_re_run_without_duplicates(org, s3_server, s3_dest):
    _s, delivery, decision = _post(org, DAY1)
    run = _deliver(s3_dest, DAY1 + datetime.timedelta(hours=2))
    assert (run.status, run.uploaded, run.error) == ("succeeded", 2, "")
    objects = s3_server.objects(s3_dest.bucket)
    base = "acme/feed/2026-03-10/"
    assert set(objects) == {
        f"{base}post-{delivery.pk}.eml",
        f"{base}decision-{decision.pk}.eml",
        f"{base}manifest.json",
    }
    manifest = json.loads(objects[f"{base}manifest.json"])
    assert all(hashlib.sha256(objects[base + e["name"]]).hexdigest() == e["sha256"] for e in manifest["files"])
    assert _parse(objects[f"{base}post-{delivery.pk}.eml"])["X-Advocacy-Network"] == "linkedin"
    again = _deliver(s3_dest, DAY1 + datetime.timedelta(hours=3))
    assert (again.status, again.uploaded) == ("succeeded", 0)
    after = s3_server.objects(s3_dest.bucket)
    assert set(after) == set(objects)
    assert all(after[key] == objects[key] for key in objects if key.endswith(".eml"))
    assert json.loads(after[f"{base}manifest.json"])["files"] == manifest["files"]


# --- refusals in words ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_host_key_mismatch_is_refused_in_words_before_any_login(org, officer, sftp_server, sftp_dest):
    sftp_dest.host_key_fingerprint = "SHA256:" + "A" * 43
    sftp_dest.save()
    attempts = sftp_server.login_attempts
    result = archive_feed.check_destination(actor=officer, archive_destination_id=sftp_dest.pk)
    assert not result.ok and result.message.startswith("Host key mismatch.")
    assert sftp_server.fingerprint in result.message and "SHA256:AAAA" in result.message
    assert sftp_server.login_attempts == attempts, "no password was sent to the wrong server"
    _post(org, DAY1)
    run = _deliver(sftp_dest, DAY2)
    assert run.status == "failed" and "host key does not match" in run.error
    tested = AuditEntry.objects.for_org(org).get(action="archive_feed.destination_tested")
    assert tested.after["ok"] is False


@pytest.mark.django_db
def test_wrong_credentials_and_missing_places_are_refused_in_words(org, officer, sftp_server, sftp_dest, s3_dest):
    def check(destination):
        return archive_feed.check_destination(actor=officer, archive_destination_id=destination.pk)

    assert check(sftp_dest).ok and check(s3_dest).ok
    sftp_dest.password = "not-it"
    sftp_dest.save()
    assert check(sftp_dest).message.startswith("Login refused. The server refused the login of user 'archive'")
    sftp_dest.password, sftp_dest.remote_directory = sftp_server.password, "/no-such-folder"
    sftp_dest.save()
    assert check(sftp_dest).message == "Not found. The folder /no-such-folder does not exist on 127.0.0.1."
    sftp_dest.password, sftp_dest.private_key, sftp_dest.remote_directory = "", sftp_server.client_key_text, "/"
    sftp_dest.save()
    assert check(sftp_dest).ok, "a private key logs in too"

    good_secret = s3_dest.secret_access_key
    s3_dest.secret_access_key = "wrong-secret"
    s3_dest.save()
    refused = check(s3_dest).message
    assert refused.startswith("Login refused.") and s3_dest.access_key_id in refused and "wrong-secret" not in refused
    s3_dest.secret_access_key, s3_dest.bucket = good_secret, "no-such-bucket"
    s3_dest.save()
    assert check(s3_dest).message.startswith("Not found. The bucket 'no-such-bucket' does not exist")
    s3_dest.endpoint_url = "http://127.0.0.1:9"
    s3_dest.save()
    assert check(s3_dest).message.startswith("Unreachable.")


# --- settings, secrets, pages ---------------------------------------------------------------


SFTP_FORM = {
    "name": "Smarsh",
    "kind": "sftp",
    "enabled": "on",
    "host": "sftp.smarsh.example",
    "port": "2222",
    "username": "acme",
    "password": "Sup3r-Secret-Pass",
    "host_key_fingerprint": "SHA256:" + "B" * 43,
    "remote_directory": "/incoming",
}


@pytest.mark.django_db
def test_secrets_are_encrypted_at_rest_and_never_rendered_or_audited(client, org, officer):
    client.force_login(officer.user)
    url = org_url("compliance:archive_feeds", org)
    assert client.post(url, SFTP_FORM).status_code == 302
    destination = ArchiveDestination.objects.for_org(org).get()
    assert destination.password == "Sup3r-Secret-Pass" and destination.port == 2222
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM compliance_archivedestination WHERE id = %s", [destination.pk])
        stored = cursor.fetchone()[0]
    assert stored and "Sup3r" not in stored
    edit = org_url("compliance:archive_feed_edit", org, archive_destination_id=destination.pk)
    page = client.get(edit).content.decode()
    assert "sftp.smarsh.example" in page and "Sup3r-Secret-Pass" not in page
    # Saved again with the secret left empty: the stored one is kept.
    assert client.post(edit, {**SFTP_FORM, "password": "", "port": "22"}).status_code == 302
    destination.refresh_from_db()
    assert (destination.password, destination.port) == ("Sup3r-Secret-Pass", 22)
    # A form sent back with an error does not echo the secret or the key just typed.
    bad = client.post(edit, {**SFTP_FORM, "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nnope", "host": ""})
    body = bad.content.decode()
    assert bad.status_code == 400 and "Sup3r-Secret-Pass" not in body and "BEGIN OPENSSH" not in body
    assert "Enter the server" in body and "could not be read" in body
    trail = json.dumps(
        [[e.before, e.after] for e in AuditEntry.objects.for_org(org).filter(action__startswith="archive_feed")]
    )
    assert "Sup3r" not in trail and '"password_set": true' in trail
    # Another kind drops the secrets of the old one.
    s3_form = {"name": "Smarsh", "kind": "s3", "bucket": "b", "access_key_id": "AK", "secret_access_key": "S3cr3t-S3"}
    assert client.post(edit, s3_form).status_code == 302
    destination.refresh_from_db()
    assert (destination.password, destination.host, destination.secret_access_key) == ("", "", "S3cr3t-S3")
    assert "S3cr3t-S3" not in client.get(edit).content.decode()
    assert client.post(edit, {**SFTP_FORM, "name": "Smarsh", "password": ""}).status_code == 400
    assert client.post(edit, SFTP_FORM).status_code == 302
    for_page = client.get(url).content.decode()
    assert "sftp://acme@sftp.smarsh.example:2222/incoming" in for_page
    assert "Sup3r-Secret-Pass" not in for_page


@pytest.mark.django_db
def test_bad_settings_get_words_and_save_nothing(client, org, officer):
    client.force_login(officer.user)
    url = org_url("compliance:archive_feeds", org)
    missing_key = client.post(url, {**SFTP_FORM, "host_key_fingerprint": ""})
    assert missing_key.status_code == 400 and "SHA-256 fingerprint" in missing_key.content.decode()
    s3 = client.post(url, {"name": "Bucket", "kind": "s3", "endpoint_url": "ftp://x", "bucket": ""})
    text = s3.content.decode()
    assert "http:// or https://" in text and "bucket&#x27;s name" in text and "secret" in text
    assert not ArchiveDestination.objects.for_org(org).exists()
    assert not AuditEntry.objects.for_org(org).filter(action__startswith="archive_feed").exists()


@pytest.mark.django_db
def test_another_organizations_destination_is_404_and_roles_are_checked(client, org, officer):
    foreign = ArchiveDestinationFactory(organization=OrganizationFactory())
    client.force_login(officer.user)
    for name in ("archive_feed_edit", "archive_feed_test", "archive_feed_run"):
        url = org_url(f"compliance:{name}", org, archive_destination_id=foreign.pk)
        assert client.post(url, SFTP_FORM).status_code == 404, name
    client.force_login(member(org, Role.EMPLOYEE, Role.MARKETER).user)
    assert client.get(org_url("compliance:archive_feeds", org)).status_code == 403
    admin = member(org, Role.ADMIN).user
    client.force_login(admin)
    assert client.get(org_url("compliance:archive_feeds", org)).status_code == 200
    # an admin (no Archive page) finds the feeds from the organization's settings
    settings_page = client.get(org_url("org_settings", org)).content.decode()
    assert f'href="{org_url("compliance:archive_feeds", org)}"' in settings_page


@pytest.mark.django_db
def test_test_connection_button_says_what_failed(client, org, officer, sftp_server, sftp_dest):
    sftp_dest.password = "nope"
    sftp_dest.save()
    client.force_login(officer.user)
    url = org_url("compliance:archive_feed_test", org, archive_destination_id=sftp_dest.pk)
    page = client.post(url, follow=True).content.decode()
    assert "Login refused." in page and "nope" not in page.split("Login refused.")[1][:300]


@pytest.mark.django_db
def test_feeds_and_archive_pages_list_runs_with_a_fixed_number_of_queries(
    client, org, officer, django_assert_max_num_queries
):
    client.force_login(officer.user)
    feeds, archive_page = org_url("compliance:archive_feeds", org), org_url("compliance:archive", org)
    ArchiveFeedRunFactory(organization=org, status="failed", error="The bucket 'x' does not exist at AWS S3.")
    with django_assert_max_num_queries(12) as first:
        client.get(feeds)
    counted = len(first.captured_queries)
    for _ in range(4):
        ArchiveFeedRunFactory(organization=org, status="succeeded", posts=3, requested_by=officer.user)
    with django_assert_max_num_queries(counted):
        page = client.get(feeds).content.decode()
    assert page.count("data-run=") == 5 and "does not exist at AWS S3" in page
    with django_assert_max_num_queries(counted + 6):
        archive = client.get(archive_page).content.decode()
    assert archive.count("data-run=") == 5 and "Feeds to archiving vendors" in archive


@pytest.mark.django_db
def test_run_now_is_audited_and_enqueued_after_commit(client, org, officer, django_capture_on_commit_callbacks):
    destination = ArchiveDestinationFactory(organization=org)
    client.force_login(officer.user)
    url = org_url("compliance:archive_feed_run", org, archive_destination_id=destination.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(url).status_code == 302
    assert len(callbacks) == 1
    assert AuditEntry.objects.for_org(org).get(action="archive_feed.run_requested").actor_id == officer.user_id
    destination.enabled = False
    destination.save()
    assert "switched off" in client.post(url, follow=True).content.decode()


@pytest.mark.django_db
def test_due_destinations_are_those_without_todays_delivery(org, django_assert_max_num_queries):
    now = timezone.now()
    due = ArchiveDestinationFactory(organization=org)
    done = ArchiveDestinationFactory(organization=org)
    ArchiveDestinationFactory(organization=org, enabled=False)
    folder = now.astimezone(zoneinfo.ZoneInfo("Europe/Paris")).date().isoformat()  # the organization's day
    ArchiveFeedRunFactory(organization=org, destination=done, folder=folder, status="succeeded")
    ArchiveFeedRunFactory(organization=org, destination=due, folder=folder, status="failed")
    with django_assert_max_num_queries(2):
        assert [d for d, _o in archive_feed.due_destinations(now)] == [due.pk]


@pytest.mark.django_db
def test_a_run_in_progress_holds_the_destination_until_its_lease_ends(org, sftp_server, sftp_dest):
    _post(org, DAY1)
    now = DAY1 + datetime.timedelta(hours=2)
    running = ArchiveFeedRunFactory(
        organization=org, destination=sftp_dest, status="running", started_at=now - datetime.timedelta(minutes=10)
    )
    assert _deliver(sftp_dest, now) is None
    ArchiveFeedRun.objects.for_org(org).filter(pk=running.pk).update(started_at=now - datetime.timedelta(hours=3))
    run = _deliver(sftp_dest, now)
    assert (run.status, run.uploaded) == ("succeeded", 2)
    running.refresh_from_db()
    assert running.status == "failed" and "interrupted" in running.error


# --- the real worker ------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_feed_an_officer_asks_for(client, worker_process, s3_server):
    org = OrganizationFactory(slug="acme-feed-worker", timezone="Europe/Paris")
    officer = member(org, Role.COMPLIANCE)
    bucket = f"worker-{uuid.uuid4().hex[:8]}"
    s3_server.s3().create_bucket(Bucket=bucket)
    destination = ArchiveDestinationFactory(
        organization=org,
        endpoint_url=s3_server.endpoint_url,
        bucket=bucket,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
    )
    _s, delivery, _d = _post(org, timezone.now() - datetime.timedelta(hours=3))
    client.force_login(officer.user)
    url = org_url("compliance:archive_feed_run", org, archive_destination_id=destination.pk)
    assert client.post(url).status_code == 302
    wait_for(
        lambda: ArchiveFeedRun.objects.for_org(org).exclude(status="running").exists(),
        timeout=60,
        message="the worker to deliver the feed",
    )
    run = ArchiveFeedRun.objects.for_org(org).get()
    assert run.status == "succeeded", (run.error, worker_process.log()[-3000:])
    assert (run.trigger, run.requested_by_id, run.uploaded) == ("manual", officer.user_id, 2)
    keys = set(s3_server.objects(bucket))
    assert f"{run.folder}/post-{delivery.pk}.eml" in keys and f"{run.folder}/manifest.json" in keys
    assert AuditEntry.objects.for_org(org).get(action="archive_feed.delivered").actor_id == officer.user_id

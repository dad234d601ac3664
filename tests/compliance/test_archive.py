"""Archive export: the zip's contents checked against the database, the manifest's hashes,
the range in the organization's time zone, the real worker, the pages and the download."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import zipfile
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Role, Team
from advocacy import audit
from advocacy.errors import ValidationFailed
from compliance.models import ArchiveExport, AuditEntry
from compliance.services import archive
from content.models import Delivery, Share
from tests.accounts.factories import OrganizationFactory, SocialConnectionFactory, TeamFactory, UserFactory
from tests.compliance.factories import ArchiveExportFactory, DecisionFactory, ScreeningFactory
from tests.conftest import wait_for
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory, ShareVersionFactory
from tests.helpers import member, org_url

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DATA_FILES = [
    "shares.jsonl",
    "shares.csv",
    "versions.csv",
    "screenings.csv",
    "decisions.csv",
    "deliveries.csv",
    "audit.jsonl",
    "audit.csv",
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")


@pytest.fixture
def officer(org):
    return member(org, Role.COMPLIANCE)


def _today():
    return timezone.now().astimezone(PARIS).date()


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=PARIS)


def _share(org, created_at, *, versions=("First words", "Better words, with a comma\nand a new line")):
    item = ContentItemFactory(organization=org, title="Launch, the sequel", url="https://acme.example/launch")
    author = UserFactory(email=f"author{created_at.timestamp():.0f}@acme.test")
    share = ShareFactory(
        item=item, author=author, commentary=versions[-1], version=len(versions), team=_sales(org), status="published"
    )
    Share.objects.for_org(org).filter(pk=share.pk).update(created_at=created_at, submitted_at=created_at)
    version_rows = [
        ShareVersionFactory(share=share, number=n, commentary=text) for n, text in enumerate(versions, start=1)
    ]
    ScreeningFactory(
        share=share,
        version=version_rows[0],
        findings={"x": [{"rule": "guaranteed", "action": "review", "message": "Promise", "start": 0, "end": 5}]},
        texts={"x": "First words"},
        worst_action="review",
        outcome="in_review",
    )
    reviewer = UserFactory(email=f"officer{share.pk}@acme.test")
    DecisionFactory(share=share, version=1, outcome="changes_requested", reviewer=reviewer, comment="Drop the promise")
    DecisionFactory(share=share, version=2, outcome="approved", reviewer=reviewer, text_hashes={"1": "ab" * 32})
    connection = SocialConnectionFactory(organization=org, user=author, network="x", name="Emma on X")
    DeliveryFactory(
        share=share,
        network="x",
        mode=Delivery.Mode.API,
        connection=connection,
        text=f"{versions[-1]}\n\nhttps://go.acme.example/r/abc{share.pk} ✓ «quoted»",
        status="published",
        remote_id=f"18{share.pk:06d}",
        remote_url=f"https://x.example/emma/status/18{share.pk:06d}",
        published_at=created_at + datetime.timedelta(minutes=5),
        approved_text_hash="cd" * 32,
    )
    DeliveryFactory(share=share, network="linkedin", status="failed", last_error="Duplicate post")
    return share


def _sales(org):
    return Team.objects.for_org(org).filter(name="Sales").first() or TeamFactory(organization=org, name="Sales")


def _read(path_or_file):
    with zipfile.ZipFile(path_or_file) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.django_db
def test_export_contents_match_the_database(org, officer, media):
    today = _today()
    start = _midnight(today - datetime.timedelta(days=1))
    inside = [
        _share(org, start + datetime.timedelta(minutes=30)),
        _share(org, _midnight(today) + datetime.timedelta(hours=1)),
    ]
    _share(org, start - datetime.timedelta(minutes=30))  # 23:30 the day before, Paris time: outside
    other_org = OrganizationFactory()
    _share(other_org, start + datetime.timedelta(hours=2))  # another tenant: never exported
    with audit.acting_as(user=officer.user, ip="203.0.113.9"):
        audit.record("test.before_export", organization_id=org.pk, after={"n": 1})
    export = ArchiveExportFactory(
        organization=org, date_from=today - datetime.timedelta(days=1), date_to=today, requested_by=officer.user
    )

    archive.build_export(export_id=export.pk, organization_id=org.pk, chunk_size=1)

    export.refresh_from_db()
    assert (export.status, export.progress, export.total_shares) == ("ready", 100, 2)
    raw = export.file.read()
    export.file.close()
    assert hashlib.sha256(raw).hexdigest() == export.sha256
    files = _read(io.BytesIO(raw))
    assert sorted(files) == sorted([*DATA_FILES, "manifest.json"])

    manifest = json.loads(files["manifest.json"])
    for name in DATA_FILES:
        assert manifest["files"][name]["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert manifest["files"][name]["bytes"] == len(files[name])
    assert manifest["organization"]["slug"] == "acme" and manifest["retention_years"] == 7
    assert manifest["range_utc"][0] == start.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")

    lines = [json.loads(line) for line in files["shares.jsonl"].decode().splitlines()]
    assert [r["share_id"] for r in lines] == sorted(s.pk for s in inside)
    for record in lines:
        share = Share.objects.for_org(org).select_related("author", "item", "team").get(pk=record["share_id"])
        assert (record["author"]["email"], record["item"]["title"], record["team"], record["status"]) == (
            share.author.email,
            share.item.title,
            "Sales",
            share.status,
        )
        assert record["commentary"] == share.commentary
        assert [(v["version"], v["commentary"]) for v in record["versions"]] == list(
            share.versions.order_by("number").values_list("number", "commentary")
        )
        assert [(s["version"], s["findings"], s["outcome"]) for s in record["screenings"]] == [
            (s.version.number, s.findings, s.outcome) for s in share.screenings.order_by("created_at")
        ]
        assert [(d["version"], d["outcome"], d["reviewer"]["email"], d["comment"]) for d in record["decisions"]] == [
            (d.version, d.outcome, d.reviewer.email, d.comment) for d in share.decisions.order_by("decided_at", "pk")
        ]
        deliveries = {d.pk: d for d in share.deliveries.select_related("connection")}
        assert {d["delivery_id"] for d in record["deliveries"]} == set(deliveries)
        for exported in record["deliveries"]:
            row = deliveries[exported["delivery_id"]]
            assert (exported["text"], exported["status"], exported["remote_id"], exported["remote_url"]) == (
                row.text,
                row.status,
                row.remote_id,
                row.remote_url,
            )
            assert exported["approved_text_hash"] == row.approved_text_hash
            expected_published = (
                row.published_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                if row.published_at
                else None
            )
            assert exported["published_at"] == expected_published
            if row.connection_id:
                assert exported["account"]["name"] == row.connection.name

    delivery_rows = _csv(files["deliveries.csv"])
    all_deliveries = {d.pk: d for d in Delivery.objects.for_org(org).filter(share__in=inside)}
    assert {int(r["delivery_id"]) for r in delivery_rows} == set(all_deliveries)
    for r in delivery_rows:
        assert r["text"] == all_deliveries[int(r["delivery_id"])].text  # commas, new lines, ✓ survive
    assert len(_csv(files["versions.csv"])) == 4 and len(_csv(files["decisions.csv"])) == 4
    assert [r["share_id"] for r in _csv(files["shares.csv"])] == [str(s.pk) for s in sorted(inside, key=lambda s: s.pk)]

    audit_lines = [json.loads(line) for line in files["audit.jsonl"].decode().splitlines()]
    in_range = AuditEntry.objects.for_org(org).filter(at__gte=start).order_by("sequence")
    assert [(a["sequence"], a["hash"], a["action"]) for a in audit_lines] == [
        (e.sequence, e.hash, e.action) for e in in_range if e.at < export.finished_at and e.action != "archive.exported"
    ]
    assert "test.before_export" in {a["action"] for a in audit_lines}
    assert len(_csv(files["audit.csv"])) == len(audit_lines)

    exported = AuditEntry.objects.for_org(org).get(action="archive.exported")
    assert exported.after["sha256"] == export.sha256 and exported.after["counts"]["shares"] == 2
    assert exported.actor_id == officer.user_id


@pytest.mark.django_db
def test_request_refuses_bad_ranges_and_changes_nothing(org, officer):
    today = _today()
    with pytest.raises(ValidationFailed, match="after the last day"):
        archive.request_export(actor=officer, date_from=today, date_to=today - datetime.timedelta(days=1))
    with pytest.raises(ValidationFailed, match="future"):
        archive.request_export(
            actor=officer,
            date_from=today + datetime.timedelta(days=2),
            date_to=today + datetime.timedelta(days=3),
        )
    assert not ArchiveExport.objects.for_org(org).exists()
    assert not AuditEntry.objects.for_org(org).filter(action="archive.requested").exists()


@pytest.mark.django_db
def test_a_failed_build_says_so_on_the_export(org, media, monkeypatch):
    export = ArchiveExportFactory(organization=org)

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "write_archive", broken)
    with pytest.raises(OSError):
        archive.build_export(export_id=export.pk, organization_id=org.pk)
    export.refresh_from_db()
    assert export.status == "failed" and "could not be built" in export.error


@pytest.mark.django_db
def test_archive_page_requests_lists_and_polls_while_building(client, org, officer, django_assert_num_queries):
    client.force_login(officer.user)
    url = org_url("compliance:archive", org)
    today = _today().isoformat()
    response = client.post(url, {"date_from": today, "date_to": today}, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 302
    export = ArchiveExport.objects.for_org(org).get()
    assert (export.status, export.requested_by_id) == ("queued", officer.user_id)
    requested = AuditEntry.objects.for_org(org).get(action="archive.requested")
    assert requested.ip == "203.0.113.5"
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page and f'data-export="{export.pk}"' in page
    bad = client.post(url, {"date_from": today, "date_to": "2000-01-01"})
    assert bad.status_code == 400 and "after the last day" in bad.content.decode()
    rows = org_url("compliance:archive_rows", org)
    with django_assert_num_queries(4) as counted:
        client.get(rows)
    for _ in range(5):
        ArchiveExportFactory(organization=org, status="ready", requested_by=officer.user)
    with django_assert_num_queries(len(counted.captured_queries)):
        page = client.get(rows).content.decode()
    assert "Download" in page
    ArchiveExport.objects.for_org(org).update(status="ready")
    assert "hx-trigger" not in client.get(rows).content.decode()


@pytest.mark.django_db
def test_download_streams_the_file_checks_org_and_role_and_is_audited(client, org, officer, media):
    export = ArchiveExportFactory(organization=org, requested_by=officer.user)
    archive.build_export(export_id=export.pk, organization_id=org.pk)
    url = org_url("compliance:archive_download", org, archive_export_id=export.pk)
    client.force_login(officer.user)
    response = client.get(url, REMOTE_ADDR="203.0.113.6")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    export.refresh_from_db()
    assert hashlib.sha256(body).hexdigest() == export.sha256
    downloaded = AuditEntry.objects.for_org(org).get(action="archive.downloaded")
    assert (downloaded.actor_id, downloaded.ip) == (officer.user_id, "203.0.113.6")

    queued = ArchiveExportFactory(organization=org)
    assert client.get(org_url("compliance:archive_download", org, archive_export_id=queued.pk)).status_code == 404
    foreign = ArchiveExportFactory(organization=OrganizationFactory(), status="ready")
    assert client.get(org_url("compliance:archive_download", org, archive_export_id=foreign.pk)).status_code == 404
    client.force_login(member(org, Role.ADMIN, Role.EMPLOYEE).user)
    assert client.get(url).status_code == 403


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_builds_the_export_and_the_page_offers_it(client, worker_process):
    org = OrganizationFactory(slug="acme-archive", timezone="Europe/Paris")
    officer = member(org, Role.COMPLIANCE)
    today = _today()
    shares = [_share(org, _midnight(today) + datetime.timedelta(minutes=n)) for n in range(3)]
    client.force_login(officer.user)
    response = client.post(
        org_url("compliance:archive", org), {"date_from": today.isoformat(), "date_to": today.isoformat()}
    )
    assert response.status_code == 302
    export = ArchiveExport.objects.for_org(org).get()
    wait_for(
        lambda: ArchiveExport.objects.for_org(org).filter(pk=export.pk, status__in=["ready", "failed"]).exists(),
        timeout=60,
        message="the worker to build the export",
    )
    export.refresh_from_db()
    assert export.status == "ready", (export.error, worker_process.log()[-3000:])
    try:
        response = client.get(org_url("compliance:archive_download", org, archive_export_id=export.pk))
        body = b"".join(response.streaming_content)
        files = _read(io.BytesIO(body))
        lines = [json.loads(line) for line in files["shares.jsonl"].decode().splitlines()]
        assert [r["share_id"] for r in lines] == [s.pk for s in shares]
        manifest = json.loads(files["manifest.json"])
        assert all(manifest["files"][name]["sha256"] == hashlib.sha256(files[name]).hexdigest() for name in DATA_FILES)
        assert AuditEntry.objects.for_org(org).filter(action="archive.exported").count() == 1
        # Kept outside the media tree: no URL reaches it but the download above.
        assert Path(export.file.path).is_relative_to(settings.PRIVATE_ROOT)
        assert not (Path(settings.MEDIA_ROOT) / export.file.name).exists()
        assert client.get(f"/media/{export.file.name}").status_code == 404
    finally:
        export.file.delete(save=False)  # the worker wrote under the default MEDIA_ROOT


FORMULAS = ['=HYPERLINK("https://evil.test","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.django_db
def test_archive_csv_neutralises_formulas_and_jsonl_keeps_the_exact_text(org, officer, media):
    """Issue 15, point 5: spreadsheet formula injection."""
    today = _today()
    start = _midnight(today) + datetime.timedelta(minutes=5)
    shares = []
    for n, text in enumerate(FORMULAS):
        share = _share(org, start + datetime.timedelta(minutes=n), versions=(text,))
        share.item.title = text
        share.item.save(update_fields=["title"])
        shares.append(share)
    Team.objects.for_org(org).filter(name="Sales").update(name="=cmd|' /C calc'!A0")
    export = ArchiveExportFactory(organization=org, date_from=today, date_to=today, requested_by=officer.user)

    archive.build_export(export_id=export.pk, organization_id=org.pk)

    export.refresh_from_db()
    files = _read(io.BytesIO(export.file.read()))
    export.file.close()
    rows = _csv(files["shares.csv"])
    assert sorted(r["commentary"] for r in rows) == sorted("'" + t for t in FORMULAS)
    assert sorted(r["item_title"] for r in rows) == sorted("'" + t for t in FORMULAS)
    assert {r["team"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert all(r["share_id"].isdigit() and r["version"] == "1" for r in rows)  # numbers stay numbers
    assert sorted(r["commentary"] for r in _csv(files["versions.csv"])) == sorted("'" + t for t in FORMULAS)
    lines = [json.loads(line) for line in files["shares.jsonl"].decode().splitlines()]
    assert sorted(line["commentary"] for line in lines) == sorted(FORMULAS)
    manifest = json.loads(files["manifest.json"])
    assert "single quote" in manifest["csv_cells"] and "jsonl" in manifest["csv_cells"]

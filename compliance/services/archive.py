"""Archive export: everything a regulator asks for about the shares of a date range, in one zip.

For shares first submitted in the range (days in the organization's time zone): each share
with all its versions, screenings (findings), decisions (who, when, why) and deliveries
(the exact final text per network, status, remote ids and URLs, published_at), and the
audit entries of the range. Files inside the zip:

    shares.jsonl      one share per line, everything above nested
    shares.csv, versions.csv, screenings.csv, decisions.csv, deliveries.csv   the same, flat
    audit.jsonl, audit.csv   the audit entries (with their hashes: the chain can be checked offline)
    (CSV cells are neutralised for spreadsheets, see advocacy/csvsafe.py; the JSONL keeps the exact text)
    manifest.json     what the export covers, and the SHA-256, size and row count of every file

Memory stays flat whatever the size: rows are read through a server-side cursor in chunks
(`iterator(chunk_size=...)`, related rows prefetched per chunk), written to temporary files
while their hashes are computed, then copied into the zip in blocks.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User
from accounts.permissions import Permission, require
from advocacy import audit, csvsafe
from advocacy.errors import ValidationFailed
from compliance.models import ArchiveExport, AuditEntry, Decision, Screening
from compliance.services.audit import _iso
from compliance.services.retention import retention_years
from content.models import Delivery, Share, ShareVersion

FORMAT = "advocacy-archive/1"
CHUNK_SIZE = 1000
COPY_BLOCK = 1 << 20
MAX_RANGE_DAYS = 366 * 10
BUILD_TASK = "compliance.tasks.build_archive"

# The archive's files are a machine format for regulators' tools: stable English column names
# in every language (untranslated on purpose; the audit search export is the human report).
SHARE_COLUMNS = [
    "share_id",
    "item_id",
    "item_title",
    "item_url",
    "author_id",
    "author_email",
    "team",
    "status",
    "version",
    "commentary",
    "suggestion_id",
    "suggestion_text",
    "is_personalised",
    "scheduled_for",
    "review_comment",
    "created_at",
    "submitted_at",
    "updated_at",
]
VERSION_COLUMNS = ["share_id", "version", "commentary", "created_at"]
SCREENING_COLUMNS = [
    "share_id",
    "screening_id",
    "version",
    "outcome",
    "worst_action",
    "findings",
    "texts",
    "created_at",
]
DECISION_COLUMNS = ["share_id", "decision_id", "version", "outcome", "reviewer_id", "reviewer_email", "comment"]
DECISION_COLUMNS += ["text_hashes", "decided_at"]
DELIVERY_COLUMNS = [
    "share_id",
    "delivery_id",
    "network",
    "mode",
    "account_name",
    "account_remote_id",
    "text",
    "approved_text_hash",
    "status",
    "remote_id",
    "remote_url",
    "published_at",
    "removed_at",
    "attempts",
    "last_error",
    "created_at",
]
AUDIT_COLUMNS = [
    "sequence",
    "at",
    "actor_id",
    "actor_label",
    "ip",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "previous_hash",
    "hash",
]


# --- requesting ---------------------------------------------------------------------------


@transaction.atomic
def request_export(*, actor: Membership, date_from: datetime.date, date_to: datetime.date) -> ArchiveExport:
    """Queue an export of the shares first submitted between the two days (inclusive, in the
    organization's time zone); a worker builds it after commit. Raises ValidationFailed for
    a reversed, future or too long range."""
    require(actor, Permission.COMPLIANCE_ARCHIVE)
    organization, requested_by = actor.organization, actor.user
    if date_from is None or date_to is None:
        raise ValidationFailed(_("Choose the first and the last day."), fields={"date_from": [_("Required.")]})
    if date_from > date_to:
        raise ValidationFailed(
            _("The first day is after the last day."), fields={"date_to": [_("Must be on or after the first day.")]}
        )
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()
    if date_from > today:
        raise ValidationFailed(
            _("The range starts in the future: nothing to export yet."), fields={"date_from": [_("In the future.")]}
        )
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise ValidationFailed(_("Export at most ten years at a time."), fields={"date_to": [_("Range too long.")]})
    export = ArchiveExport.objects.create(
        organization=organization, requested_by=requested_by, date_from=date_from, date_to=date_to
    )
    audit.record(
        "archive.requested",
        organization_id=organization.pk,
        target=export,
        after={"date_from": date_from, "date_to": date_to},
    )
    export_id, organization_id = export.pk, organization.pk

    def enqueue() -> None:
        from celery import current_app

        current_app.send_task(BUILD_TASK, args=[export_id, organization_id])

    transaction.on_commit(enqueue)
    return export


def range_bounds(organization: Organization, date_from: datetime.date, date_to: datetime.date):
    """[start, end) in UTC: midnight of the first day to midnight after the last, local time."""
    zone = zoneinfo.ZoneInfo(organization.timezone)
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)


# --- building -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, datetime.datetime):
        return _iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return _json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return value  # a number stays a number: the CSV writer neutralises strings only
    return _plain(value)


class _HashedFile:
    """A temporary file written once, hashed as it is written."""

    def __init__(self, directory: str, name: str, columns: list[str] | None = None):
        self.name = name
        self.path = os.path.join(directory, name)
        self._fh = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self._sha = hashlib.sha256()
        self.size = 0
        self.rows = 0
        self._csv = None
        if columns is not None:
            self._csv = csvsafe.writer(self, lineterminator="\r\n")
            self._csv.writerow(columns)

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._sha.update(data)
        self.size += len(data)
        self._fh.write(data)

    def row(self, values: list[Any]) -> None:
        self._csv.writerow([_cell(v) for v in values])
        self.rows += 1

    def line(self, record: dict) -> None:
        self.write(_json(record) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._fh.close()

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


@dataclass
class _Files:
    directory: str
    files: dict[str, _HashedFile] = field(default_factory=dict)

    def open(self, name: str, columns: list[str] | None = None) -> _HashedFile:
        self.files[name] = _HashedFile(self.directory, name, columns)
        return self.files[name]

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def shares_in_range(organization: Organization, start: datetime.datetime, end: datetime.datetime):
    """The shares first submitted in [start, end) (the export's scope)."""
    return Share.objects.for_org(organization).filter(created_at__gte=start, created_at__lt=end)


SHARE_VALUES = {
    "id": "id",
    "item_id": "item_id",
    "item__title": "item_title",
    "item__url": "item_url",
    "author_id": "author_id",
    "author__email": "author_email",
    "author__name": "author_name",
    "team__name": "team_name",
    "status": "status",
    "version": "version",
    "commentary": "commentary",
    "suggestion_id": "suggestion_id",
    "suggestion__text": "suggestion_text",
    "is_personalised": "is_personalised",
    "scheduled_for": "scheduled_for",
    "review_comment": "review_comment",
    "created_at": "created_at",
    "submitted_at": "submitted_at",
    "updated_at": "updated_at",
}


def _grouped(rows, key: str = "share_id") -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row[key], []).append(row)
    return grouped


def share_chunks(organization: Organization, start: datetime.datetime, end: datetime.datetime, chunk_size: int):
    """Share records in id order, `chunk_size` at a time, with everything the archive keeps,
    for the shares first submitted in [start, end)."""
    id_stream = shares_in_range(organization, start, end).order_by("pk").values_list("pk", flat=True)
    return share_records(organization, id_stream, chunk_size)


def share_records(organization: Organization, id_stream, chunk_size: int = CHUNK_SIZE):
    """The records (`share_record`) of the shares whose ids `id_stream` yields, in its order,
    `chunk_size` at a time; the zip export and the archive feed both read through this.

    The ids come from one streamed query (a server-side cursor: the range is scanned once);
    each chunk of ids then costs five queries with plain values (no model instances), so
    memory is bounded by one chunk.
    """
    org = organization
    for ids in _batches(id_stream.iterator(chunk_size=chunk_size), chunk_size):
        shares = list(Share.objects.for_org(org).filter(pk__in=ids).order_by("pk").values(*SHARE_VALUES))
        versions = _grouped(
            ShareVersion.objects.for_org(org)
            .filter(share_id__in=ids)
            .order_by("share_id", "number")
            .values("share_id", "id", "number", "commentary", "created_at")
        )
        version_numbers = {v["id"]: v["number"] for rows in versions.values() for v in rows}
        screenings = _grouped(
            Screening.objects.for_org(org)
            .filter(share_id__in=ids)
            .order_by("share_id", "created_at", "pk")
            .values("share_id", "id", "version_id", "outcome", "worst_action", "findings", "texts", "created_at")
        )
        decisions = _grouped(
            Decision.objects.for_org(org)
            .filter(share_id__in=ids)
            .order_by("share_id", "decided_at", "pk")
            .values(
                "share_id",
                "id",
                "version",
                "outcome",
                "reviewer_id",
                "reviewer__email",
                "reviewer__name",
                "comment",
                "text_hashes",
                "decided_at",
            )
        )
        deliveries = _grouped(
            Delivery.objects.for_org(org)
            .filter(share_id__in=ids)
            .order_by("share_id", "network", "pk")
            .values(
                "share_id",
                "id",
                "network",
                "mode",
                "connection_id",
                "connection__name",
                "connection__remote_id",
                "connection__username",
                "text",
                "approved_text_hash",
                "status",
                "remote_id",
                "remote_url",
                "published_at",
                "removed_at",
                "attempts",
                "last_error",
                "created_at",
            )
        )
        for rows in screenings.values():
            for row in rows:
                row["version_number"] = version_numbers.get(row["version_id"])
        for share in shares:
            sid = share["id"]
            yield share_record(
                share, versions.get(sid, ()), screenings.get(sid, ()), decisions.get(sid, ()), deliveries.get(sid, ())
            )


def _batches(iterable, size: int):
    batch = []
    for value in iterable:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def share_record(share: dict, versions, screenings, decisions, deliveries) -> dict[str, Any]:
    """One line of shares.jsonl."""
    s = {alias: share[field] for field, alias in SHARE_VALUES.items()}
    return {
        "share_id": s["id"],
        "item": {"id": s["item_id"], "title": s["item_title"], "url": s["item_url"]},
        "author": {"id": s["author_id"], "email": s["author_email"], "name": s["author_name"]},
        "team": s["team_name"],
        "status": s["status"],
        "version": s["version"],
        "commentary": s["commentary"],
        "suggestion": {"id": s["suggestion_id"], "text": s["suggestion_text"]} if s["suggestion_id"] else None,
        "is_personalised": s["is_personalised"],
        "scheduled_for": _plain(s["scheduled_for"]),
        "review_comment": s["review_comment"],
        "created_at": _plain(s["created_at"]),
        "submitted_at": _plain(s["submitted_at"]),
        "updated_at": _plain(s["updated_at"]),
        "versions": [
            {"version": v["number"], "commentary": v["commentary"], "created_at": _plain(v["created_at"])}
            for v in versions
        ],
        "screenings": [
            {
                "screening_id": x["id"],
                "version": x["version_number"],
                "outcome": x["outcome"],
                "worst_action": x["worst_action"],
                "findings": x["findings"],
                "texts": x["texts"],
                "created_at": _plain(x["created_at"]),
            }
            for x in screenings
        ],
        "decisions": [
            {
                "decision_id": d["id"],
                "version": d["version"],
                "outcome": d["outcome"],
                "reviewer": (
                    {"id": d["reviewer_id"], "email": d["reviewer__email"], "name": d["reviewer__name"]}
                    if d["reviewer_id"]
                    else None
                ),
                "comment": d["comment"],
                "text_hashes": d["text_hashes"],
                "decided_at": _plain(d["decided_at"]),
            }
            for d in decisions
        ],
        "deliveries": [
            {
                "delivery_id": d["id"],
                "network": d["network"],
                "mode": d["mode"],
                "account": (
                    {
                        "name": d["connection__name"],
                        "remote_id": d["connection__remote_id"],
                        "username": d["connection__username"],
                    }
                    if d["connection_id"]
                    else None
                ),
                "text": d["text"],
                "approved_text_hash": d["approved_text_hash"],
                "status": d["status"],
                "remote_id": d["remote_id"],
                "remote_url": d["remote_url"],
                "published_at": _plain(d["published_at"]),
                "removed_at": _plain(d["removed_at"]),
                "attempts": d["attempts"],
                "last_error": d["last_error"],
                "created_at": _plain(d["created_at"]),
            }
            for d in deliveries
        ],
    }


def _write_share(out: dict[str, _HashedFile], record: dict[str, Any]) -> None:
    out["shares.jsonl"].line(record)
    sid = record["share_id"]
    suggestion = record["suggestion"] or {}
    out["shares.csv"].row(
        [
            sid,
            record["item"]["id"],
            record["item"]["title"],
            record["item"]["url"],
            record["author"]["id"],
            record["author"]["email"],
            record["team"],
            record["status"],
            record["version"],
            record["commentary"],
            suggestion.get("id"),
            suggestion.get("text"),
            record["is_personalised"],
            record["scheduled_for"],
            record["review_comment"],
            record["created_at"],
            record["submitted_at"],
            record["updated_at"],
        ]
    )
    for v in record["versions"]:
        out["versions.csv"].row([sid, v["version"], v["commentary"], v["created_at"]])
    for s in record["screenings"]:
        out["screenings.csv"].row(
            [
                sid,
                s["screening_id"],
                s["version"],
                s["outcome"],
                s["worst_action"],
                s["findings"],
                s["texts"],
                s["created_at"],
            ]
        )
    for d in record["decisions"]:
        reviewer = d["reviewer"] or {}
        out["decisions.csv"].row(
            [
                sid,
                d["decision_id"],
                d["version"],
                d["outcome"],
                reviewer.get("id"),
                reviewer.get("email"),
                d["comment"],
                d["text_hashes"],
                d["decided_at"],
            ]
        )
    for d in record["deliveries"]:
        account = d["account"] or {}
        out["deliveries.csv"].row(
            [
                sid,
                d["delivery_id"],
                d["network"],
                d["mode"],
                account.get("name"),
                account.get("remote_id"),
                d["text"],
                d["approved_text_hash"],
                d["status"],
                d["remote_id"],
                d["remote_url"],
                d["published_at"],
                d["removed_at"],
                d["attempts"],
                d["last_error"],
                d["created_at"],
            ]
        )


# The audit entry fields read from the database are the columns written.
AUDIT_VALUES = AUDIT_COLUMNS


def audit_record(entry: dict) -> dict[str, Any]:
    """One line of audit.jsonl from `AuditEntry.objects.values(*AUDIT_VALUES)`."""
    return {**entry, "at": _iso(entry["at"])}


class _Progress:
    """Saves the percentage on the export row when it moves (its own statement, autocommit)."""

    def __init__(self, export: ArchiveExport):
        self.export = export
        self.last = -1

    def set(self, percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        if percent != self.last:
            ArchiveExport.objects.for_org(self.export.organization_id).filter(pk=self.export.pk).update(
                progress=percent
            )
            self.export.progress = self.last = percent


def audit_head(organization_id: int) -> dict | None:
    """The organization's newest audit entry as sequence, hash and key id (or None)."""
    row = AuditEntry.objects.for_org(organization_id).order_by("-sequence").values("sequence", "hash", "key_id").first()
    return dict(row) if row else None


def write_archive(
    *,
    organization: Organization,
    date_from: datetime.date,
    date_to: datetime.date,
    target: str,
    progress=None,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, Any]:
    """Write the zip for the range to the path `target`; returns the manifest."""
    progress = progress or (lambda percent: None)
    start, end = range_bounds(organization, date_from, date_to)
    total = shares_in_range(organization, start, end).count()
    with tempfile.TemporaryDirectory(prefix="archive-") as tmp:
        files = _Files(tmp)
        out = {
            "shares.jsonl": files.open("shares.jsonl"),
            "shares.csv": files.open("shares.csv", SHARE_COLUMNS),
            "versions.csv": files.open("versions.csv", VERSION_COLUMNS),
            "screenings.csv": files.open("screenings.csv", SCREENING_COLUMNS),
            "decisions.csv": files.open("decisions.csv", DECISION_COLUMNS),
            "deliveries.csv": files.open("deliveries.csv", DELIVERY_COLUMNS),
        }
        try:
            for done, record in enumerate(share_chunks(organization, start, end, chunk_size), start=1):
                _write_share(out, record)
                if done % chunk_size == 0:
                    progress(done * 85 // max(total, 1))
            progress(85)
            audit_jsonl = files.open("audit.jsonl")
            audit_csv = files.open("audit.csv", AUDIT_COLUMNS)
            entries = (
                AuditEntry.objects.for_org(organization)
                .filter(at__gte=start, at__lt=end)
                .order_by("sequence")
                .values(*AUDIT_VALUES)
            )
            for entry in entries.iterator(chunk_size=chunk_size * 5):
                record = audit_record(entry)
                audit_jsonl.line(record)
                audit_csv.row([record[c] for c in AUDIT_COLUMNS])
        finally:
            files.close()
        progress(92)
        manifest = {
            "format": FORMAT,
            "organization": {
                "id": organization.pk,
                "name": organization.name,
                "slug": organization.slug,
                "timezone": organization.timezone,
            },
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "range_utc": [_iso(start), _iso(end)],
            "scope": "shares first submitted in the range; audit entries recorded in the range",
            "generated_at": _iso(timezone.now()),
            "csv_cells": (
                "CSV string cells starting with =, +, -, @, tab or carriage return are prefixed with a "
                "single quote so spreadsheets do not run them as formulas; the .jsonl files hold the exact text"
            ),
            "retention_years": retention_years(organization),
            # The chain's head when exported: an anchor kept outside the database.
            "audit_head": audit_head(organization.pk),
            "counts": {
                "shares": out["shares.csv"].rows,
                "versions": out["versions.csv"].rows,
                "screenings": out["screenings.csv"].rows,
                "decisions": out["decisions.csv"].rows,
                "deliveries": out["deliveries.csv"].rows,
                "audit_entries": audit_csv.rows,
            },
            "files": {f.name: {"sha256": f.sha256, "bytes": f.size, "rows": f.rows} for f in files.files.values()},
        }
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for f in files.files.values():
                with open(f.path, "rb") as src, archive.open(f.name, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, COPY_BLOCK)
            archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True))
    return manifest


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(COPY_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def build_export(*, export_id: int, organization_id: int, chunk_size: int = CHUNK_SIZE) -> ArchiveExport | None:
    """Build a queued export (the task calls this). Idempotent: a ready export is left alone;
    a redelivered task rebuilds one that a killed worker left running. On failure the
    export is marked failed with the reason and the error is raised again for the logs."""
    with transaction.atomic():
        export = ArchiveExport.objects.for_org(organization_id).select_for_update().filter(pk=export_id).first()
        if export is None or export.status == ArchiveExport.Status.READY:
            return export
        export.status, export.progress, export.error = ArchiveExport.Status.RUNNING, 0, ""
        export.save(update_fields=["status", "progress", "error"])
    organization = Organization.objects.get(pk=organization_id)
    tracker = _Progress(export)
    fd, path = tempfile.mkstemp(prefix="archive-", suffix=".zip")
    os.close(fd)
    try:
        manifest = write_archive(
            organization=organization,
            date_from=export.date_from,
            date_to=export.date_to,
            target=path,
            progress=tracker.set,
            chunk_size=chunk_size,
        )
        digest = _file_sha256(path)
        name = f"archive-{organization.slug}-{export.date_from}-{export.date_to}-{export.pk}.zip"
        with transaction.atomic():
            export = ArchiveExport.objects.for_org(organization_id).select_for_update().get(pk=export_id)
            with open(path, "rb") as fh:
                export.file.save(name, File(fh, name=name), save=False)
            export.status = ArchiveExport.Status.READY
            export.progress = 100
            export.sha256 = digest
            export.total_shares = manifest["counts"]["shares"]
            export.finished_at = timezone.now()
            export.save(update_fields=["file", "status", "progress", "sha256", "total_shares", "finished_at"])
            requester = User.objects.filter(pk=export.requested_by_id).values_list("pk", "email").first()
            audit.record(
                "archive.exported",
                organization_id=organization_id,
                target=export,
                after={
                    "date_from": export.date_from,
                    "date_to": export.date_to,
                    "file": export.file.name,
                    "sha256": digest,
                    "counts": manifest["counts"],
                },
                actor=audit.Actor(user_id=requester[0], label=requester[1]) if requester else audit.SYSTEM,
            )
    except Exception as exc:
        ArchiveExport.objects.for_org(organization_id).filter(pk=export_id).update(
            status=ArchiveExport.Status.FAILED,
            finished_at=timezone.now(),
            error=f"The export could not be built ({type(exc).__name__}). Request it again; "
            "if it fails again, tell your administrator.",
        )
        raise
    finally:
        os.unlink(path)
    return export


def record_download(*, actor: Membership, export: ArchiveExport) -> None:
    """Downloads of an archive are part of the trail (who took a copy, from where)."""
    require(actor, Permission.COMPLIANCE_ARCHIVE)
    if export.organization_id != actor.organization_id:
        raise ArchiveExport.DoesNotExist
    audit.record(
        "archive.downloaded",
        organization_id=export.organization_id,
        target=export,
        after={"file": export.file.name, "sha256": export.sha256},
    )

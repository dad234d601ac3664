"""Bulk invitations from a CSV file: checked on upload, processed by a worker."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    InvitationImport,
    Membership,
    Organization,
    Role,
    Team,
)
from accounts.permissions import Permission, require
from accounts.services.invitations import _clean_email, send_invitation
from advocacy.errors import Conflict, ValidationFailed

# Enqueued by name: services do not import their tasks module (the layers contract).
INVITATION_IMPORT_TASK = "accounts.tasks.run_invitation_import"

CSV_COLUMNS = ("email", "name", "roles", "teams")


@dataclass
class CsvRow:
    line: int
    email: str
    roles: list[str]
    teams: list[str]


def _split_cell(value: str) -> list[str]:
    """A multi-valued cell: values separated by ';' or '|'."""
    return [part.strip() for part in value.replace("|", ";").split(";") if part.strip()]


def _parse_invitation_csv(csv_text: str) -> list[CsvRow]:
    """Check the file's shape up front; rows are judged one by one later."""
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise ValidationFailed(
            _("The file needs a header row with an 'email' column (optional: roles, teams)."),
            fields={"file": [_("No email column.")]},
        )
    reader.fieldnames = header
    rows = []
    for record in reader:
        cells = {key: (value.strip() if isinstance(value, str) else "") for key, value in record.items() if key}
        rows.append(
            CsvRow(
                line=reader.line_num,
                email=cells.get("email", ""),
                roles=_split_cell(cells.get("roles", "")) or [Role.EMPLOYEE],
                teams=_split_cell(cells.get("teams", "")),
            )
        )
    if not rows:
        raise ValidationFailed(_("The file has a header but no rows."), fields={"file": [_("Empty.")]})
    if len(rows) > settings.BULK_INVITE_MAX_ROWS:
        raise ValidationFailed(
            _("The file has %(count)s rows; split it into files of at most %(max)s.")
            % {"count": len(rows), "max": settings.BULK_INVITE_MAX_ROWS},
            fields={"file": [_("Too many rows.")]},
        )
    return rows


@transaction.atomic
def start_invitation_import(*, actor: Membership, filename: str, data: bytes) -> InvitationImport:
    """Check the CSV's shape now, then process its rows in a worker (after commit)."""
    require(actor, Permission.MEMBERS_MANAGE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("The file is not UTF-8 text. Save it from your spreadsheet as 'CSV UTF-8'."),
            fields={"file": [_("Not UTF-8.")]},
        ) from None
    rows = _parse_invitation_csv(text)
    job = InvitationImport.objects.create(
        organization_id=actor.organization_id,
        created_by_id=actor.user_id,
        filename=filename[:255],
        csv_text=text,
        total_rows=len(rows),
    )
    transaction.on_commit(lambda: current_app.send_task(INVITATION_IMPORT_TASK, args=[job.pk]))
    return job


IMPORT_BATCH = 25


def run_invitation_import(*, import_id: int) -> InvitationImport:
    """System operation (the import task): invite every good row; report every bad one,
    with its line and the reason. The uploader's right to invite was checked on upload.

    A bad row never stops the others and never leaves half an invitation (each row runs
    in its own savepoint). Rows are committed in batches together with the progress that
    counts them, so a worker killed mid-way and the redelivered task resume right after
    the last committed batch: no row is invited twice, none is skipped, and a finished
    import is left alone. An unexpected error marks the upload failed, in words, and is
    raised again for the logs.
    """
    with transaction.atomic():
        job = InvitationImport.objects.all_organizations().select_for_update().get(pk=import_id)
        if job.is_finished:
            return job
        if job.status == InvitationImport.Status.QUEUED:
            job.status = InvitationImport.Status.RUNNING
            job.save(update_fields=["status"])
    organization = Organization.objects.get(pk=job.organization_id)
    rows = _parse_invitation_csv(job.csv_text)
    teams_by_name = {t.name.lower(): t for t in Team.objects.for_org(organization)}
    scoped = InvitationImport.objects.for_org(organization)
    try:
        for start in range(job.processed_rows, len(rows), IMPORT_BATCH):
            with transaction.atomic():
                job = scoped.select_for_update().get(pk=import_id)
                if job.is_finished or job.processed_rows > start:
                    continue  # another delivery of this task got here first
                _import_batch(job, organization, rows, start, teams_by_name)
    except Exception:
        scoped.filter(pk=import_id).update(
            status=InvitationImport.Status.FAILED,
            finished_at=timezone.now(),
            error=_(
                "The upload stopped because of an internal error. The rows counted above were "
                "processed; upload the remaining rows again, or tell your administrator."
            ),
        )
        raise
    scoped.filter(pk=import_id, status=InvitationImport.Status.RUNNING).update(
        status=InvitationImport.Status.DONE, finished_at=timezone.now()
    )
    return scoped.get(pk=import_id)


def _import_batch(
    job: InvitationImport, organization: Organization, rows: list[CsvRow], start: int, teams_by_name: dict[str, Team]
) -> None:
    rejected = list(job.rejected_rows)
    rejected_lines = {r["line"] for r in rejected}
    # Addresses invited by earlier rows of this file (earlier batches included).
    seen = {row.email.strip().lower() for row in rows[:start] if row.line not in rejected_lines}
    invited = job.invited_count
    batch = rows[start : start + IMPORT_BATCH]
    for row in batch:
        try:
            email = _clean_email(row.email)
            if email in seen:
                raise ValidationFailed(_("The address appears earlier in the file."))
            unknown = [t for t in row.teams if t.lower() not in teams_by_name]
            if unknown:
                raise ValidationFailed(
                    _("Unknown team: %(unknown)s. Create it first.") % {"unknown": ", ".join(unknown)}
                )
            send_invitation(
                organization=organization,
                invited_by=job.created_by,
                email=email,
                roles=row.roles,
                teams=[teams_by_name[t.lower()] for t in row.teams],
            )
            seen.add(email)
            invited += 1
        except (ValidationFailed, Conflict) as exc:
            rejected.append({"line": row.line, "email": row.email, "reason": exc.message})
    job.processed_rows = start + len(batch)
    job.invited_count = invited
    job.rejected_rows = rejected
    job.save(update_fields=["processed_rows", "invited_count", "rejected_rows"])

"""The archive feed: what archiving vendors (Smarsh, Global Relay) ingest, delivered daily.

One RFC 5322 message (EML) per published post (each delivery to one account) and per review
decision, built with Python's `email` package, written to the organization's destinations
(an SFTP drop or an S3-compatible bucket, `integrations.archivefeed`).

Each run delivers the records of [the destination's watermark, now - FEED_SETTLE) under a
folder named after the day (organization's time zone):

    <remote folder or prefix>/2026-12-06/post-<delivery id>.eml
                                         decision-<decision id>.eml
                                         manifest.json   (written LAST: every file of the
                                                          folder with its SHA-256, record id, kind)

Re-run safe: names and Message-IDs are stable per record and the bytes are the same for the
same record, so a repeated upload replaces a file with itself; a file an earlier successful
run of the same day delivered is skipped and kept in the day's manifest; the watermark only
moves after a run that succeeded, so a failed run is retried from where the last good one
ended. Each run is an `ArchiveFeedRun` (when, how many, status, the error in words), audited.

The records are read through `archive.share_records`, the zip export's reader.
"""

from __future__ import annotations

import dataclasses
import datetime
import email.policy
import email.utils
import hashlib
import json
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, User, network_label
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed
from compliance.models import ArchiveDestination, ArchiveFeedRun, Decision
from compliance.services import archive
from content.models import Delivery, Share
from integrations.archivefeed import errors as feed_errors
from integrations.archivefeed.s3 import S3Settings, S3Target, validate_endpoint
from integrations.archivefeed.sftp import SftpSettings, SftpTarget, load_private_key, normalise_fingerprint

FORMAT = "advocacy-archive-feed/1"
RUN_TASK = "compliance.tasks.deliver_archive_feed"
MANIFEST_NAME = "manifest.json"
# A run older than this that still says "running" was left by a killed worker: not a lease.
RUN_LEASE = datetime.timedelta(hours=2)
SECRET_FIELDS = ("password", "private_key", "secret_access_key")
SFTP_FIELDS = ("host", "port", "username", "host_key_fingerprint", "remote_directory")
S3_FIELDS = ("endpoint_url", "region", "bucket", "prefix", "access_key_id")
PLAIN_FIELDS = ("name", "kind", "enabled", *SFTP_FIELDS, *S3_FIELDS)
# Written with header lines up to RFC 5322's limit of 998: folding a long hash at 78 makes
# Python (and other parsers) read it back with a leading space. The body is encoded before,
# under the message's own SMTP policy (quoted-printable lines of 76).
UNFOLDED = email.policy.SMTP.clone(max_line_length=998)
# The archived messages are records for a regulator's archive: always in English.
OUTCOME_WORDS = {
    Decision.Outcome.APPROVED: "Approved",
    Decision.Outcome.REJECTED: "Rejected",
    Decision.Outcome.CHANGES_REQUESTED: "Sent back for changes",
}


# --- the messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFile:
    """One message of the feed: its stable file name and bytes, and what it records."""

    name: str
    data: bytes
    kind: str  # "post" or "decision"
    record_id: int
    message_id: str

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "bytes": len(self.data),
            "kind": self.kind,
            "record_id": self.record_id,
            "message_id": self.message_id,
        }


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _one_line(value: Any, limit: int = 900) -> str:
    """A header value: one line (line breaks and control characters become spaces), cut."""
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", "" if value is None else str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _address(name: str | None, addr: str | None) -> Address:
    """A mailbox; an address the SMTP policy cannot carry keeps its words in the name."""
    name = _one_line(name or "", 200)
    try:
        return Address(display_name=name, addr_spec=addr or f"unknown@{_mail_domain()}")
    except (ValueError, IndexError):
        return Address(display_name=_one_line(f"{name} {addr}", 200), addr_spec=f"unknown@{_mail_domain()}")


def _moment(iso: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(iso) if iso else None


def _person(person: dict | None) -> str:
    if not person:
        return ""
    return f"{person['name']} <{person['email']}>" if person.get("name") else person["email"]


def _message(headers: list[tuple[str, Any]], body: str) -> bytes:
    """RFC 5322 bytes (CRLF, 7-bit safe: non-ASCII headers RFC 2047-encoded, the UTF-8 body
    quoted-printable), the same bytes for the same input."""
    message = EmailMessage(policy=email.policy.SMTP)
    for name, value in headers:
        if value is None or value == "":
            continue
        message[name] = value if isinstance(value, Address) else _one_line(value)
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=UNFOLDED)


def _approval(record: dict) -> dict | None:
    """The decision that approved the share's current version (the last approval)."""
    approvals = [d for d in record["decisions"] if d["outcome"] == Decision.Outcome.APPROVED]
    return approvals[-1] if approvals else None


def _common_headers(organization: Organization, record: dict) -> list[tuple[str, Any]]:
    return [
        ("X-Advocacy-Organization", organization.slug),
        ("X-Advocacy-Share-Id", record["share_id"]),
        ("X-Advocacy-Author", _person(record["author"])),
        ("X-Advocacy-Team", record["team"]),
        ("X-Advocacy-Content-Title", record["item"]["title"]),
        ("X-Advocacy-Content-URL", record["item"]["url"]),
    ]


def post_file(organization: Organization, record: dict, delivery: dict) -> FeedFile:
    """The message of one published post (a delivery to one account)."""
    domain = _mail_domain()
    network = network_label(delivery["network"])
    account = delivery["account"] or {}
    handle = account.get("username") or ""
    account_words = account.get("name") or handle or "an account"
    approval = _approval(record)
    approver = _person(approval["reviewer"]) if approval and approval["reviewer"] else ""
    if approval and not approval["reviewer"]:
        approver = "the policy (approved without review)"
    published = _moment(delivery["published_at"])
    message_id = f"<post-{delivery['delivery_id']}.org-{organization.pk}@{domain}>"
    text = delivery["text"] or ""
    headers = [
        ("Message-ID", message_id),
        ("Date", email.utils.format_datetime(published)),
        ("From", _address(record["author"]["name"], record["author"]["email"])),
        ("To", _address(f"{organization.name} archive", f"archive@{domain}")),
        ("Subject", f"{network} post by {_person(record['author'])} on {account_words}: {text[:80]}"),
        ("X-Advocacy-Kind", "post"),
        *_common_headers(organization, record),
        ("X-Advocacy-Delivery-Id", delivery["delivery_id"]),
        ("X-Advocacy-Version", record["version"]),
        ("X-Advocacy-Network", delivery["network"]),
        ("X-Advocacy-Mode", delivery["mode"]),
        ("X-Advocacy-Account-Name", account.get("name")),
        ("X-Advocacy-Account-Handle", handle),
        ("X-Advocacy-Account-Id", account.get("remote_id")),
        ("X-Advocacy-Published-At", delivery["published_at"]),
        ("X-Advocacy-Status", delivery["status"]),
        ("X-Advocacy-Removed-At", delivery["removed_at"]),
        ("X-Advocacy-Remote-Id", delivery["remote_id"]),
        ("X-Advocacy-Remote-URL", delivery["remote_url"]),
        ("X-Advocacy-Approver", approver),
        ("X-Advocacy-Approved-At", approval["decided_at"] if approval else ""),
        ("X-Advocacy-Decision-Id", approval["decision_id"] if approval else ""),
        # What the reviewer approved (Decision.text_hashes), what the publisher checked
        # before sending (Delivery.approved_text_hash) and what the body holds.
        (
            "X-Advocacy-Approved-Text-SHA256",
            (approval["text_hashes"] or {}).get(str(delivery["delivery_id"]), "") if approval else "",
        ),
        ("X-Advocacy-Delivery-Approved-Text-SHA256", delivery["approved_text_hash"]),
        ("X-Advocacy-Text-SHA256", hashlib.sha256(text.encode("utf-8")).hexdigest()),
    ]
    return FeedFile(
        name=f"post-{delivery['delivery_id']}.eml",
        data=_message(headers, text),
        kind="post",
        record_id=delivery["delivery_id"],
        message_id=message_id,
    )


def decision_file(organization: Organization, record: dict, decision: dict) -> FeedFile:
    """The message of one review decision (a reviewer's, or the policy's auto-approval)."""
    domain = _mail_domain()
    reviewer = decision["reviewer"]
    outcome = OUTCOME_WORDS.get(decision["outcome"], decision["outcome"])
    by = _person(reviewer) if reviewer else "the policy (no human review)"
    text = next((v["commentary"] for v in record["versions"] if v["version"] == decision["version"]), "")
    networks = {str(d["delivery_id"]): d["network"] for d in record["deliveries"]}
    message_id = f"<decision-{decision['decision_id']}.org-{organization.pk}@{domain}>"
    headers = [
        ("Message-ID", message_id),
        ("Date", email.utils.format_datetime(_moment(decision["decided_at"]))),
        (
            "From",
            _address(reviewer["name"], reviewer["email"])
            if reviewer
            else _address("Review policy", f"policy@{domain}"),
        ),
        ("To", _address(record["author"]["name"], record["author"]["email"])),
        (
            "Subject",
            f"{outcome}: share {record['share_id']} version {decision['version']} by {_person(record['author'])}",
        ),
        ("X-Advocacy-Kind", "decision"),
        *_common_headers(organization, record),
        ("X-Advocacy-Decision-Id", decision["decision_id"]),
        ("X-Advocacy-Version", decision["version"]),
        ("X-Advocacy-Outcome", decision["outcome"]),
        ("X-Advocacy-Approver" if decision["outcome"] == Decision.Outcome.APPROVED else "X-Advocacy-Reviewer", by),
        ("X-Advocacy-Decided-At", decision["decided_at"]),
        ("X-Advocacy-Comment", decision["comment"]),
        ("X-Advocacy-Text-SHA256", hashlib.sha256(text.encode("utf-8")).hexdigest()),
    ]
    for delivery_id, digest in sorted((decision["text_hashes"] or {}).items()):
        network = networks.get(delivery_id, "")
        headers.append(("X-Advocacy-Approved-Text-SHA256", f"delivery={delivery_id} network={network} {digest}"))
    body = f"{outcome} by {by}.\n"
    if decision["comment"]:
        body += f"\nComment: {decision['comment']}\n"
    body += f"\nText reviewed (version {decision['version']}):\n\n{text}\n"
    return FeedFile(
        name=f"decision-{decision['decision_id']}.eml",
        data=_message(headers, body),
        kind="decision",
        record_id=decision["decision_id"],
        message_id=message_id,
    )


def feed_files(
    organization: Organization,
    start: datetime.datetime | None,
    end: datetime.datetime,
    chunk_size: int = archive.CHUNK_SIZE,
) -> Iterator[FeedFile]:
    """The messages of the posts published and the decisions made in [start, end) (start
    None: from the first), in share order; memory bounded by one chunk of shares."""

    def within(field: str) -> Q:
        return Q(**{f"{field}__lt": end}) & (Q(**{f"{field}__gte": start}) if start else Q())

    published = Delivery.objects.for_org(organization).filter(
        within("published_at"), share_id=OuterRef("pk"), published_at__isnull=False
    )
    decided = Decision.objects.for_org(organization).filter(within("decided_at"), share_id=OuterRef("pk"))
    ids = (
        Share.objects.for_org(organization)
        .filter(Q(Exists(published)) | Q(Exists(decided)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def inside(iso: str | None) -> bool:
        moment = _moment(iso)
        return moment is not None and moment < end and (start is None or moment >= start)

    for record in archive.share_records(organization, ids, chunk_size):
        for delivery in record["deliveries"]:
            if inside(delivery["published_at"]):
                yield post_file(organization, record, delivery)
        for decision in record["decisions"]:
            if inside(decision["decided_at"]):
                yield decision_file(organization, record, decision)


# --- destinations -----------------------------------------------------------------------------


def _clean_settings(fields: dict[str, Any], current: ArchiveDestination | None) -> dict[str, Any]:
    """Checked, normalised settings; secrets left empty keep the stored ones. Raises
    ValidationFailed naming the fields."""
    problems: dict[str, list[str]] = {}
    clean = {k: (fields[k].strip() if isinstance(fields.get(k), str) else fields.get(k)) for k in PLAIN_FIELDS}
    if not clean["name"]:
        problems["name"] = [_("Give the destination a name.")]
    clean["enabled"] = bool(clean["enabled"])
    secrets = {k: fields.get(k) or "" for k in SECRET_FIELDS}
    for name in SECRET_FIELDS:
        if not secrets[name] and current is not None and current.kind == clean["kind"]:
            secrets[name] = getattr(current, name)
    if clean["kind"] == ArchiveDestination.Kind.SFTP:
        _clean_sftp(fields, clean, secrets, problems)
    elif clean["kind"] == ArchiveDestination.Kind.S3:
        _clean_s3(clean, secrets, problems)
    else:
        problems["kind"] = [_("Choose an SFTP server or an S3-compatible bucket.")]
    if problems:
        words = " ".join(p[0] for p in problems.values())
        raise ValidationFailed(_("The destination was not saved: %(problems)s") % {"problems": words}, fields=problems)
    return {**clean, **secrets}


def _clean_sftp(fields: dict, clean: dict, secrets: dict, problems: dict) -> None:
    for name, words in (("host", _("Enter the server's name.")), ("username", _("Enter the user name."))):
        if not clean[name]:
            problems[name] = [words]
    try:
        clean["port"] = int(clean["port"] or 22)
    except (TypeError, ValueError):
        clean["port"] = 0
    if not 1 <= clean["port"] <= 65535:
        problems["port"] = [_("A port is a number from 1 to 65535.")]
    try:
        clean["host_key_fingerprint"] = normalise_fingerprint(clean["host_key_fingerprint"] or "")
    except feed_errors.InvalidSettings as exc:
        problems["host_key_fingerprint"] = [exc.message]
    clean["remote_directory"] = clean["remote_directory"] or "."
    if fields.get("private_key"):
        try:
            load_private_key(fields["private_key"])
        except feed_errors.InvalidSettings as exc:
            problems["private_key"] = [exc.message]
        if not fields.get("password"):
            secrets["password"] = ""  # a new key replaces a stored password
    elif fields.get("password"):
        secrets["private_key"] = ""
    if not secrets["password"] and not secrets["private_key"]:
        problems["password"] = [_("Enter a password or a private key.")]
    secrets["secret_access_key"] = ""
    clean.update(endpoint_url="", region="", bucket="", prefix="", access_key_id="")


def _clean_s3(clean: dict, secrets: dict, problems: dict) -> None:
    try:
        clean["endpoint_url"] = validate_endpoint(clean["endpoint_url"] or "")
    except feed_errors.InvalidSettings as exc:
        problems["endpoint_url"] = [exc.message]
    if not clean["bucket"]:
        problems["bucket"] = [_("Enter the bucket's name.")]
    if not clean["access_key_id"]:
        problems["access_key_id"] = [_("Enter the access key.")]
    if not secrets["secret_access_key"]:
        problems["secret_access_key"] = [_("Enter the access key's secret.")]
    clean["prefix"] = (clean["prefix"] or "").strip("/")
    secrets["password"] = secrets["private_key"] = ""
    clean.update(host="", port=22, username="", host_key_fingerprint="", remote_directory="")


def _plain_settings(destination: ArchiveDestination) -> dict[str, Any]:
    """What the audit trail keeps of a destination: no secret, only whether one is set."""
    plain = {name: getattr(destination, name) for name in PLAIN_FIELDS}
    return {**plain, **{f"{name}_set": bool(getattr(destination, name)) for name in SECRET_FIELDS}}


def _destination(actor: Membership, archive_destination_id: int, *, lock: bool = False) -> ArchiveDestination:
    queryset = ArchiveDestination.objects.for_org(actor.organization)
    if lock:
        queryset = queryset.select_for_update()
    destination = queryset.filter(pk=archive_destination_id).first()
    if destination is None:
        raise NotFound(_("No such archive destination."))
    return destination


@transaction.atomic
def save_destination(*, actor: Membership, archive_destination_id: int | None = None, **fields) -> ArchiveDestination:
    """Add a destination (no id) or change one. Fields: name, kind ("sftp" or "s3"), enabled;
    SFTP: host, port, username, password or private_key, host_key_fingerprint (required),
    remote_directory; S3: endpoint_url, region, bucket, prefix, access_key_id,
    secret_access_key. A secret left empty keeps the stored one. Audited without secrets.
    Raises ValidationFailed (nothing saved), NotFound, Conflict (the name is taken)."""
    require(actor, Permission.COMPLIANCE_ARCHIVE_FEEDS)
    current = _destination(actor, archive_destination_id, lock=True) if archive_destination_id else None
    clean = _clean_settings(fields, current)
    if (
        ArchiveDestination.objects.for_org(actor.organization)
        .filter(name=clean["name"])
        .exclude(pk=current.pk if current else None)
        .exists()
    ):
        raise Conflict(_("Another destination has this name."), fields={"name": [_("Already used.")]})
    before = _plain_settings(current) if current else None
    destination = current or ArchiveDestination(organization=actor.organization, created_by=actor.user)
    for name, value in clean.items():
        setattr(destination, name, value)
    destination.save()
    after = _plain_settings(destination)
    changed_secrets = [name for name in SECRET_FIELDS if fields.get(name)]
    if before is not None:
        keys = [k for k in after if after[k] != before[k]]
        before, after = {k: before[k] for k in keys}, {k: after[k] for k in keys}
    audit.record(
        "archive_feed.destination_saved" if current else "archive_feed.destination_added",
        organization_id=actor.organization_id,
        target=destination,
        before=before,
        after={**after, **({"secrets_replaced": changed_secrets} if changed_secrets else {})},
    )
    return destination


def _target(destination: ArchiveDestination):
    """The client for the destination; the settings' fields are the model's fields of that name."""
    settings_type, target_type = (
        (SftpSettings, SftpTarget) if destination.kind == ArchiveDestination.Kind.SFTP else (S3Settings, S3Target)
    )
    values = {f.name: getattr(destination, f.name) for f in dataclasses.fields(settings_type)}
    return target_type(settings_type(**values))


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def check_destination(*, actor: Membership, archive_destination_id: int) -> ConnectionCheck:
    """Connect, log in and write (then remove) a small file; the answer says in words what
    failed (host key mismatch, login refused, folder or bucket missing, not allowed to write,
    unreachable). Audited either way. Raises NotFound."""
    require(actor, Permission.COMPLIANCE_ARCHIVE_FEEDS)
    destination = _destination(actor, archive_destination_id)
    try:
        with _target(destination) as target:
            target.check()
        result = ConnectionCheck(
            True, _("Connected to %(where)s and wrote a test file: it works.") % {"where": destination.where}
        )
    except feed_errors.FeedError as exc:
        result = ConnectionCheck(False, f"{exc.summary} {exc.message}")
    audit.record(
        "archive_feed.destination_tested",
        organization_id=actor.organization_id,
        target=destination,
        after={"ok": result.ok, "message": result.message},
    )
    return result


# --- runs ---------------------------------------------------------------------------------------


@transaction.atomic
def request_run(*, actor: Membership, archive_destination_id: int) -> None:
    """Deliver the feed to this destination now (a worker runs it after commit): the records
    since the last successful delivery. Audited. Raises NotFound, Conflict (disabled)."""
    require(actor, Permission.COMPLIANCE_ARCHIVE_FEEDS)
    destination = _destination(actor, archive_destination_id)
    if not destination.enabled:
        raise Conflict(_("This destination is switched off; switch it on first."))
    audit.record("archive_feed.run_requested", organization_id=actor.organization_id, target=destination)
    args = [destination.pk, destination.organization_id, ArchiveFeedRun.Trigger.MANUAL, actor.user_id]

    def enqueue() -> None:
        from celery import current_app

        current_app.send_task(RUN_TASK, args=args)

    transaction.on_commit(enqueue)


def _folder(organization: Organization, moment: datetime.datetime) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(organization.timezone)).date().isoformat()


def _start_run(destination_id: int, organization_id: int, trigger: str, requested_by_id, now) -> ArchiveFeedRun | None:
    with transaction.atomic():
        destination = (
            ArchiveDestination.objects.for_org(organization_id).select_for_update().filter(pk=destination_id).first()
        )
        if destination is None:
            return None
        running = destination.runs.filter(status=ArchiveFeedRun.Status.RUNNING)
        if running.filter(started_at__gt=now - RUN_LEASE).exists():
            return None  # another worker is delivering: it carries the same records
        running.update(
            status=ArchiveFeedRun.Status.FAILED,
            finished_at=now,
            error="The delivery was interrupted (the worker stopped); the next run delivers its records.",
        )
        settle = datetime.timedelta(seconds=settings.ARCHIVE_FEED_SETTLE_SECONDS)
        return ArchiveFeedRun.objects.create(
            organization_id=organization_id,
            destination=destination,
            trigger=trigger,
            requested_by_id=requested_by_id,
            folder=_folder(destination.organization, now),
            window_start=destination.delivered_until,
            window_end=max(now - settle, destination.delivered_until or now - settle),
            started_at=now,
        )


def deliver(
    *,
    archive_destination_id: int,
    organization_id: int,
    trigger: str = ArchiveFeedRun.Trigger.SCHEDULE,
    requested_by_id: int | None = None,
    now: datetime.datetime | None = None,
) -> ArchiveFeedRun | None:
    """One run (the task calls this): the messages since the watermark, then the day's
    manifest, then (only then) the watermark moves. None when the destination is gone or
    another run holds it. A refusal of the destination (FeedError) ends the run as failed
    with its words; any other error too, and is raised again for the logs."""
    now = now or timezone.now()
    run = _start_run(archive_destination_id, organization_id, trigger, requested_by_id, now)
    if run is None:
        return None
    destination = run.destination
    organization = destination.organization
    earlier = ArchiveFeedRun.objects.for_org(organization_id).filter(
        destination=destination, folder=run.folder, status=ArchiveFeedRun.Status.SUCCEEDED
    )
    entries = {entry["name"]: entry for r in earlier.order_by("started_at", "pk") for entry in r.manifest}
    new: list[dict] = []
    try:
        with _target(destination) as target:
            for message in feed_files(organization, run.window_start, run.window_end):
                if message.kind == "post":
                    run.posts += 1
                else:
                    run.decisions += 1
                if message.name in entries:
                    run.skipped += 1
                    continue
                target.put(f"{run.folder}/{message.name}", message.data)
                new.append(message.entry())
                entries[message.name] = new[-1]
                run.uploaded += 1
            manifest = _manifest(organization, run, list(entries.values()))
            target.put(f"{run.folder}/{MANIFEST_NAME}", manifest)
    except Exception as exc:
        words = exc.message if isinstance(exc, feed_errors.FeedError) else None
        _finish(run, new, error=words or f"The delivery failed ({type(exc).__name__}); it is retried at the next run.")
        if words is None:
            raise
        return run
    _finish(run, new)
    return run


def _manifest(organization: Organization, run: ArchiveFeedRun, entries: list[dict]) -> bytes:
    manifest = {
        "format": FORMAT,
        "organization": {"id": organization.pk, "slug": organization.slug, "name": organization.name},
        "folder": run.folder,
        "timezone": organization.timezone,
        "window_utc": [archive._plain(run.window_start), archive._plain(run.window_end)],
        "generated_at": archive._plain(timezone.now()),
        "counts": {
            "files": len(entries),
            "posts": sum(e["kind"] == "post" for e in entries),
            "decisions": sum(e["kind"] == "decision" for e in entries),
        },
        "files": sorted(entries, key=lambda e: e["name"]),
    }
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _finish(run: ArchiveFeedRun, new: list[dict], *, error: str = "") -> None:
    with transaction.atomic():
        destination = (
            ArchiveDestination.objects.for_org(run.organization_id).select_for_update().get(pk=run.destination_id)
        )
        run.status = ArchiveFeedRun.Status.FAILED if error else ArchiveFeedRun.Status.SUCCEEDED
        run.error = error[:500]
        run.manifest = new
        run.finished_at = timezone.now()
        run.save()
        if not error and (destination.delivered_until is None or run.window_end > destination.delivered_until):
            destination.delivered_until = run.window_end
            destination.save(update_fields=["delivered_until"])
        requester = User.objects.filter(pk=run.requested_by_id).values_list("pk", "email").first()
        audit.record(
            "archive_feed.failed" if error else "archive_feed.delivered",
            organization_id=run.organization_id,
            target=run,
            after={
                "destination": destination.name,
                "folder": run.folder,
                "window_start": run.window_start,
                "window_end": run.window_end,
                "posts": run.posts,
                "decisions": run.decisions,
                "uploaded": run.uploaded,
                "skipped": run.skipped,
                **({"error": run.error} if error else {}),
            },
            actor=audit.Actor(user_id=requester[0], label=requester[1]) if requester else audit.SYSTEM,
        )


def due_destinations(now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """(destination id, organization id) of every switched-on destination that has no
    successful run for today (its organization's day) yet: the daily schedule, and an
    hourly retry after a failure. Two queries, whatever the number of destinations."""
    now = now or timezone.now()
    destinations = [
        (d.pk, d.organization_id, _folder(d.organization, now))
        for d in ArchiveDestination.objects.all_organizations()
        .filter(enabled=True)
        .select_related("organization")
        .only("pk", "organization__timezone")
        .order_by("pk")
    ]
    done = set(
        ArchiveFeedRun.objects.all_organizations()
        .filter(
            destination_id__in=[d for d, _o, _f in destinations],
            folder__in={f for _d, _o, f in destinations},
            status=ArchiveFeedRun.Status.SUCCEEDED,
        )
        .values_list("destination_id", "folder")
    )
    return [(d, o) for d, o, f in destinations if (d, f) not in done]

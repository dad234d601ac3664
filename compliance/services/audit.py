"""The audit trail: an append-only, hash-chained list of entries per organization.

Every entry carries `previous_hash` (the hash of the organization's previous entry, 64
zeros for the first) and `hash` = sha256(previous_hash + canonical JSON of the entry).
Editing, removing or reordering an entry breaks the chain at that point, and
`verify_chain()` names the first broken link. The database refuses UPDATE and DELETE on
the table (a trigger, migration `audit_append_only`, PostgreSQL only).

`record_entry` is registered with `advocacy.audit.register_recorder` at startup
(`ComplianceConfig.ready`), so every layer writes through `advocacy.audit.record(...)`.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from advocacy.audit import Actor
from compliance.models import AuditEntry

GENESIS_HASH = "0" * 64

# pg_advisory_xact_lock(int, int): the first key names "the audit chain" so the lock
# never collides with another use of advisory locks; the second is the organization.
_LOCK_NAMESPACE = 0x41554454  # "AUDT"


def canonical_value(value: Any) -> Any:
    """`value` as plain JSON types, the same before it is stored and after it is read back:
    dict keys become strings, datetimes ISO 8601 in UTC, decimals and UUIDs strings,
    tuples and sets lists (sets sorted)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical_value(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, datetime.datetime):
        return _iso(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if hasattr(value, "pk") and hasattr(value, "_meta"):  # a model instance: its key
        return value.pk
    return str(value)


def _iso(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.split("%")[0]))
    except ValueError:
        return None


def entry_payload(entry: AuditEntry) -> dict[str, Any]:
    """The fields the hash covers, in plain JSON types."""
    return {
        "organization": entry.organization_id,
        "sequence": entry.sequence,
        "at": _iso(entry.at),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "ip": _canonical_ip(entry.ip),
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": canonical_value(entry.before),
        "after": canonical_value(entry.after),
    }


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compute_hash(entry: AuditEntry) -> str:
    """sha256(previous hash + canonical JSON of the entry's fields)."""
    digest = hashlib.sha256()
    digest.update(entry.previous_hash.encode("ascii"))
    digest.update(canonical_json(entry_payload(entry)).encode("utf-8"))
    return digest.hexdigest()


def _lock_chain(organization_id: int) -> None:
    """Serialise appends to one organization's chain until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite (development) allows one
    writer at a time anyway, so nothing is needed there.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, int(organization_id)])


def record_entry(
    *,
    action: str,
    organization_id: int,
    target_type: str = "",
    target_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor,
) -> AuditEntry:
    """Append one entry to the organization's chain; the recorder behind `advocacy.audit.record`.

    Runs in the caller's transaction (or its own when there is none), so the entry is
    committed exactly when the change it describes is. Concurrent appends to the same
    organization wait for each other; different organizations never do.
    """
    if not action or len(action) > 80:
        raise ValueError(f"audit action must be 1-80 characters, got {action!r}")
    with transaction.atomic(savepoint=False):
        _lock_chain(organization_id)
        last = AuditEntry.objects.for_org(organization_id).order_by("-sequence").values_list("sequence", "hash").first()
        sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        entry = AuditEntry(
            organization_id=organization_id,
            sequence=sequence,
            at=timezone.now(),
            actor_id=actor.user_id,
            actor_label=(actor.label or "")[:254],
            ip=_canonical_ip(actor.ip),
            action=action,
            target_type=(target_type or "")[:80],
            target_id=str(target_id or "")[:64],
            before=canonical_value(before),
            after=canonical_value(after),
            previous_hash=previous_hash,
        )
        entry.hash = compute_hash(entry)
        entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class BrokenLink:
    """The first entry where the chain does not hold, and what differs."""

    organization_id: int
    sequence: int
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.sequence}" + (f" (id {self.entry_id})" if self.entry_id else "")
        return f"{where}: {self.problem}"


def iter_chain(organization, *, chunk_size: int = 2000) -> Iterator[AuditEntry]:
    """The organization's entries in sequence order, streamed (server-side cursor)."""
    return AuditEntry.objects.for_org(organization).order_by("sequence").iterator(chunk_size=chunk_size)


def verify_chain(organization, *, chunk_size: int = 2000) -> BrokenLink | None:
    """Walk the organization's chain from the first entry; None when every link holds.

    Reads in chunks through a cursor, so memory does not grow with the trail. Detects an
    edited entry (its contents no longer match its hash), a removed or inserted entry (a
    gap in the sequence, or a previous_hash that is not the previous entry's hash), and
    an entry whose hash was recomputed after an edit (the next entry no longer links).
    """
    org_id = organization if isinstance(organization, int) else organization.pk
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    for entry in iter_chain(org_id, chunk_size=chunk_size):
        if entry.sequence != expected_sequence:
            return BrokenLink(
                org_id,
                expected_sequence,
                entry.pk,
                f"sequence jumps from {expected_sequence - 1} to {entry.sequence}: "
                f"entr{'y' if entry.sequence - expected_sequence == 1 else 'ies'} missing",
            )
        if entry.previous_hash != previous_hash:
            return BrokenLink(
                org_id,
                entry.sequence,
                entry.pk,
                f"previous_hash {entry.previous_hash[:12]}… does not match the hash of entry "
                f"#{entry.sequence - 1} ({previous_hash[:12]}…): an earlier entry was changed or replaced",
            )
        recomputed = compute_hash(entry)
        if entry.hash != recomputed:
            return BrokenLink(
                org_id,
                entry.sequence,
                entry.pk,
                f"stored hash {entry.hash[:12]}… does not match its contents (recomputed {recomputed[:12]}…): "
                "the entry was edited",
            )
        previous_hash = entry.hash
        expected_sequence += 1
    return None

"""The audit trail: an append-only, hash-chained list of entries per organization.

Every entry carries `previous_hash` (the hash of the organization's previous entry, 64
zeros for the first) and `hash` = HMAC-SHA256 under the key `key_id` names (AUDIT_HMAC_KEYS,
rotatable: entries keep the id of the key that signed them) of previous_hash + canonical
JSON of the entry. Entries written before keys existed (`key_id` "") are plain sha256.
Without the key, whoever can write the table cannot forge a chain that verifies: a rewritten
entry, or a whole chain hashed again, fails. Truncating the newest entries is caught by the
anchors (`audit_anchor`): the chain's head written outside the database at intervals.
Editing, removing or reordering an entry breaks the chain at that point, and
`verify_chain()` names the first broken link. The database refuses UPDATE and DELETE on
the table (a trigger, migration `audit_append_only`, PostgreSQL only).

`record_entry` is registered with `advocacy.audit.register_recorder` at startup
(`ComplianceConfig.ready`), so every layer writes through `advocacy.audit.record(...)`.

Appending takes the organization's chain lock (a transaction-scoped advisory lock) to read
the head and link to it, and holds it until commit: a later writer must see the entry it
links to. Commit waits for the WAL to reach the disk, so one organization's audited
transactions follow each other one commit at a time, which is what capped publishing (two
audited transactions per delivery: about 50 deliveries/s per organization whatever the
threads) and queued the web's share submissions and review decisions of one organization
behind each other (`make load`: 1.7 s a wait on average). The hot paths (publishing, `submit_share`, `decide`)
therefore batch the append (`advocacy.audit.linked_after_commit`):
its entries go to `PendingAuditEntry` in its own transaction, without the lock, and just
after its commit `chain_pending` links every pending entry of the organization, in id
order, in one short transaction under the lock. One linker works at a time: the others leave
their entries to it (a try-lock, and the linker looks again after its commit), so while it
commits the others' entries pile up and its next turn takes them all: one commit for many
entries.

Chosen over the other two ways because it keeps one chain per organization, so
`verify_chain`, the anchors, the archive and every reader of `sequence` stay as they were
(chains per stream would change all of them), and because shortening the lock's hold
cannot remove the commit from it. The price: a pending entry is not tamper-evident until
linked, normally milliseconds; the `chain_pending_audit` task (every minute) and
`verify_chain` link what a process that died between its commit and its link left behind.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import hmac
import ipaddress
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from advocacy.audit import Actor
from advocacy.sql import tenant_cursor
from advocacy.transactions import on_commit_once
from compliance.models import AuditEntry, PendingAuditEntry

GENESIS_HASH = "0" * 64

# pg_advisory_xact_lock(int, int): the first key names "the audit chain" so the lock
# never collides with another use of advisory locks; the second is the organization.
_LOCK_NAMESPACE = 0x41554454  # "AUDT"
# The linkers' own lock (`chain_pending`): one linker per organization at a time; the others
# leave their entries to it.
_LINKER_NAMESPACE = 0x41554C4B  # "AULK"


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


class UnknownKey(Exception):
    """An entry names a key that AUDIT_HMAC_KEYS does not hold."""


def signing_keys() -> list[tuple[str, bytes]]:
    """(id, secret) of every configured key, the one that signs new entries first."""
    keys = []
    for item in settings.AUDIT_HMAC_KEYS:
        key_id, _, secret = item.partition(":")
        if not key_id or not secret or len(key_id) > 16:
            raise ImproperlyConfigured('AUDIT_HMAC_KEYS entries are "id:secret", the id at most 16 characters.')
        keys.append((key_id, secret.encode()))
    if not keys:
        derived = hmac.new(settings.SECRET_KEY.encode(), b"advocacy audit chain", hashlib.sha256).digest()
        keys.append(("s1", derived))
    return keys


def _key(key_id: str) -> bytes:
    for known, secret in signing_keys():
        if known == key_id:
            return secret
    raise UnknownKey(key_id)


def compute_hash(entry: AuditEntry) -> str:
    """HMAC-SHA256, under the entry's key, of the previous hash + canonical JSON of the
    entry's fields (plain sha256 for an entry from before keys). Raises UnknownKey."""
    message = entry.previous_hash.encode("ascii") + canonical_json(entry_payload(entry)).encode("utf-8")
    if not entry.key_id:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(_key(entry.key_id), message, hashlib.sha256).hexdigest()


def _lock_chain(organization_id: int, *, namespace: int = _LOCK_NAMESPACE, wait: bool = True) -> bool:
    """Serialise appends to one organization's chain (or, with `namespace`, its linkers)
    until the transaction ends: a transaction-scoped advisory lock. With `wait=False` it is
    only tried; returns whether it is held."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with tenant_cursor(int(organization_id)) as cursor:
        cursor.execute(f"SELECT {function}(%(namespace)s, %(org)s)", {"namespace": namespace})
        return wait or cursor.fetchone()[0]


def record_entry(
    *,
    action: str,
    organization_id: int,
    target_type: str = "",
    target_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor,
    after_commit: bool = False,
    link: bool = True,
) -> AuditEntry | PendingAuditEntry:
    """Append one entry to the organization's chain; the recorder behind `advocacy.audit.record`.

    Runs in the caller's transaction (or its own when there is none), so the entry is
    committed exactly when the change it describes is. Concurrent appends to the same
    organization wait for each other; different organizations never do. With
    `after_commit` the entry is written pending and linked once the transaction commits
    (`chain_pending`), so appends of one organization do not wait for each other's commits;
    with `link=False` as well, it waits for the organization's next link (`linked_later`).
    """
    fields = _fields(
        organization_id=organization_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        at=timezone.now(),
    )
    if after_commit:
        pending = PendingAuditEntry(**fields)
        with tenant_cursor(organization_id) as cursor:
            cursor.execute(_INSERT_PENDING_SQL, _columns(fields))
            pending.pk = cursor.fetchone()[0]
        _saved(pending)
        if link:
            _link_after_commit(organization_id)
        return pending
    with transaction.atomic(savepoint=False):
        _lock_chain(organization_id)
        return _append(organization_id, [fields])[0]


def record_entries(
    *, organization_id: int, entries: list[dict], actor: Actor, after_commit: bool = False, link: bool = True
) -> None:
    """`record_entry` for several entries of one organization at once, in this order (each
    of `entries` has `action`, `target_type`, `target_id`, `before`, `after`): one INSERT for
    them all; the recorder behind `advocacy.audit.record_many` (a publishing batch's status
    changes)."""
    if not entries:
        return
    at = timezone.now()
    rows = [_fields(organization_id=organization_id, actor=actor, at=at, **entry) for entry in entries]
    if after_commit:
        columns = [_columns(row) for row in rows]
        with tenant_cursor(organization_id) as cursor:
            cursor.execute(_INSERT_PENDING_MANY_SQL, {name: [c[name] for c in columns] for name in _FIELDS})
        if link:
            _link_after_commit(organization_id)
        return
    with transaction.atomic(savepoint=False):
        _lock_chain(organization_id)
        _append(organization_id, rows)


def _fields(*, organization_id: int, actor: Actor, action: str, target_type, target_id, before, after, at) -> dict:
    """One entry's columns, checked and canonical."""
    if not action or len(action) > 80:
        raise ValueError(f"audit action must be 1-80 characters, got {action!r}")
    return {
        "organization_id": organization_id,
        "at": at,
        "actor_id": actor.user_id,
        "actor_label": (actor.label or "")[:254],
        "ip": _canonical_ip(actor.ip),
        "action": action,
        "target_type": (target_type or "")[:80],
        "target_id": str(target_id or "")[:64],
        "before": canonical_value(before),
        "after": canonical_value(after),
    }


# The hot path's inserts, written out: the ORM's `create` and `bulk_create` of these rows
# cost more CPU than PostgreSQL took to store them (two a published delivery).
_FIELDS = ("at", "actor_id", "actor_label", "ip", "action", "target_type", "target_id", "before", "after")
_INSERT_PENDING_SQL = (
    "INSERT INTO compliance_pendingauditentry (organization_id, at, actor_id, actor_label, ip, action, "
    "target_type, target_id, before, after) VALUES (%(org)s, %(at)s, %(actor_id)s, %(actor_label)s, "
    "%(ip)s::inet, %(action)s, %(target_type)s, %(target_id)s, %(before)s::jsonb, %(after)s::jsonb) RETURNING id"
)
# Its ids follow the arrays' order (the linker chains pending entries in id order).
_INSERT_PENDING_MANY_SQL = (
    "INSERT INTO compliance_pendingauditentry (organization_id, at, actor_id, actor_label, ip, action, "
    "target_type, target_id, before, after) SELECT %(org)s, e.at, e.actor_id, e.actor_label, e.ip, e.action, "
    "e.target_type, e.target_id, e.before, e.after FROM unnest(%(at)s::timestamptz[], %(actor_id)s::bigint[], "
    "%(actor_label)s::text[], %(ip)s::inet[], %(action)s::text[], %(target_type)s::text[], %(target_id)s::text[], "
    "%(before)s::jsonb[], %(after)s::jsonb[]) WITH ORDINALITY "
    "AS e(at, actor_id, actor_label, ip, action, target_type, target_id, before, after, n) ORDER BY e.n"
)
# Many entries in one statement whatever their number (arrays, one per column, in order).
_INSERT_ENTRIES_SQL = (
    "INSERT INTO compliance_auditentry (organization_id, sequence, at, actor_id, actor_label, ip, action, "
    "target_type, target_id, before, after, previous_hash, hash, key_id) "
    "SELECT %(org)s, * FROM unnest(%(sequence)s::bigint[], %(at)s::timestamptz[], %(actor_id)s::bigint[], "
    "%(actor_label)s::text[], %(ip)s::inet[], %(action)s::text[], %(target_type)s::text[], %(target_id)s::text[], "
    "%(before)s::jsonb[], %(after)s::jsonb[], %(previous_hash)s::text[], %(hash)s::text[], %(key_id)s::text[]) "
    "RETURNING id"
)


def _columns(fields: dict) -> dict[str, Any]:
    """An entry's fields as the statements' parameters: JSON as its text (None stays NULL),
    the way Django's JSONField writes it."""
    values = {name: fields[name] for name in _FIELDS}
    for name in ("before", "after"):
        values[name] = None if values[name] is None else json.dumps(values[name])
    return values


def _saved(row) -> None:
    """Mark a row written by one of the statements above as the ORM marks what it saved."""
    row._state.adding = False
    row._state.db = transaction.get_connection().alias


class _Link:
    """The after-commit callback that links one organization's pending entries."""

    def __init__(self, organization_id: int):
        self.organization_id = organization_id

    def __call__(self) -> None:
        # Its transaction wrote a pending entry: straight to the locks, no look first.
        chain_pending(self.organization_id, wait=False, look_first=False)


def _link_after_commit(organization_id: int) -> None:
    """Link the organization's pending entries after the commit, once per transaction: a
    callback already queued (and not dropped with a rolled-back savepoint) links them all."""
    on_commit_once(("audit_link", organization_id), _Link(organization_id))


def _append(organization_id: int, rows: list[dict]) -> list[AuditEntry]:
    """Link `rows` (entry fields) after the chain's head, in order; the caller holds the lock.
    Two statements: the head, then every new entry."""
    with tenant_cursor(organization_id) as cursor:
        cursor.execute(_HEAD_SQL)
        last = cursor.fetchone()
        sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        key_id = signing_keys()[0][0]
        entries = []
        for fields in rows:
            entry = AuditEntry(**fields, sequence=sequence, previous_hash=previous_hash, key_id=key_id)
            entry.hash = compute_hash(entry)
            entries.append(entry)
            sequence, previous_hash = sequence + 1, entry.hash
        columns = [_columns(vars(entry)) for entry in entries]
        params = {name: [c[name] for c in columns] for name in _FIELDS}
        params.update(
            sequence=[e.sequence for e in entries],
            previous_hash=[e.previous_hash for e in entries],
            hash=[e.hash for e in entries],
            key_id=[e.key_id for e in entries],
        )
        cursor.execute(_INSERT_ENTRIES_SQL, params)
        for entry, (pk,) in zip(entries, cursor.fetchall(), strict=True):
            entry.pk = pk
            _saved(entry)
    return entries


# The linker's statements, written out: it runs after every hot-path commit, and the ORM's
# building of the same SQL each time cost more CPU than PostgreSQL took to run it.
_ANY_PENDING_SQL = "SELECT EXISTS (SELECT 1 FROM compliance_pendingauditentry WHERE organization_id = %(org)s)"
# Both locks in one statement, the linkers' first (the order every linker takes them in):
# CASE evaluates in order, and the chain's lock is taken only by a linker that got the
# linkers' (`::text = ''` uses the void result, so a call cannot be planned away).
_LINKER_LOCKS_SQL = {
    True: "SELECT CASE WHEN pg_advisory_xact_lock(%(linker)s, %(org)s)::text = '' "
    "THEN pg_advisory_xact_lock(%(chain)s, %(org)s)::text = '' ELSE false END",
    False: "SELECT CASE WHEN pg_try_advisory_xact_lock(%(linker)s, %(org)s) "
    "THEN pg_advisory_xact_lock(%(chain)s, %(org)s)::text = '' ELSE false END",
}
# Read and remove the pending entries in one statement (under the linkers' lock no other
# linker takes them); JSON and addresses as text, the way the ORM reads them.
_TAKE_PENDING_SQL = (
    "DELETE FROM compliance_pendingauditentry WHERE organization_id = %(org)s RETURNING id, at, actor_id, "
    "actor_label, host(ip), action, target_type, target_id, before::text, after::text"
)
_HEAD_SQL = (
    "SELECT sequence, hash FROM compliance_auditentry WHERE organization_id = %(org)s ORDER BY sequence DESC LIMIT 1"
)


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def chain_pending(organization_id: int, *, wait: bool = True, look_first: bool = True) -> int:
    """Link every pending entry of the organization into its chain, in id order, under the
    chain's lock; returns how many this call linked.

    One linker per organization at a time. With `wait=False` (the hot path's after-commit
    callback) a caller that finds another linker at work leaves its entries to it and
    returns at once: that linker looks again after its own commit, so every entry
    committed before a skipped attempt is seen by a linker that starts after it. With
    `wait=True` (beat, `verify_chain`) the caller waits its turn. Nothing pending: one
    read, no lock (`look_first=False`, for a caller that has just committed an entry: no
    read, straight to the locks). A turn is four statements: both locks, the pending
    entries taken, the chain's head, the new entries; then one read to look again."""
    locks = {"linker": _LINKER_NAMESPACE, "chain": _LOCK_NAMESPACE}
    linked = 0
    look = look_first
    while True:
        if look:
            with tenant_cursor(organization_id) as cursor:
                cursor.execute(_ANY_PENDING_SQL)
                if not cursor.fetchone()[0]:
                    return linked
        look = True
        with transaction.atomic(), tenant_cursor(organization_id) as cursor:
            cursor.execute(_LINKER_LOCKS_SQL[wait], locks)
            if not cursor.fetchone()[0]:
                return linked  # the linker at work looks again after its commit
            cursor.execute(_TAKE_PENDING_SQL)
            pending = sorted(cursor.fetchall())
            if not pending:
                return linked
            rows = [
                {
                    "organization_id": organization_id,
                    "at": at,
                    "actor_id": actor_id,
                    "actor_label": actor_label,
                    "ip": ip,
                    "action": action,
                    "target_type": target_type,
                    "target_id": target_id,
                    "before": _json(before),
                    "after": _json(after),
                }
                for _id, at, actor_id, actor_label, ip, action, target_type, target_id, before, after in pending
            ]
            _append(organization_id, rows)
        linked += len(pending)


def chain_all_pending() -> int:
    """Link what every organization left pending (a process that died between its commit
    and its link); the minute's task. Returns how many entries were linked."""
    # Every tenant's pending entries, on purpose: the task serves the whole deployment.
    orgs = (
        PendingAuditEntry.objects.all_organizations()
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return sum(chain_pending(org_id) for org_id in list(orgs))


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
    """Walk the organization's chain from the first entry, then check it against its anchors
    (`check_anchors`); None when every link holds.

    Reads in chunks through a cursor, so memory does not grow with the trail. Detects an
    edited entry (its contents no longer match its hash), a removed or inserted entry (a
    gap in the sequence, or a previous_hash that is not the previous entry's hash), and
    an entry whose hash was recomputed after an edit (the next entry no longer links).
    """
    org_id = organization if isinstance(organization, int) else organization.pk
    chain_pending(org_id)  # what a dead process left unlinked is checked like the rest
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    for entry in iter_chain(org_id, chunk_size=chunk_size):
        if entry.sequence != expected_sequence:
            return BrokenLink(
                org_id,
                expected_sequence,
                entry.pk,
                ngettext(
                    "sequence jumps from %(last)s to %(next)s: entry missing",
                    "sequence jumps from %(last)s to %(next)s: entries missing",
                    entry.sequence - expected_sequence,
                )
                % {"last": expected_sequence - 1, "next": entry.sequence},
            )
        if entry.previous_hash != previous_hash:
            return BrokenLink(
                org_id,
                entry.sequence,
                entry.pk,
                _(
                    "previous_hash %(stored)s… does not match the hash of entry #%(sequence)s (%(hash)s…): "
                    "an earlier entry was changed or replaced"
                )
                % {"stored": entry.previous_hash[:12], "sequence": entry.sequence - 1, "hash": previous_hash[:12]},
            )
        try:
            recomputed = compute_hash(entry)
        except UnknownKey:
            return BrokenLink(
                org_id,
                entry.sequence,
                entry.pk,
                _("signed with key %(key)s, which AUDIT_HMAC_KEYS does not hold: list the old key too")
                % {"key": repr(entry.key_id)},
            )
        if entry.hash != recomputed:
            return BrokenLink(
                org_id,
                entry.sequence,
                entry.pk,
                _("stored hash %(stored)s… does not match its contents (recomputed %(hash)s…): the entry was edited")
                % {"stored": entry.hash[:12], "hash": recomputed[:12]},
            )
        previous_hash = entry.hash
        expected_sequence += 1
    return check_anchors(org_id)


# --- anchors: the chain's head, kept outside the database -----------------------------------

ANCHOR_DIR = "audit-anchors"


def _anchor_name(organization_id: int) -> str:
    return f"{ANCHOR_DIR}/{organization_id}.jsonl"


def anchor_heads(*, now: datetime.datetime | None = None) -> int:
    """Append every organization's current head (sequence, hash, key) to its anchor file in
    private storage (outside the database, the archive's destination). Run by beat every
    hour; an organization whose head did not move gets no new line. Returns how many were
    written."""
    from advocacy.storage import private_storage

    now = now or timezone.now()
    storage = private_storage()
    written = 0
    everyone = AuditEntry.objects.all_organizations()  # every tenant's head, on purpose
    tops = everyone.order_by().values("organization_id").annotate(top=Max("sequence"))
    wanted = Q(pk__in=[])
    for row in tops:
        wanted |= Q(organization_id=row["organization_id"], sequence=row["top"])
    heads = (
        everyone.filter(wanted).order_by("organization_id").values_list("organization_id", "sequence", "hash", "key_id")
    )
    for org_id, sequence, digest, key_id in heads:
        last = latest_anchor(org_id)
        if last is not None and last["sequence"] == sequence:
            continue
        line = canonical_json({"sequence": sequence, "hash": digest, "key_id": key_id, "at": _iso(now)}) + "\n"
        path = storage.path(_anchor_name(org_id))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
        written += 1
    return written


def anchors_of(organization_id: int) -> list[dict]:
    from advocacy.storage import private_storage

    storage = private_storage()
    name = _anchor_name(organization_id)
    if not storage.exists(name):
        return []
    with storage.open(name, "r") as handle:
        return [json.loads(line) for line in handle.read().splitlines() if line.strip()]


def latest_anchor(organization_id: int) -> dict | None:
    anchors = anchors_of(organization_id)
    return anchors[-1] if anchors else None


def check_anchors(organization_id: int) -> BrokenLink | None:
    """Every anchored head must still be in the chain with the same hash (2 queries): a
    truncated chain (its newest entries dropped) or one hashed again is caught here."""
    anchors = anchors_of(organization_id)
    if not anchors:
        return None
    wanted = {a["sequence"]: a for a in anchors}
    stored = dict(
        AuditEntry.objects.for_org(organization_id).filter(sequence__in=list(wanted)).values_list("sequence", "hash")
    )
    for sequence in sorted(wanted):
        anchor = wanted[sequence]
        if sequence not in stored:
            return BrokenLink(
                organization_id,
                sequence,
                None,
                _(
                    "entry #%(sequence)s was anchored outside the database at %(at)s and is gone: "
                    "the newest entries were removed"
                )
                % {"sequence": sequence, "at": anchor["at"]},
            )
        if stored[sequence] != anchor["hash"]:
            return BrokenLink(
                organization_id,
                sequence,
                None,
                _("entry #%(sequence)s does not have the hash anchored at %(at)s: the chain was rewritten")
                % {"sequence": sequence, "at": anchor["at"]},
            )
    return None

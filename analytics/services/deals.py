"""CRM deals as attributed revenue (issue 17, point 3): the one writer of `Deal` and of the
rollups' `won_revenue`, fed by the HubSpot sync and by the CSV import alike.

Attribution rule (documented on the CRM page and in the README):
1. A closed-won deal with a close date is booked as won revenue; an open deal (not closed:
   HubSpot's hs_is_closed, or the CSV's stage) as pipeline; a closed-lost deal is kept,
   counted nowhere.
2. Its tracking code is the deal's own (HubSpot deal property `utm_content`, or the CSV's
   tracking_code column), else the first-touch utm_content of its first associated
   contact that has one (HubSpot: a contact `utm_content` property, else the utm_content
   of "First page seen", hs_analytics_first_url).
3. The code names the latest *attributed* conversion with that tracking code whose local
   day is on or before the close date; failing that, the contact's e-mail names the latest
   attributed conversion reported with the same e-mail (conversions keep only a keyed hash
   of it) on or before the close date. An open deal follows the same rule with its
   expected close date, and with no bound when it has none. The deal takes that
   conversion's delivery, author, item, team and network: the post whose click led to the
   conversion (last click). Won revenue counts on the close day; pipeline on the day of that
   conversion (an open deal has no close day yet).
4. Otherwise the deal is unattributed, with its reason: the code names no post of the
   organization, no attributed conversion for its code or e-mail by the close date, or
   neither a code nor an e-mail. Unattributed deals are counted on their own line.
5. Its amount counts as won revenue (or pipeline) only in the organization's currency (a deal with no
   currency is taken to be in it); other currencies are counted apart, never converted.

Re-run safe: a deal is one row per (organization, source, external id); saving it again
books the difference between what it booked before (`Deal.booked_*`) and what it books now,
in the same transaction, so a deal updated twice counts once with its latest amount; a deal
that moves from open to won moves its amount from the pipeline to won revenue, and one that
is lost unbooks what it had booked.
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from accounts.models import Membership
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import ValidationFailed
from analytics.models import (
    AnalyticsSettings,
    Conversion,
    ConversionStatus,
    CrmConnection,
    Deal,
    DealReason,
    DealSource,
    DealStatus,
)
from analytics.services import crm, report_version, rollups
from analytics.services.conversions import EMAIL, email_digest
from content.models import Delivery
from integrations.hubspot import errors as hs
from integrations.hubspot.client import SEARCH_RESULTS_CAP, HubSpotClient

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")
MAX_AMOUNT = Decimal("1000000000000")


@dataclass(frozen=True)
class DealFacts:
    """A deal as its CRM describes it (the e-mail only ever travels as its digest)."""

    external_id: str
    amount: Decimal | None
    currency: str
    close_date: date | None
    is_won: bool
    is_closed: bool = True  # False: an open deal (its amount is pipeline)
    stage: str = ""
    name: str = ""
    tracking_code: str = ""
    code_from: str = ""
    email_digest: str = ""
    remote_modified_ms: int | None = None


# --- booking one deal -------------------------------------------------------------------------


def _conversion_for(organization, facts: DealFacts) -> Conversion | None:
    """The latest attributed conversion for the deal's code, else its e-mail, by its close date
    (an open deal's expected one; none: no bound)."""
    attributed = (
        Conversion.objects.for_org(organization)
        .filter(status=ConversionStatus.ATTRIBUTED, item__isnull=False)
        .order_by("-occurred_at", "-pk")
    )
    if facts.close_date is not None:
        attributed = attributed.filter(day__lte=facts.close_date)
    found = None
    if facts.tracking_code:
        found = attributed.filter(tracking_code=facts.tracking_code).first()
    if found is None and facts.email_digest:
        found = attributed.filter(email_digest=facts.email_digest).first()
    return found


def _attribute(deal: Deal, organization, facts: DealFacts, currency: str) -> None:
    """Set the deal's status, reason and post from the rule in the module docstring."""
    deal.conversion = deal.delivery = deal.author = deal.item = None
    deal.team_key, deal.network, deal.reason, deal.amount_counted = 0, "", "", False
    if facts.is_closed and not facts.is_won:
        deal.status = DealStatus.NOT_WON
        return
    deal.status = DealStatus.UNATTRIBUTED
    if facts.is_won and facts.close_date is None:
        deal.reason = DealReason.NO_CLOSE_DATE
        return
    conversion = _conversion_for(organization, facts)
    if conversion is None:
        if not facts.tracking_code and not facts.email_digest:
            deal.reason = DealReason.NO_TOUCH
        elif (
            facts.tracking_code
            and not facts.email_digest
            and not Delivery.objects.for_org(organization).filter(tracking_code=facts.tracking_code).exists()
        ):
            deal.reason = DealReason.UNKNOWN_CODE
        else:
            deal.reason = DealReason.NO_CONVERSION
        return
    deal.status = DealStatus.ATTRIBUTED
    deal.conversion, deal.delivery_id, deal.author_id = conversion, conversion.delivery_id, conversion.author_id
    deal.item_id, deal.team_key, deal.network = conversion.item_id, conversion.team_key, conversion.network
    deal.amount_counted = facts.amount is not None and (facts.currency or currency) == currency


# What a deal has added to the rollups now, in the order `_rebook` compares them.
BOOKED = (
    "booked_cents",
    "booked_day",
    "booked_team_key",
    "booked_network",
    "booked_item_id",
    "booked_author_key",
    "booked_counter",
)
WON, PIPELINE = "won_revenue", "pipeline"  # the rollup counters a deal books into


def _rebook(deal: Deal) -> None:
    """Book the difference between what the deal booked and what it books now: won revenue
    on its close day, or, while it is open, pipeline on its conversion's day. A deal that
    moves from open to won takes its amount out of the pipeline and into won revenue."""
    if deal.amount_counted:
        won = deal.is_won
        now = (
            int(deal.amount * 100),
            deal.close_date if won else deal.conversion.day,
            deal.team_key,
            deal.network,
            deal.item_id,
            deal.author_id or 0,
            WON if won else PIPELINE,
        )
    else:
        now = (0, None, 0, "", None, 0, "")
    before = tuple(getattr(deal, name) for name in BOOKED)
    if now == before:
        return
    if before[0] and before[4] is not None:
        rollups.add(
            organization_id=deal.organization_id,
            day=before[1],
            team_key=before[2],
            network=before[3],
            item_id=before[4],
            author_key=before[5],
            **{before[6] or WON: -before[0]},
        )
    if now[0]:
        rollups.add(
            organization_id=deal.organization_id,
            day=now[1],
            team_key=now[2],
            network=now[3],
            item_id=now[4],
            author_key=now[5],
            **{now[6]: now[0]},
        )
    for name, value in zip(BOOKED, now, strict=True):
        setattr(deal, name, value)


def save_deal(*, organization, source: str, facts: DealFacts, currency: str) -> tuple[Deal, str]:
    """Create or update one deal, attribute it and book the difference in won revenue, in one
    transaction. Returns (deal, "created" | "updated" | "unchanged"). `currency` is the
    organization's (AnalyticsSettings.currency)."""
    with transaction.atomic():
        deal = (
            Deal.objects.for_org(organization)
            .select_for_update()
            .filter(source=source, external_id=facts.external_id)
            .first()
        )
        outcome = "updated"
        if deal is None:
            try:
                with transaction.atomic():
                    deal = Deal.objects.create(
                        organization=organization,
                        source=source,
                        external_id=facts.external_id,
                        status=DealStatus.NOT_WON,
                    )
                outcome = "created"
            except IntegrityError:  # the same deal saved at the same time elsewhere: take its row
                deal = (
                    Deal.objects.for_org(organization)
                    .select_for_update()
                    .get(source=source, external_id=facts.external_id)
                )
        before = _snapshot(deal)
        deal.name, deal.amount, deal.currency = facts.name[:200], facts.amount, facts.currency
        deal.close_date, deal.stage, deal.is_won = facts.close_date, facts.stage[:64], facts.is_won
        deal.is_closed = facts.is_closed or facts.is_won
        deal.tracking_code, deal.code_from, deal.email_digest = facts.tracking_code, facts.code_from, facts.email_digest
        deal.remote_modified_ms = facts.remote_modified_ms
        _attribute(deal, organization, facts, currency)
        _rebook(deal)
        if outcome == "updated" and _snapshot(deal) == before:
            outcome = "unchanged"
        deal.save()
        if outcome != "unchanged":  # a sync re-reads unchanged deals: those keep the cached report
            report_version.bump(organization.pk)
    return deal, outcome


def attribute_waiting_deals(*, conversion: Conversion) -> int:
    """A conversion just attributed (late: it waited for its click) may be the one a closed-won
    or open deal found missing when it was saved (reason "no conversion"), and a CRM sync
    will not bring that deal again until it changes. So the deals it names (its tracking
    code or its visitor's e-mail, closed, or expected to close, on or after its day, or open
    with no close date) are attributed now by the same rule and their revenue or pipeline
    booked. Call inside the conversion's transaction; returns how many."""
    names = Q(tracking_code=conversion.tracking_code) if conversion.tracking_code else Q(pk__in=[])
    if conversion.email_digest:
        names |= Q(email_digest=conversion.email_digest)
    organization = conversion.organization
    waiting = (
        Deal.objects.for_org(organization)
        .select_for_update()
        .filter(names, status=DealStatus.UNATTRIBUTED, reason=DealReason.NO_CONVERSION)
        .filter(Q(close_date__gte=conversion.day) | Q(close_date__isnull=True, is_closed=False))
        .order_by("pk")
    )
    currency, attributed = _currency(organization), 0
    for deal in waiting:
        facts = DealFacts(
            external_id=deal.external_id,
            amount=deal.amount,
            currency=deal.currency,
            close_date=deal.close_date,
            is_won=deal.is_won,
            is_closed=deal.is_closed,
            tracking_code=deal.tracking_code,
            email_digest=deal.email_digest,
        )
        _attribute(deal, organization, facts, currency)
        _rebook(deal)
        deal.save()
        attributed += deal.status == DealStatus.ATTRIBUTED
    return attributed


def _snapshot(deal: Deal) -> tuple:
    return (
        deal.name,
        deal.amount,
        deal.currency,
        deal.close_date,
        deal.stage,
        deal.is_won,
        deal.is_closed,
        deal.tracking_code,
        deal.email_digest,
        deal.status,
        deal.reason,
        deal.conversion_id,
        deal.booked_cents,
        deal.booked_day,
        deal.booked_counter,
    )


def _currency(organization) -> str:
    found = AnalyticsSettings.objects.for_org(organization).values_list("currency", flat=True).first()
    return found or AnalyticsSettings._meta.get_field("currency").default


# --- the HubSpot sync -------------------------------------------------------------------------

INLINE_WAIT_MAX = 2.0  # seconds: a shorter Retry-After is waited out in the sync itself
INLINE_WAITS = 3  # at most this many such waits per call
LEASE = timedelta(minutes=15)  # a sync holds its connection at most this long


@dataclass
class SyncOutcome:
    pages: int = 0
    deals: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deferred_seconds: float | None = None  # HubSpot said to wait this long: retry then
    error: str = ""
    skipped: str = ""
    waits: list[float] = field(default_factory=list)


class _Deferred(Exception):
    def __init__(self, seconds: float):
        self.seconds = seconds


def sync_hubspot(
    *, organization, now=None, sleep: Callable[[float], None] = time.sleep, page_size: int = 100
) -> SyncOutcome:
    """Bring the deals modified in HubSpot since the connection's cursor into `Deal` and the
    rollups. Each page is booked and the cursor moved in one transaction, so a sync stopped
    anywhere (or run twice) books every change once. An expired token is refreshed once; a
    Retry-After up to INLINE_WAIT_MAX seconds is waited out (through `sleep`), a longer one
    stops the sync and is returned in `deferred_seconds` (kept on the connection too, so the
    beat leaves it alone until then). A refused refresh marks the connection
    needs_reconnect. Returns what it did; raises nothing for HubSpot's failures."""
    now = now or timezone.now()
    outcome = SyncOutcome()
    connection = crm.connection_of(organization)
    if connection is None or connection.status != CrmConnection.Status.ACTIVE:
        outcome.skipped = "not connected"
        return outcome
    if connection.retry_after and connection.retry_after > now:
        outcome.deferred_seconds = (connection.retry_after - now).total_seconds()
        return outcome
    claimed = (
        CrmConnection.objects.for_org(organization)
        .filter(pk=connection.pk)
        .filter(Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now))
        .update(sync_lease_until=now + LEASE)
    )
    if not claimed:
        outcome.skipped = "another sync is running"
        return outcome
    try:
        _sync_pages(connection, organization, outcome, sleep=sleep, page_size=page_size)
        connection.retry_after, connection.last_error = None, ""
        connection.last_synced_at = timezone.now()
    except (_Deferred, hs.RateLimited) as deferred:
        seconds = deferred.seconds if isinstance(deferred, _Deferred) else max(deferred.retry_after, 1.0)
        outcome.deferred_seconds = seconds
        connection.retry_after = timezone.now() + timedelta(seconds=seconds)
    except hs.AuthRevoked as exc:
        outcome.error = exc.message
        if connection.status == CrmConnection.Status.ACTIVE:
            crm.mark_needs_reconnect(connection, exc.message)
    except (hs.TransientFailure, hs.InvalidRequest, hs.TokenExpired) as exc:
        outcome.error = exc.message
        connection.last_error = exc.message[:300]
    finally:  # whatever happened, the lease is given back (an unexpected error too)
        connection.sync_lease_until = None
        connection.save(update_fields=["retry_after", "last_error", "last_synced_at", "sync_lease_until"])
    return outcome


def _sync_pages(connection, organization, outcome: SyncOutcome, *, sleep, page_size: int) -> None:
    client = crm.hubspot_client()
    token = crm.access_token(connection, client)
    currency = _currency(organization)

    def call(action):
        nonlocal token
        refreshed = False
        while True:
            try:
                return action(token)
            except (hs.TokenExpired, hs.AuthRevoked):
                # HubSpot: a 401 alone does not prove the refresh token dead; one refresh
                # decides (a refused one marks the connection needs_reconnect).
                if refreshed:
                    raise
                token, refreshed = crm.access_token(connection, client, force=True), True
            except hs.RateLimited as exc:
                if exc.retry_after > INLINE_WAIT_MAX or len(outcome.waits) >= INLINE_WAITS:
                    raise _Deferred(max(exc.retry_after, 1.0)) from None
                outcome.waits.append(exc.retry_after)
                sleep(exc.retry_after)

    after = None
    since = connection.cursor_ms
    while True:
        page = call(
            lambda t, since=since, after=after: client.search_deals(
                access_token=t, modified_since_ms=since, after=after, limit=page_size
            )
        )
        outcome.pages += 1
        facts = _facts_of(client, call, page.deals)
        with transaction.atomic():
            for deal_facts in facts:
                _deal, result = save_deal(
                    organization=organization, source=DealSource.HUBSPOT, facts=deal_facts, currency=currency
                )
                setattr(outcome, result, getattr(outcome, result) + 1)
            newest = max((f.remote_modified_ms or 0 for f in facts), default=0)
            if newest > connection.cursor_ms:
                connection.cursor_ms = newest
                connection.save(update_fields=["cursor_ms"])
        outcome.deals += len(facts)
        if page.after is None:
            return
        after = page.after
        if int(after) + page_size > SEARCH_RESULTS_CAP:
            # HubSpot pages through at most 10,000 results of one query: ask again from the
            # newest change booked (GTE: the deals at that instant come again, unchanged).
            if connection.cursor_ms == since:
                raise hs.InvalidRequest("more than 10,000 deals share one modification time; cannot page past them")
            since, after = connection.cursor_ms, None


def _facts_of(client: HubSpotClient, call, deals) -> list[DealFacts]:
    """The deals of one page as DealFacts, with their contacts' codes and e-mails (two
    batch reads for the whole page)."""
    ids = [deal.id for deal in deals]
    links = call(lambda t: client.deal_contacts(access_token=t, deal_ids=ids)) if ids else {}
    contact_ids = [c for deal_id in ids for c in links.get(deal_id, [])]
    contacts = call(lambda t: client.read_contacts(access_token=t, contact_ids=contact_ids)) if contact_ids else {}
    facts = []
    for deal in deals:
        people = [contacts[c] for c in links.get(deal.id, []) if c in contacts]
        code, code_from = deal.tracking_code, "deal" if deal.tracking_code else ""
        if not code:
            code = next((p.first_touch_code for p in people if p.first_touch_code), "")
            code_from = "contact" if code else ""
        if code and not CODE.match(code):
            code, code_from = "", ""
        email = next((p.email for p in people if p.email), "")
        facts.append(
            DealFacts(
                external_id=deal.id,
                amount=deal.amount,
                currency=deal.currency,
                close_date=deal.close_date,
                is_won=deal.is_won,
                is_closed=deal.is_closed,
                stage=deal.stage,
                name=deal.name,
                tracking_code=code,
                code_from=code_from,
                email_digest=email_digest(email) if email else "",
                remote_modified_ms=deal.modified_ms,
            )
        )
    return facts


def connections_due(now=None) -> list[int]:
    """Organization ids whose active CRM connection may sync now (HubSpot's Retry-After passed)."""
    now = now or timezone.now()
    return list(
        CrmConnection.objects.all_organizations()
        .filter(status=CrmConnection.Status.ACTIVE)
        .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
    )


def countdown(seconds: float) -> int:
    return max(1, math.ceil(seconds))


# --- the CSV import ---------------------------------------------------------------------------

MAX_ROWS = 10_000
MAX_BYTES = 2 * 1024 * 1024
COLUMNS = {
    "id": "id",
    "deal_id": "id",
    "amount": "amount",
    "currency": "currency",
    "close_date": "close_date",
    "closedate": "close_date",
    "tracking_code": "tracking_code",
    "utm_content": "tracking_code",
    "email": "email",
    "stage": "stage",
    "status": "stage",
    "deal_stage": "stage",
    "dealstage": "stage",
}
REQUIRED = ("id", "amount", "currency", "close_date")
# The optional stage column: what a CRM export says, in words or as HubSpot's default stage
# ids (case, spaces, "-" and "_" ignored). Without the column every row is closed-won.
STAGES = {
    "won": "won",
    "closedwon": "won",
    "open": "open",
    "lost": "lost",
    "closedlost": "lost",
}


@dataclass
class ImportOutcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def parse_deals_csv(content: bytes) -> list[DealFacts]:
    """Every row of the file as DealFacts, or ValidationFailed naming each bad row by its line
    number and reason (`fields["file"]`); nothing is read past the checks."""
    reader, columns = _open_deals_csv(content)
    errors: list[str] = []
    facts: list[DealFacts] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(facts) + len(errors) >= MAX_ROWS:
            raise ValidationFailed(
                gettext("More than %(max)s deals: split the file.")
                % {"max": number_format(MAX_ROWS, force_grouping=True)}
            )
        deal, problems = _parse_deal_row(_Row(row, columns), seen)
        if problems:
            errors.append(gettext("Line %(line)s: %(problems)s.") % {"line": line, "problems": "; ".join(problems)})
            continue
        seen[deal.external_id] = line
        facts.append(deal)
    if errors:
        raise ValidationFailed(
            ngettext(
                "Nothing was imported: %(count)s row is not valid. Fix it and import the whole file again.",
                "Nothing was imported: %(count)s rows are not valid. Fix them and import the whole file again.",
                len(errors),
            )
            % {"count": len(errors)},
            fields={"file": errors},
        )
    if not facts:
        raise ValidationFailed(gettext("The file has no deals under its header line."))
    return facts


def _open_deals_csv(content: bytes):
    """The CSV reader past the header line, and column -> index; ValidationFailed for a file
    too large, not UTF-8, empty, or without the required columns."""
    if len(content) > MAX_BYTES:
        raise ValidationFailed(
            gettext("The file is larger than %(size)s MB; split it.") % {"size": MAX_BYTES // (1024 * 1024)}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(gettext("The file is not UTF-8 text: save it as CSV UTF-8 and try again.")) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise ValidationFailed(gettext("The file is empty: the first line names the columns."))
    names = [re.sub(r"[\s-]+", "_", column.strip().lower()) for column in header]
    columns = {COLUMNS[name]: index for index, name in reversed(list(enumerate(names))) if name in COLUMNS}
    missing = [name for name in REQUIRED if name not in columns]
    has_contact = "tracking_code" in columns or "email" in columns
    if missing or not has_contact:
        needed = missing + ([] if has_contact else ["tracking_code or email"])
        raise ValidationFailed(
            gettext(
                "Line 1: the columns %(columns)s are missing. Expected: id, amount, currency, close_date, "
                "and tracking_code or email (and stage: won, open or lost; without it every deal is won)."
            )
            % {"columns": ", ".join(needed)}
        )
    return reader, columns


@dataclass
class _Row:
    cells: list[str]
    columns: dict[str, int]

    def has(self, name: str) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> str:
        index = self.columns.get(name)
        return self.cells[index].strip() if index is not None and index < len(self.cells) else ""


def _parse_deal_row(row: _Row, seen: dict[str, int]) -> tuple[DealFacts | None, list[str]]:
    """One row as DealFacts, or the list of what is wrong with it (every column is checked)."""
    parsed = [
        _parse_id(row["id"], seen),
        _parse_amount(row["amount"]),
        _parse_currency(row["currency"]),
        _parse_stage(row["stage"] if row.has("stage") else None),
    ]
    (external_id, _), (amount, _), (currency, _), (stage, _) = parsed
    parsed.append(_parse_close_date(row["close_date"], stage))
    code, email = row["tracking_code"], row["email"]
    problems = [problem for _, problem in parsed if problem] + _contact_problems(code, email)
    if problems:
        return None, problems
    return DealFacts(
        external_id=external_id,
        amount=amount,
        currency=currency,
        close_date=parsed[-1][0],
        is_won=stage == "won",
        is_closed=stage != "open",
        stage={"won": "closedwon", "lost": "closedlost"}.get(stage, "open"),
        tracking_code=code,
        code_from="csv" if code else "",
        email_digest=email_digest(email) if email else "",
    ), []


def _parse_id(external_id: str, seen: dict[str, int]) -> tuple[str, str | None]:
    if not EXTERNAL_ID.match(external_id):
        return external_id, gettext("id %(id)s is not 1 to 64 letters, digits or _ . : / -") % {"id": repr(external_id)}
    if external_id in seen:
        return external_id, gettext("id %(id)s is already on line %(line)s") % {
            "id": repr(external_id),
            "line": seen[external_id],
        }
    return external_id, None


def _parse_amount(raw: str) -> tuple[Decimal | None, str | None]:
    try:
        amount = Decimal(raw).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None, gettext(
            "amount %(amount)s is not a number such as 1250.00 (a dot for decimals, no thousands separator)"
        ) % {"amount": repr(raw)}
    if not amount.is_finite() or not Decimal(0) <= amount < MAX_AMOUNT:
        return None, gettext("amount %(amount)s must be 0 or more") % {"amount": repr(raw)}
    return amount, None


def _parse_currency(raw: str) -> tuple[str, str | None]:
    currency = raw.upper()
    if not (len(currency) == 3 and currency.isalpha()):
        return currency, gettext("currency %(currency)s is not three letters such as EUR") % {"currency": repr(raw)}
    return currency, None


def _parse_stage(raw: str | None) -> tuple[str, str | None]:
    """won, open or lost; no stage column: won."""
    if raw is None:
        return "won", None
    stage = STAGES.get(re.sub(r"[\s_-]+", "", raw.lower()), "")
    if not stage:
        return stage, gettext("stage %(stage)s is not won, open or lost (closed won and closed lost too)") % {
            "stage": repr(raw)
        }
    return stage, None


def _parse_close_date(raw: str, stage: str) -> tuple[date | None, str | None]:
    # An open deal may have no close date yet (else it is the expected one).
    if not raw and stage == "open":
        return None, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, gettext("close date %(date)s is not a date such as 2026-11-30") % {"date": repr(raw)}


def _contact_problems(code: str, email: str) -> list[str]:
    problems = []
    if code and not CODE.match(code):
        problems.append(
            gettext("tracking code %(code)s is not the utm_content of a tracked link (letters, digits, _ or -)")
            % {"code": repr(code)}
        )
    if email and not EMAIL.match(email):
        problems.append(gettext("email %(email)s is not an e-mail address") % {"email": repr(email)})
    if not code and not email:
        problems.append(gettext("give a tracking code or an email"))
    return problems


def import_deals_csv(*, actor: Membership, content: bytes, filename: str = "") -> ImportOutcome:
    """Import deals (closed-won, open or closed-lost by their stage column; without one, all
    closed-won) from another CRM's CSV export: the whole file is checked first
    (`parse_deals_csv`) and nothing is saved when any row is bad; then every row is saved
    in one transaction. Re-importing the same ids updates them (the difference booked),
    never duplicates them. Audited with the counts."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    organization, user = actor.organization, actor.user
    facts = parse_deals_csv(content)
    outcome = ImportOutcome(rows=len(facts))
    currency = _currency(organization)
    with transaction.atomic():
        for deal_facts in facts:
            _deal, result = save_deal(
                organization=organization, source=DealSource.CSV, facts=deal_facts, currency=currency
            )
            setattr(outcome, result, getattr(outcome, result) + 1)
        audit.record(
            "deals.imported",
            organization_id=organization.pk,
            target_type="deal_import",
            target_id=filename[:100],
            after={"rows": outcome.rows, "created": outcome.created, "updated": outcome.updated, "by": user.pk},
        )
    return outcome

"""Tracked links and clicks: `/r/<code>` resolves a delivery's link, counts human clicks in
a Redis buffer, and `flush_clicks` moves them into PostgreSQL and the daily rollups.

The hot path (`link_for` + `record_click`) does no SQL once a code is cached, and no Redis
round trip either: a counted click is appended to the process's hand-off list, which a
thread pushes onto the Redis queue in one RPUSH every 50 ms (`_Handoff`). Everything that
must be exact happens in the flush:

* Reliable hand-over: a Lua script moves up to `batch_size` clicks from the queue into a
  batch list of its own and notes the batch in a pending set, atomically. The batch is
  written to PostgreSQL (Click rows + `rollups.add`) in ONE transaction, and only after
  the commit is the batch list deleted. A flush that dies or fails leaves the batch
  pending; the next flush writes pending batches first.
* Idempotent: every click gets its id (uuid4) when the redirect answers; the flush skips
  ids already in the table and adds to the rollups only what it inserted, so a batch
  written twice (crash between commit and delete) counts once.
* Unique clicks are decided at the flush, in PostgreSQL, under a transaction-level
  advisory lock (one flush writes at a time): a click is unique when no unique click of
  the same visitor hash on the same delivery and local day exists. A partial unique index
  backs it. Redis holds no uniqueness state, so losing Redis never inflates uniques.
* Counted or discarded: every GET is recorded, but only a person's click on a posted
  delivery (`DELIVERY_POSTED`) within the per-address rate (CLICK_RATE_PER_IP_MINUTE
  across all links, decided at the flush with one Redis round trip per batch,
  `_apply_rate`) counts; the others are Click rows with a `discard_reason` (bot,
  rate, not_published) and a count in `DailyClickDiscard`, never in the rollups.
* Visitor: HMAC-SHA256 of the address (IPv4 whole, IPv6 its /64; not the user agent, which
  a client rotates at will) under a key derived from CLICK_SALT and
  the click's local date, so the same person gets a new, unlinkable hash every day. The
  address never leaves the request: not in Redis, not in the database, not in logs.

What a Redis crash loses (Redis keeps nothing on disk here): every click not yet committed
to PostgreSQL, i.e. the queue and the pending batches. Normally that is the clicks of the
last CLICK_FLUSH_EVERY seconds (10 s); more when the flush is behind (one run writes at
most MAX_BATCHES_PER_RUN x BATCH_SIZE clicks) or could not write because the database was
down. Also lost: the cached code -> link mappings (rebuilt from SQL on the next hit).
Committed clicks and rollups are never affected. A batch whose commit succeeded but whose
delete was lost is written again without effect (ids). While Redis is unreachable the web
processes keep their clicks in their hand-off lists and push them when it answers again
(up to 50,000 per process, then new clicks are dropped with a warning); the visitor is
always redirected. A web process killed outright (SIGKILL, out of memory) loses the clicks
it had not pushed: those of its last 50 ms, or all it held while Redis was down.

Without REDIS_URL there is no buffer: a counted click is written at
once through the same `write_clicks`.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote_plus, urlencode, urlsplit, urlunsplit

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from redis.exceptions import RedisError

from advocacy.addresses import address_network
from advocacy.sql import all_organizations_cursor
from analytics.models import Click, ClickDiscardReason, DailyClickDiscard
from analytics.services import report_version, rollups
from content.lifecycle import DELIVERY_POSTED
from content.models import Delivery

log = logging.getLogger(__name__)

KEY_PREFIX = "advocacy:clicks:"
QUEUE = KEY_PREFIX + "queue"
PENDING = KEY_PREFIX + "pending"
FLUSH_LOCK = KEY_PREFIX + "flush-lock"
BATCH_SIZE = 1000
MAX_BATCHES_PER_RUN = 50
FLUSH_LOCK_MS = 120_000
LINK_CACHE_SECONDS = 600
UNKNOWN_CACHE_SECONDS = 30
LOCAL_LINK_SECONDS = 30
LOCAL_LINKS_MAX = 10_000
RATE_KEY_SECONDS = 180  # how long a minute's per-address rate set lives in Redis
# pg_advisory_xact_lock key of the flush ("clicks" in ASCII).
ADVISORY_LOCK_KEY = 0x636C69636B73

CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
UTM_MEDIUM = "employee_advocacy"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")

# Lower-case fragments of the user agents of link-preview fetchers (the networks' own and
# chat apps'), crawlers, monitors and HTTP libraries. Substring checks: a few microseconds.
BOT_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebookcatalog",
    "embedly",
    "preview",
    "whatsapp",
    "vkshare",
    "pinterest",
    "outbrain",
    "quora link",
    "bitly",
    "flipboard",
    "headless",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "curl/",
    "wget/",
    "python-",
    "python/",
    "java/",
    "go-http",
    "okhttp",
    "axios",
    "node-fetch",
    "libwww",
    "httpclient",
    "scrapy",
    "phantomjs",
)
PREFETCH_HEADERS = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
# All the markers in one pattern: one scan of the user agent instead of one per marker.
_BOT_RE = re.compile("|".join(re.escape(marker) for marker in BOT_MARKERS))
_PREFETCH_RE = re.compile("prefetch|prerender|preview")


@dataclass(frozen=True)
class Link:
    """What the redirect needs about one delivery, cached by code."""

    url: str
    delivery_id: int
    organization_id: int
    timezone: str
    network: str
    item_id: int
    team_key: int


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))  # made once: json.dumps makes one a call


@dataclass(frozen=True)
class BufferedClick:
    id: uuid.UUID
    delivery_id: int
    organization_id: int
    item_id: int
    network: str
    team_key: int
    at: datetime
    day: date
    visitor: str
    # Why it is recorded but not counted ("" = counted so far); the flush may add a reason.
    discard: str = ""
    # HMAC of the address under the UTC day's key: the per-address rate's key, the same
    # for every organization (the visitor hash is per organization-local day).
    source: str = ""

    def dumps(self) -> str:
        return _COMPACT_JSON.encode(
            [
                self.id.hex,
                self.delivery_id,
                self.organization_id,
                self.item_id,
                self.network,
                self.team_key,
                self.at.isoformat(),
                self.day.isoformat(),
                self.visitor,
                self.discard,
                self.source,
            ],
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> BufferedClick:
        fields = json.loads(raw)
        id_hex, delivery_id, org_id, item_id, network, team_key, at, day, visitor = fields[:9]
        discard, source = fields[9:11] if len(fields) >= 11 else ("", "")  # older buffers: 9 fields
        return cls(
            id=uuid.UUID(hex=id_hex),
            delivery_id=int(delivery_id),
            organization_id=int(org_id),
            item_id=int(item_id),
            network=str(network),
            team_key=int(team_key),
            at=datetime.fromisoformat(at),
            day=date.fromisoformat(day),
            visitor=str(visitor),
            discard=str(discard),
            source=str(source),
        )


# --- the link --------------------------------------------------------------------------------


def tracked_url(url: str, *, network: str, campaign: str, code: str) -> str:
    """`url` with our UTM parameters; the URL's own parameters are kept as they were written.

    Ours replace same-named ones already in the URL (attribution must name this delivery);
    the fragment stays last.
    """
    parts = urlsplit(url)
    kept = [
        segment
        for segment in parts.query.split("&")
        if segment and unquote_plus(segment.split("=", 1)[0]) not in UTM_KEYS
    ]
    ours = urlencode(
        {"utm_source": network, "utm_medium": UTM_MEDIUM, "utm_campaign": campaign, "utm_content": code},
        quote_via=quote,
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join([*kept, ours]), parts.fragment))


# Hot codes also stay in the process for LOCAL_LINK_SECONDS: most clicks then need no cache
# round trip at all. A changed item URL reaches the redirect within LINK_CACHE_SECONDS +
# LOCAL_LINK_SECONDS.
_local_links: dict[str, tuple[float, Link]] = {}


def forget_local_links() -> None:
    """Empty this process's copy of the link cache (tests; the shared cache is separate)."""
    _local_links.clear()


def link_for(code: str) -> Link | None:
    """The link of a delivery's tracking code, or None. Cached: after the first hit (or miss)
    of a code, no SQL until the cache entry expires."""
    if not CODE_RE.fullmatch(code):
        return None
    now = time.monotonic()
    local = _local_links.get(code)
    if local is not None and local[0] > now:
        return local[1]
    link = _shared_link_for(code)
    if link is not None:
        if len(_local_links) >= LOCAL_LINKS_MAX:
            _local_links.clear()
        _local_links[code] = (now + LOCAL_LINK_SECONDS, link)
    return link


def _shared_link_for(code: str) -> Link | None:
    key = f"tracked-link:v1:{code}"  # v1: the field order of Link, cached as a tuple
    try:
        cached = cache.get(key)
    except RedisError:  # a cache outage must not break the redirect: SQL answers
        log.warning("tracked link cache unavailable", exc_info=True)
        cached = None
    if cached is not None:
        return Link(*cached) if cached else None
    link = _load_link(code)
    try:
        if link is None:
            cache.set(key, (), UNKNOWN_CACHE_SECONDS)
        else:
            cache.set(key, tuple(vars(link).values()), LINK_CACHE_SECONDS)
    except RedisError:
        log.warning("tracked link cache unavailable", exc_info=True)
    return link


def _load_link(code: str) -> Link | None:
    # A lookup by an unguessable code, across organizations on purpose.
    delivery = (
        Delivery.objects.all_organizations()
        .select_related("share__item", "organization")
        .only(
            "pk",
            "network",
            "tracking_code",
            "organization__timezone",
            "share__team_id",
            "share__item__url",
            "share__item__slug",
        )
        .filter(tracking_code=code)
        .first()
    )
    if delivery is None:
        return None
    item = delivery.share.item
    if urlsplit(item.url).scheme not in ("http", "https"):
        return None
    return Link(
        url=tracked_url(item.url, network=delivery.network, campaign=item.slug, code=delivery.tracking_code),
        delivery_id=delivery.pk,
        organization_id=delivery.organization_id,
        timezone=delivery.organization.timezone,
        network=delivery.network,
        item_id=item.pk,
        team_key=delivery.share.team_id or 0,
    )


# --- counting a click --------------------------------------------------------------------------


def is_counted(meta: dict) -> bool:
    """True for a person's click: not a bot or link-preview fetcher, not a prefetch.

    `meta` is `request.META`. The request method is the view's business (only GET counts).
    """
    user_agent = meta.get("HTTP_USER_AGENT", "").strip().lower()
    if not user_agent or _BOT_RE.search(user_agent):
        return False
    for header in PREFETCH_HEADERS:
        value = meta.get(header)
        if value and _PREFETCH_RE.search(value.lower()):
            return False
    return True


@functools.lru_cache(maxsize=8)
def _day_key(click_salt: str, secret_key: str, day: date) -> hmac.HMAC:
    """The HMAC keyed with the key of the day, to be copied for each message (keying it again
    for every click cost the redirect a few microseconds a hash)."""
    # CLICK_SALT from the environment; without it, a key derived from SECRET_KEY (never a
    # constant in the repository).
    salt = click_salt or hmac.new(secret_key.encode(), b"click-salt", hashlib.sha256).hexdigest()
    key = hmac.new(salt.encode(), f"click-visitor:{day.isoformat()}".encode(), hashlib.sha256).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _keyed(day: date, message: str) -> str:
    mac = _day_key(settings.CLICK_SALT, settings.SECRET_KEY, day).copy()
    mac.update(message.encode())
    return mac.hexdigest()


def visitor_hash(*, ip: str, day: date) -> str:
    """A visitor's hash for one day: HMAC-SHA256(key of the day, the address's network).

    Keyed on the address alone (IPv4 whole, IPv6 its /64), not the user agent: rotating the
    user agent from one address must not make new unique clicks (issue 15, point 4). The key
    of the day is HMAC(CLICK_SALT, date): the same visitor hashes alike within a day and
    unlinkably across days; the address cannot be recovered without the salt.
    """
    return _visitor(address_network(ip), day)


def _visitor(network: str, day: date) -> str:
    return _keyed(day, f"ip:{network}")[:32]


def rate_source(*, ip: str, at: datetime) -> str:
    """The per-address rate's key for a click: HMAC of the address's network (as the visitor
    hash) under the key of the UTC day, so one address is one key across organizations."""
    return _rate_source(address_network(ip), at)


def _rate_source(network: str, at: datetime) -> str:
    return _keyed(at.astimezone(UTC).date(), f"rate:{network}")[:16]


def record_click(*, link: Link, ip: str, at: datetime, bot: bool = False) -> None:
    """Record a click on `link`: appended to this process's hand-off buffer, which a thread
    pushes to the Redis queue in one RPUSH every `HANDOFF_SECONDS` (never waits on Redis or
    SQL). With no Redis configured the click is written at once. A `bot` click (a bot, link
    preview or prefetch) is recorded as discarded; whether any other click counts (the
    delivery is posted, the address is under its per-minute rate) is decided at the flush.
    """
    day = rollups.local_day(at, link.timezone)
    network = address_network(ip)  # parsed once for both hashes
    click = BufferedClick(
        id=uuid.uuid4(),
        delivery_id=link.delivery_id,
        organization_id=link.organization_id,
        item_id=link.item_id,
        network=link.network,
        team_key=link.team_key,
        at=at,
        day=day,
        visitor=_visitor(network, day),
        discard=ClickDiscardReason.BOT if bot else "",
        source="" if bot else _rate_source(network, at),
    )
    if not settings.REDIS_URL:
        with _local_write_lock:
            write_clicks([click])
        return
    _handoff.add(click.dumps())


HANDOFF_SECONDS = 0.05  # how often a process pushes its clicks to Redis
HANDOFF_PUSH_NOW = 500  # ...or sooner, once this many wait
HANDOFF_MAX = 50_000  # beyond this (Redis down for a while) new clicks are dropped, logged


class _Handoff:
    """Clicks of this process on their way to the Redis queue.

    The redirect only appends to a list (microseconds); a daemon thread, started on the first
    click in each process (so a forked worker gets its own), pushes everything waiting in one
    RPUSH every HANDOFF_SECONDS, and at interpreter exit. If Redis cannot be reached the
    clicks stay here and go with the next push (up to HANDOFF_MAX, then new ones are dropped
    with a warning). What this adds to the losses: a process killed outright (SIGKILL, OOM)
    loses the clicks of its last HANDOFF_SECONDS, and those it held while Redis was down.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pushing = threading.Lock()  # held over a whole push: `discard` waits for one in flight
        self._waiting: list[str] = []
        self._wake = threading.Event()
        self._pid = None
        self._dropped = 0

    def add(self, payload: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first click of this process (or of a fork)
                self._start()
            if len(self._waiting) >= HANDOFF_MAX:
                self._dropped += 1
                if self._dropped % 1000 == 1:
                    log.warning("click hand-off full (Redis unreachable?): %s clicks dropped so far", self._dropped)
                return
            self._waiting.append(payload)
            if len(self._waiting) >= HANDOFF_PUSH_NOW:
                self._wake.set()

    def __len__(self) -> int:
        return len(self._waiting) if self._pid == os.getpid() else 0

    def discard(self) -> None:
        with self._pushing, self._lock:  # a push in flight lands first, not after the discard
            self._waiting.clear()

    def _start(self) -> None:
        self._waiting, self._pid = [], os.getpid()
        self._wake = threading.Event()
        threading.Thread(target=self._run, name="click-handoff", daemon=True).start()
        atexit.register(self.push)

    def _run(self) -> None:
        while True:
            self._wake.wait(HANDOFF_SECONDS)
            self._wake.clear()
            self.push()

    def push(self) -> int:
        """Move everything waiting onto the Redis queue now; returns how many went."""
        with self._pushing:
            return self._push()

    def _push(self) -> int:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        if not waiting:
            return 0
        try:
            _redis().rpush(QUEUE, *waiting)
        except RedisError:
            log.warning("click buffer unavailable: %s clicks kept for the next push", len(waiting), exc_info=True)
            with self._lock:
                room = max(0, HANDOFF_MAX - len(self._waiting))
                self._waiting[:0] = waiting[:room]
                if len(waiting) > room:
                    self._dropped += len(waiting) - room
                    log.warning("click hand-off full (Redis unreachable?): %s clicks dropped so far", self._dropped)
            return 0
        return len(waiting)


_handoff = _Handoff()


def discard_handoff() -> None:
    """Drop this process's clicks not yet pushed (tests: they belong to rolled-back rows)."""
    _handoff.discard()


def push_handoff() -> int:
    """Push this process's waiting clicks to Redis now (the flush does it first; so do tests)."""
    return _handoff.push() if settings.REDIS_URL else 0


_local_write_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _redis():
    return _client(settings.REDIS_URL)


# --- the flush ---------------------------------------------------------------------------------

# Move up to ARGV[1] clicks from the queue (KEYS[1]) into the batch list (KEYS[2]) and note
# the batch id (ARGV[2]) in the pending set (KEYS[3]), atomically.
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local n = #items
if n == 0 then return 0 end
redis.call('LTRIM', KEYS[1], n, -1)
for i = 1, n, 500 do
  redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 499, n)))
end
redis.call('SADD', KEYS[3], ARGV[2])
return n
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def _batch_key(batch_id: str) -> str:
    return f"{KEY_PREFIX}batch:{batch_id}"


@dataclass
class FlushOutcome:
    batches: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    discarded: int = 0
    skipped: int = 0
    busy: bool = False


def flush_clicks(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES_PER_RUN) -> FlushOutcome:
    """Write buffered clicks to PostgreSQL and the rollups, batch by batch.

    Pending batches of an earlier flush that died or failed go first. One flush runs at a
    time (a Redis lock; another caller returns `busy`). A database error propagates after
    leaving its batch pending in Redis, so a retry writes it: no click lost, none counted
    twice. Returns what was written by this call.
    """
    outcome = FlushOutcome()
    if not settings.REDIS_URL:
        return outcome
    push_handoff()  # clicks this process took (only tests and `make run` flush where they click)
    r = _redis()
    token = uuid.uuid4().hex
    if not r.set(FLUSH_LOCK, token, nx=True, px=FLUSH_LOCK_MS):
        outcome.busy = True
        return outcome
    try:
        leftovers = sorted(b.decode() for b in r.smembers(PENDING))
        for batch_id in leftovers:
            _flush_batch(r, batch_id, outcome)
        claim = r.register_script(_CLAIM)
        for _ in range(max_batches):
            batch_id = uuid.uuid4().hex
            if not claim(keys=[QUEUE, _batch_key(batch_id), PENDING], args=[batch_size, batch_id]):
                break
            _flush_batch(r, batch_id, outcome)
            r.register_script(_RENEW)(keys=[FLUSH_LOCK], args=[token, FLUSH_LOCK_MS])
    finally:
        r.register_script(_RELEASE)(keys=[FLUSH_LOCK], args=[token])
    return outcome


def _flush_batch(r, batch_id: str, outcome: FlushOutcome) -> None:
    key = _batch_key(batch_id)
    clicks = []
    for raw in r.lrange(key, 0, -1):
        try:
            clicks.append(BufferedClick.loads(raw))
        except (ValueError, TypeError):
            outcome.skipped += 1
            log.error("unreadable click in batch %s dropped: %r", batch_id, raw[:200])
    clicks = _apply_rate(r, clicks)
    written = write_clicks(clicks)  # raises on a database error: the batch stays pending
    outcome.batches += 1
    outcome.clicks += written.clicks
    outcome.unique_clicks += written.unique_clicks
    outcome.discarded += written.discarded
    outcome.skipped += written.skipped
    pipe = r.pipeline(transaction=True)
    pipe.delete(key)
    pipe.srem(PENDING, batch_id)
    pipe.execute()


# For each click (KEYS[i]: its address-minute set; ARGV[i + 1]: its id) its place in that
# minute by arrival at the flush: a click seen before keeps its place, a new one goes last.
# ARGV[1]: the sets' lifetime in seconds.
_RANK = """
local out = {}
for i = 1, #KEYS do
  local place = redis.call('ZSCORE', KEYS[i], ARGV[i + 1])
  if not place then
    place = redis.call('ZCARD', KEYS[i])
    redis.call('ZADD', KEYS[i], place, ARGV[i + 1])
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[1]))
  end
  out[i] = tonumber(place)
end
return out
"""


def _apply_rate(r, clicks: list[BufferedClick]) -> list[BufferedClick]:
    """Mark the clicks beyond CLICK_RATE_PER_IP_MINUTE of one address in one minute (across
    all links and organizations) as discarded for the rate, in one Redis round trip.

    Each address-minute is a Redis sorted set of click ids placed in arrival order (`_RANK`):
    a click's place never changes once given, so a batch flushed again (its commit failed)
    gets the same decisions while the set lives (RATE_KEY_SECONDS), and a click that reaches
    the flush late (another web process pushed it later) cannot push out one already
    counted. 0 or less turns the rate off.
    """
    limit = settings.CLICK_RATE_PER_IP_MINUTE
    rated = sorted((c for c in clicks if not c.discard and c.source), key=lambda c: (c.at, c.id.hex))
    if limit <= 0 or not rated:
        return clicks
    keys = [f"{KEY_PREFIX}rate:{c.source}:{int(c.at.timestamp()) // 60}" for c in rated]
    places = r.register_script(_RANK)(keys=keys, args=[RATE_KEY_SECONDS, *(c.id.hex for c in rated)])
    over = {c.id for c, place in zip(rated, places, strict=True) if place >= limit}
    if not over:
        return clicks
    return [dataclasses.replace(c, discard=ClickDiscardReason.RATE) if c.id in over else c for c in clicks]


def write_clicks(clicks: list[BufferedClick]) -> FlushOutcome:
    """Insert the clicks not yet recorded and add them to the daily rollups, in one transaction.

    Idempotent by click id; decides `is_unique`; drops clicks of deliveries deleted since
    (counted as skipped). A click on a delivery that is not posted (`DELIVERY_POSTED`: in
    review, cancelled, failed...) or that came marked (bot, over the rate) is written with its
    `discard_reason` and added to `DailyClickDiscard`, not to the rollups, and is never
    unique. Raises the database's error with nothing written.
    """
    outcome = FlushOutcome()
    if not clicks:
        return outcome
    with transaction.atomic():
        with all_organizations_cursor() as cursor:  # one flush at a time, whatever the organizations
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        by_id = {c.id: c for c in clicks}
        # Tenant-owned rows of many organizations at once, on purpose: a system flush.
        # By day too: the clicks are partitioned by month of `day`, so only the batch's months are read.
        existing = set(
            Click.objects.all_organizations()
            .filter(id__in=by_id, day__in={c.day for c in clicks})
            .values_list("id", flat=True)
        )
        fresh = [c for c in by_id.values() if c.id not in existing]
        live = dict(
            Delivery.objects.all_organizations()
            .filter(pk__in={c.delivery_id for c in fresh})
            .values_list("pk", "status")
        )
        outcome.skipped = sum(1 for c in fresh if c.delivery_id not in live)
        fresh = sorted((c for c in fresh if c.delivery_id in live), key=lambda c: (c.at, c.id.hex))
        if not fresh:
            return outcome
        seen = set(
            Click.objects.all_organizations()
            .filter(
                is_unique=True,
                visitor__in={c.visitor for c in fresh},
                delivery_id__in={c.delivery_id for c in fresh},
                day__in={c.day for c in fresh},
            )
            .values_list("delivery_id", "day", "visitor")
        )
        rows = []
        totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        discards: dict[tuple, int] = defaultdict(int)
        for c in fresh:
            reason = _discard_reason(c, live[c.delivery_id])
            visit = (c.delivery_id, c.day, c.visitor)
            unique = not reason and visit not in seen
            if not reason:
                seen.add(visit)
            rows.append(
                Click(
                    id=c.id,
                    organization_id=c.organization_id,
                    delivery_id=c.delivery_id,
                    at=c.at,
                    day=c.day,
                    visitor=c.visitor,
                    is_unique=unique,
                    network=c.network,
                    item_id=c.item_id,
                    team_key=c.team_key,
                    discard_reason=reason,
                )
            )
            if reason:
                discards[(c.organization_id, c.day, reason)] += 1
                continue
            total = totals[(c.organization_id, c.day, c.team_key, c.network, c.item_id)]
            total[0] += 1
            total[1] += unique
        Click.objects.bulk_create(rows, batch_size=1000)
        for (org_id, day, team_key, network, item_id), (n, u) in sorted(totals.items()):
            rollups.add(
                organization_id=org_id,
                day=day,
                team_key=team_key,
                network=network,
                item_id=item_id,
                clicks=n,
                unique_clicks=u,
            )
        for (org_id, day, reason), n in sorted(discards.items()):
            _add_discards(organization_id=org_id, day=day, reason=reason, clicks=n)
        outcome.discarded = sum(discards.values())
        outcome.clicks = len(rows) - outcome.discarded
        outcome.unique_clicks = sum(u for _, u in totals.values())
    return outcome


def _discard_reason(click: BufferedClick, delivery_status: str) -> str:
    """Why `click` is not counted ("" when it is): a bot first, then a delivery that is not
    posted, then the per-address rate."""
    if click.discard == ClickDiscardReason.BOT:
        return ClickDiscardReason.BOT
    if delivery_status not in DELIVERY_POSTED:
        return ClickDiscardReason.NOT_PUBLISHED
    return click.discard


def _add_discards(*, organization_id: int, day: date, reason: str, clicks: int) -> None:
    # Under the flush's advisory lock (PostgreSQL) or the local write lock: no concurrent adder.
    rows = DailyClickDiscard.objects.all_organizations().filter(organization_id=organization_id, day=day, reason=reason)
    if not rows.update(clicks=F("clicks") + clicks):
        DailyClickDiscard.objects.create(organization_id=organization_id, day=day, reason=reason, clicks=clicks)
    report_version.bump(organization_id)


def buffered_count() -> int:
    """Clicks not yet in PostgreSQL: this process's hand-off plus Redis (queue and pending
    batches), for health pages and tests."""
    if not settings.REDIS_URL:
        return 0
    r = _redis()
    pending = [b.decode() for b in r.smembers(PENDING)]
    pipe = r.pipeline(transaction=False)
    pipe.llen(QUEUE)
    for batch_id in pending:
        pipe.llen(_batch_key(batch_id))
    return len(_handoff) + sum(pipe.execute())

"""The emulator's whole memory: apps, accounts, codes, tokens, posts, faults, clock.

One `State` object per server, guarded by one re-entrant lock (`state.lock`); the
server holds it around every request, so handlers never race. Times are floats
(Unix seconds) on the emulator clock, which is the wall clock plus an offset that
only moves forward (`advance`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import pickle
import random
import secrets
import string
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

NETWORKS = ("linkedin", "x", "facebook")
FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "forbidden",
    "slow",
    "lost_response",
    "revoked",
    "duplicate",
    "expire_token",
)
FAULT_ALIASES = {"lost": "lost_response"}  # another name accepted for a kind; stored as the kind
FACEBOOK_THROTTLE_CODES = (4, 17, 32, 613)
ALL_PAGE_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"]

_ALNUM = string.ascii_letters + string.digits
_rng = random.Random()


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def words(text: str) -> frozenset[str]:
    """A set of names from a space-separated string (compact tables of scopes and fields)."""
    return frozenset(text.split())


def random_alnum(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def random_digits(n: int) -> str:
    return str(_rng.randint(1, 9)) + "".join(str(_rng.randint(0, 9)) for _ in range(n - 1))


@dataclass
class App:
    network: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    partner: bool = False
    scopes: list[str] | None = None  # granted-scope override; None = the network's default
    consumer_key: str = ""  # X's API Key and Secret: they buy the app-only bearer token
    consumer_secret: str = ""


@dataclass
class Page:
    id: str
    name: str
    tasks: list[str]
    category: str = "Company"


@dataclass
class Account:
    network: str
    id: str
    name: str
    username: str
    email: str
    picture: str
    created_at: float
    pages: list[Page] = field(default_factory=list)

    @property
    def given_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def family_name(self) -> str:
        return self.name.split(" ", 1)[1] if " " in self.name else ""


@dataclass
class Code:
    value: str
    network: str
    client_id: str
    redirect_uri: str
    account_id: str
    scopes: list[str]
    expires_at: float
    code_challenge: str | None = None
    used: bool = False


@dataclass
class Token:
    value: str
    network: str
    kind: str  # "access" | "refresh"
    client_id: str
    account_id: str
    scopes: list[str]
    issued_at: float
    expires_at: float | None  # None = does not expire
    page_id: str | None = None  # Facebook Page token
    long_lived: bool = False  # Facebook user token after fb_exchange_token
    revoked: bool = False
    spent: bool = False  # X refresh tokens are single-use
    app_only: bool = False  # X's OAuth 2.0 App-Only bearer token: no user behind it

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass
class Post:
    network: str
    id: str
    author: str  # LinkedIn member sub, X user id, Facebook Page id
    account_id: str
    text: str  # as the network shows it (LinkedIn: little text rendered)
    link: str | None
    created_at: float
    client_id: str
    raw: str = ""  # as sent (LinkedIn commentary, Facebook message)
    publish_at: float | None = None  # Facebook scheduled posts
    deleted: bool = False
    deleted_at: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Fault:
    id: int
    network: str
    kind: str
    account_id: str | None = None
    times: int = 1
    path: str | None = None
    method: str | None = None
    reset_in: float = 900.0
    delay: float = 5.0
    code: int = 4


def post_metrics(post: Post, now: float) -> dict[str, int]:
    """Counts that grow with the post's age on the emulator clock, deterministic per post id.

    Each is a non-decreasing function of the age in whole minutes: an `advance` of the
    clock always shows numbers at least as big, and two quick reads agree.
    """
    start = post.publish_at or post.created_at
    minutes = max(0, int((now - start) // 60))
    seed = int(hashlib.sha256(f"{post.network}:{post.id}".encode()).hexdigest()[:12], 16)
    peak = 300 + seed % 9700
    tau_hours = 2 + (seed >> 14) % 22
    impressions = int(peak * (1 - math.exp(-minutes / 60 / tau_hours)))
    likes = impressions // (25 + (seed >> 20) % 30)
    comments = likes // (4 + (seed >> 26) % 8)
    reposts = likes // (6 + (seed >> 30) % 10)
    return {
        "impressions": impressions,
        "reach": impressions * (55 + (seed >> 34) % 30) // 100,
        "likes": likes,
        "comments": comments,
        "top_level_comments": comments - comments // 5,
        "reposts": reposts,
        "quotes": reposts // 4,
        "bookmarks": likes // 6,
        "clicks": impressions // (40 + (seed >> 38) % 40),
    }


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.offset = 0.0
            self.apps: dict[tuple[str, str], App] = {}
            self.accounts: dict[tuple[str, str], Account] = {}
            self.codes: dict[str, Code] = {}
            self.tokens: dict[str, Token] = {}
            self.posts: dict[tuple[str, str], Post] = {}
            self._by_author: dict[tuple[str, str], list[Post]] = defaultdict(list)  # see posts_by
            self.faults: list[Fault] = []
            self.auto_approve: dict[str, dict] = {}
            self.settings: dict = {"rate_limits": True}
            self.windows: dict[tuple, list] = {}  # key -> [window start, count]
            self.shares: list[dict] = []
            self.media: dict[tuple[str, str], object] = {}  # networks.emulator.media.Media
            self.upload_urls: dict[str, object] = {}  # LinkedIn upload URL token -> UploadUrl
            self.counters: dict[str, Counter] = defaultdict(Counter)
            self._fault_seq = 0
            self._snowflake_seq = 0
            self.in_flight = 0  # API calls being answered now (see `call`)
            self.most_in_flight = 0
            self.call_seconds = 0.0

    # --- a memory across restarts (`run_network_emulator --state-file`) -----------------

    def dump(self) -> bytes:
        """Everything the emulator knows (apps, accounts, tokens, posts, clock offset...),
        as bytes `load` takes back: a network does not forget its members' posts and
        tokens when our development server restarts."""
        with self.lock:
            kept = {name: value for name, value in vars(self).items() if name not in ("lock", "_by_author")}
            return pickle.dumps(kept)

    def load(self, data: bytes) -> None:
        """Take back what `dump` gave. Only for a file this emulator wrote itself (under
        the project's var/): unpickling runs code named by the file."""
        with self.lock:
            vars(self).update(pickle.loads(data))  # noqa: S301 (our own state file, see above)
            self._by_author = defaultdict(list)
            for post in self.posts.values():
                self._by_author[(post.network, post.author)].append(post)

    # --- clock -------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    # --- apps and accounts -------------------------------------------------------------

    def add_app(self, data: dict) -> App:
        network = _network(data)
        client_id = data.get("client_id")
        secret = data.get("client_secret") or ""
        uris = data.get("redirect_uris")
        scopes = data.get("scopes")
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client_id is required")
        if not isinstance(secret, str) or (not secret and network != "x"):
            raise ValueError("client_secret is required (only X apps may be public clients)")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) and "://" in u for u in uris):
            raise ValueError("redirect_uris must be a non-empty list of absolute URLs")
        if scopes is not None and not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
            raise ValueError("scopes must be a list of strings")
        consumer = (data.get("consumer_key") or "", data.get("consumer_secret") or "")
        if not all(isinstance(v, str) for v in consumer):
            raise ValueError("consumer_key and consumer_secret must be strings")
        app = App(network, client_id, secret, list(uris), bool(data.get("partner", False)), scopes, *consumer)
        self.apps[(network, client_id)] = app
        return app

    def app(self, network: str, client_id: str | None) -> App | None:
        return self.apps.get((network, client_id or ""))

    def app_by_consumer_key(self, network: str, key: str | None) -> App | None:
        return next((a for a in self.apps.values() if a.network == network and key and a.consumer_key == key), None)

    def add_account(self, data: dict) -> Account:
        network = _network(data)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("name is required")
        account_id = data.get("id") or self._new_account_id(network)
        if not isinstance(account_id, str):
            raise ValueError("id must be a string")
        if network != "linkedin" and not account_id.isdigit():
            raise ValueError(f"{network} account ids are numeric strings")
        if (network, account_id) in self.accounts:
            raise KeyError(f"{network} account {account_id} already exists")
        slug = "".join(c for c in name.lower() if c.isalnum()) or "member"
        pages_data = data.get("pages") or []
        if pages_data and network != "facebook":
            raise ValueError("only Facebook accounts manage pages")
        pages = []
        for p in pages_data:
            if not isinstance(p, dict) or not p.get("name"):
                raise ValueError("each page needs a name")
            page_id = str(p.get("id") or random_digits(15))
            if not page_id.isdigit() or self.page(page_id)[0] is not None:
                raise ValueError(f"page id {page_id} is not numeric or already used")
            tasks = p.get("tasks", ALL_PAGE_TASKS)
            pages.append(Page(page_id, p["name"], list(tasks), p.get("category") or "Company"))
        account = Account(
            network=network,
            id=account_id,
            name=name.strip(),
            username=data.get("username") or slug[:15],
            email=data.get("email") or f"{slug}@example.com",
            picture=f"https://media.example.com/{network}/{account_id}.jpg",
            created_at=self.now(),
            pages=pages,
        )
        self.accounts[(network, account_id)] = account
        return account

    def account(self, network: str, account_id: str | None) -> Account | None:
        return self.accounts.get((network, account_id or ""))

    def network_accounts(self, network: str) -> list[Account]:
        return [a for (n, _), a in self.accounts.items() if n == network]

    def page(self, page_id: str) -> tuple[Account, Page] | tuple[None, None]:
        for account in self.network_accounts("facebook"):
            for page in account.pages:
                if page.id == page_id:
                    return account, page
        return None, None

    def _new_account_id(self, network: str) -> str:
        while True:
            candidate = random_alnum(10) if network == "linkedin" else random_digits(18 if network == "x" else 15)
            if (network, candidate) not in self.accounts:
                return candidate

    # --- codes and tokens --------------------------------------------------------------

    def issue_code(self, network: str, prefix: str, **fields) -> Code:
        code = Code(value=prefix + secrets.token_urlsafe(48), network=network, expires_at=self.now() + 600, **fields)
        self.codes[code.value] = code
        return code

    def issue_token(self, network: str, kind: str, value: str, *, lifetime: float | None, **fields) -> Token:
        now = self.now()
        token = Token(
            value=value,
            network=network,
            kind=kind,
            issued_at=now,
            expires_at=None if lifetime is None else now + lifetime,
            **fields,
        )
        self.tokens[value] = token
        self.counters[network][f"tokens_issued.{kind}"] += 1
        return token

    def token(self, network: str, value: str | None, kind: str = "access") -> Token | None:
        token = self.tokens.get(value or "")
        return token if token and token.network == network and token.kind == kind else None

    def revoke_account(self, network: str, account_id: str) -> None:
        """Every token of the account, Facebook Page tokens obtained through it included (a
        password change invalidates them all: 190/460)."""
        for token in self.tokens.values():
            if token.network == network and token.account_id == account_id:
                token.revoked = True

    def expire_account(self, network: str, account_id: str) -> None:
        """The account's access tokens expire now. A Facebook Page token that never expires
        (obtained with a long-lived user token) outlives its user token, as Graph documents;
        one obtained with a short-lived token expires with it. `account_id` may name a
        Facebook Page instead: then that Page's tokens alone expire."""
        now = self.now()
        for token in self.tokens.values():
            if token.network != network or token.kind != "access" or token.expired(now):
                continue
            of_page = token.page_id == account_id
            of_user = token.account_id == account_id and not (token.page_id and token.expires_at is None)
            if of_page or of_user:
                token.expires_at = now - 1

    # --- calls in flight ----------------------------------------------------------------

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """Count an API call while it is answered: `most_in_flight` is the most answered at
        once, and `call_seconds` the time they took together, since the last
        `forget_in_flight`: how a test or the bench sees how many calls a worker really keeps
        in flight (at most, and on average: call seconds / elapsed seconds)."""
        started = time.monotonic()
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1
                self.call_seconds += time.monotonic() - started

    def forget_in_flight(self) -> None:
        with self.lock:
            self.most_in_flight, self.call_seconds = self.in_flight, 0.0

    # --- posts -------------------------------------------------------------------------

    def add_post(self, post: Post) -> Post:
        earlier = self.posts.get((post.network, post.id))
        if earlier is not None:
            self._by_author[(earlier.network, earlier.author)].remove(earlier)
        self.posts[(post.network, post.id)] = post
        self._by_author[(post.network, post.author)].append(post)
        self.counters[post.network]["posts_created"] += 1
        return post

    def post(self, network: str, post_id: str) -> Post | None:
        return self.posts.get((network, post_id))

    def posts_by(self, network: str, author: str) -> list[Post]:
        """The author's posts, newest first (deleted ones included). From an index by author:
        every publish reads them (the networks' duplicate checks), under the lock, and a
        scan of every post of every account made each call slower than the one before (the
        publishing bench leaves some 7,500 posts in one emulator)."""
        return sorted(self._by_author.get((network, author), ()), key=lambda p: p.created_at, reverse=True)

    def snowflake(self) -> str:
        """An X-like id: milliseconds since the Twitter epoch, shifted, plus a sequence."""
        self._snowflake_seq = (self._snowflake_seq + 1) % 4096
        return str(((int(self.now() * 1000) - 1288834974657) << 22) | self._snowflake_seq)

    # --- faults ------------------------------------------------------------------------

    def add_fault(self, data: dict) -> Fault:
        network = _network(data)
        kind = data.get("kind")
        kind = FAULT_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS + tuple(FAULT_ALIASES))}")
        times = data.get("times", 1)
        if not isinstance(times, int) or times < 1:
            raise ValueError("times must be a positive integer")
        code = data.get("code", 4)
        if network == "facebook" and code not in FACEBOOK_THROTTLE_CODES:
            raise ValueError("code must be one of 4, 17, 32, 613")
        for key in ("reset_in", "delay"):
            if key in data and (not isinstance(data[key], int | float) or data[key] < 0):
                raise ValueError(f"{key} must be a non-negative number of seconds")
        self._fault_seq += 1
        fault = Fault(
            id=self._fault_seq,
            network=network,
            kind=kind,
            account_id=data.get("account_id"),
            times=times,
            path=data.get("path") or None,
            method=(data.get("method") or "").upper() or None,
            reset_in=float(data.get("reset_in", 900)),
            delay=float(data.get("delay", 5)),
            code=code,
        )
        self.faults.append(fault)
        return fault

    def take_fault(
        self, network: str, path: str, method: str, account_ids: list[str], *, api: bool, kinds: tuple[str, ...]
    ) -> Fault | None:
        """The first pending fault matching this call, consumed once. Faults without a
        `path` fire on API calls only; OAuth token endpoints need an explicit `path`."""
        for fault in self.faults:
            if fault.network != network or fault.kind not in kinds:
                continue
            if fault.path is None and not api:
                continue
            if fault.path is not None and fault.path not in path:
                continue
            if fault.method and fault.method != method:
                continue
            if fault.account_id and fault.account_id not in account_ids:
                continue
            if fault.kind in ("revoked", "expire_token") and not (fault.account_id or account_ids):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            self.counters[network][f"faults_fired.{fault.kind}"] += 1
            return fault
        return None

    # --- rate-limit windows ------------------------------------------------------------

    def hit(self, key: tuple, limit: int, period: float, *, anchor: float | None = None) -> tuple[bool, int, float]:
        """Count one call in a fixed window; returns (allowed, remaining, reset time).
        The window opens at the first call (or at `anchor`, e.g. midnight) and lasts `period`."""
        now = self.now()
        start = anchor if anchor is not None else now
        window = self.windows.get(key)
        if window is None or now >= window[0] + period:
            window = self.windows[key] = [start, 0]
        reset = window[0] + period
        if not self.settings.get("rate_limits", True):
            return True, limit, reset
        if window[1] >= limit:
            return False, 0, reset
        window[1] += 1
        return True, limit - window[1], reset

    # --- bookkeeping -------------------------------------------------------------------

    def count(self, network: str, name: str) -> None:
        self.counters[network][name] += 1

    def snapshot(self) -> dict:
        now = self.now()
        tokens = []
        for t in self.tokens.values():
            item = asdict(t)
            item.update(
                token=item.pop("value"),
                issued_at=iso(t.issued_at),
                expires_at=iso(t.expires_at),
                expired=t.expired(now),
            )
            tokens.append(item)
        posts = []
        for p in self.posts.values():
            item = asdict(p)
            item.update(
                created_at=iso(p.created_at),
                publish_at=iso(p.publish_at),
                deleted_at=iso(p.deleted_at),
                metrics=None if p.deleted else post_metrics(p, now),
            )
            posts.append(item)
        accounts = []
        for a in self.accounts.values():
            item = asdict(a)
            item.update(created_at=iso(a.created_at), given_name=a.given_name, family_name=a.family_name)
            accounts.append(item)
        return {
            "now": iso(now),
            "clock_offset": self.offset,
            "apps": [asdict(a) for a in self.apps.values()],
            "accounts": accounts,
            "codes": [dict(asdict(c), expires_at=iso(c.expires_at)) for c in self.codes.values()],
            "tokens": tokens,
            "posts": posts,
            "faults": [asdict(f) for f in self.faults],
            "auto_approve": self.auto_approve,
            "settings": self.settings,
            "shares": self.shares,
            "media": [
                {
                    **{k: v for k, v in asdict(m).items() if k != "segments"},
                    "segments": len(m.segments),
                    "created_at": iso(m.created_at),
                    "expires_at": iso(m.expires_at),
                    "expired": _gone(m, now),
                }
                for m in self.media.values()
            ],
            "counters": {n: dict(self.counters[n]) for n in NETWORKS},
        }


def _gone(media, now: float) -> bool:
    return media.expires_at is not None and media.expires_at <= now


def _network(data: dict) -> str:
    network = data.get("network")
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}")
    return network

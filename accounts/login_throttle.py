"""Failed-login delays per account and source, instead of a hard lock (issue 15, info item).

Five wrong passwords used to lock an account for five minutes wherever they came from, so
anyone could lock anyone out. Now, kept in the Django cache (Redis in production):

* Per account and source. A source is the client's address, IPv4 whole or IPv6 by its /64
  (`advocacy.addresses`). Its first LOGIN_DELAY_FREE_ATTEMPTS failures cost nothing; then
  the next attempt must wait LOGIN_DELAY_FIRST_SECONDS, doubling with every further failure
  up to LOGIN_DELAY_MAX_SECONDS (`delay_after`). A source forgets its failures
  LOGIN_DELAY_FORGET_SECONDS after the last one; a right password clears them at once.
  Other sources are not slowed: the owner at another address signs in normally.
* Per account, from all sources. Once LOGIN_ACCOUNT_FAILURES_PER_HOUR failures fall within
  the last hour, every source waits until the oldest of them is an hour old, so a guesser
  spread over many addresses gets that many guesses an hour. A fixed wait (at most an hour)
  rather than a growing one, because this wait falls on the owner too: a growing one would
  let whoever rents enough addresses lock the owner out for longer and longer. One source
  alone cannot reach the cap (the delays above allow it `failures_within(3600)` failures an
  hour, 15 with the defaults; `accounts.checks` warns when the settings allow more).
* A new password (reset by e-mail, or change) clears both for the account: the owner has
  proved control (`forget_account`).

An attempt made while waiting is refused before the password is checked and changes
nothing, so it does not lengthen the wait. An allowed attempt is counted as a failure when
it starts, as allauth counts its own limits, and a right password takes it back: requests
sent in parallel cannot slip in extra guesses while the first one is being checked. Each
read-decide-write runs under a short cache lock per account; a request that finds the lock
taken is refused as busy rather than made to wait.

Accounts are keyed on the login as typed (lowercased and hashed, never stored in clear),
not on the user, so an unknown address is slowed exactly like a known one and the delays
reveal nothing. Time comes from `time.time()` unless a caller passes `now`.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext, ngettext_lazy

from advocacy.addresses import address_network
from advocacy.errors import ApplicationError

HOUR = 3600
# What a refused attempt is told, and the unit its wait is counted in.
SOURCE_WAITS = (
    ngettext_lazy(
        "Too many wrong passwords from here. Try again in %(count)d second.",
        "Too many wrong passwords from here. Try again in %(count)d seconds.",
        "count",
    ),
    1,
)
ACCOUNT_WAITS = (
    ngettext_lazy(
        "Too many wrong passwords for this account. Try again in %(count)d minute, or reset your password.",
        "Too many wrong passwords for this account. Try again in %(count)d minutes, or reset your password.",
        "count",
    ),
    60,
)
# Held only around a few cache reads and writes, never while a password is checked.
LOCK_SECONDS = 5


class LoginDelayed(ApplicationError):
    """This login may not be tried now; `seconds` says for how long (0 when merely busy)."""

    code = "login_delayed"
    status = 429

    def __init__(self, message: str, *, seconds: int):
        super().__init__(message)
        self.seconds = seconds


@dataclass(frozen=True)
class Attempt:
    """A login attempt that was let through and already counted as a failure."""

    account_key: str
    pair_key: str
    started: float
    pair_before: dict | None


def delay_after(failures: int) -> int:
    """Seconds the next attempt must wait after `failures` failures from one source."""
    free = settings.LOGIN_DELAY_FREE_ATTEMPTS
    if failures < free:
        return 0
    doublings = min(failures - free, 64)  # beyond that the cap has long been reached
    return min(settings.LOGIN_DELAY_FIRST_SECONDS * 2**doublings, settings.LOGIN_DELAY_MAX_SECONDS)


def failures_within(seconds: int) -> int:
    """The most failures one source can make in `seconds`, starting with a clean slate."""
    failures, elapsed = 0, 0
    while True:
        failures += 1
        elapsed += delay_after(failures)
        if elapsed > seconds or failures > 10_000:
            return failures


def begin_attempt(*, login: str, ip: str, now: float | None = None) -> Attempt:
    """Let an attempt to sign in as `login` from `ip` through, counting it as a failure.

    Raises LoginDelayed, changing nothing, while this source or the whole account must
    wait, or while another attempt at this account is being counted this very moment.
    Follow with `attempt_succeeded` on a right password, or `withdraw_attempt` when the
    attempt is stopped for another reason before its password is checked.
    """
    now = time.time() if now is None else now
    account_key = _account_key(login)
    with _lock(account_key) as locked:
        if not locked:
            busy = gettext("Another sign-in to this account is being checked. Try again in a moment.")
            raise LoginDelayed(busy, seconds=0)
        account, pair_key, pair = _state(account_key, ip, now)
        delayed = _delay(account, pair, now)
        if delayed:
            raise delayed
        failures = (pair["failures"] if pair else 0) + 1
        account["failures"].append(now)
        cache.set_many(
            {
                pair_key: {"failures": failures, "until": now + delay_after(failures), "last": now},
                account_key: account,
            },
            timeout=_keep_seconds(),
        )
    return Attempt(account_key=account_key, pair_key=pair_key, started=now, pair_before=pair)


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: clear this source's failures and take back the attempt."""
    cache.delete(attempt.pair_key)
    _take_back(attempt)


def withdraw_attempt(attempt: Attempt) -> None:
    """The attempt was stopped before its password was checked: as if it never started."""
    with _lock(attempt.account_key) as locked:
        if locked:
            pair = cache.get(attempt.pair_key)
            if pair and pair.get("last") == attempt.started:
                if attempt.pair_before:
                    cache.set(attempt.pair_key, attempt.pair_before, timeout=_keep_seconds())
                else:
                    cache.delete(attempt.pair_key)
    _take_back(attempt)


def forget_account(*, login: str) -> None:
    """Clear every delay of the account signed in as `login`, from every source."""
    # A new epoch orphans the pairs of the old one; they expire on their own.
    cache.set(_account_key(login), {"epoch": secrets.token_hex(8), "failures": []}, timeout=_keep_seconds())


def remaining_wait(*, login: str, ip: str, now: float | None = None) -> int:
    """Seconds an attempt as `login` from `ip` would have to wait now (0: it may go)."""
    now = time.time() if now is None else now
    account, _pair_key, pair = _state(_account_key(login), ip, now)
    delayed = _delay(account, pair, now)
    return delayed.seconds if delayed else 0


def _delay(account: dict, pair: dict | None, now: float) -> LoginDelayed | None:
    """Why an attempt must wait now: this source's delay first, then the account's cap."""
    if pair and now < pair["until"]:
        return _delayed(SOURCE_WAITS, math.ceil(pair["until"] - now))
    cap, recent = settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR, account["failures"]
    if cap and len(recent) >= cap:
        # Until enough of the hour's failures are an hour old to bring them under the cap.
        return _delayed(ACCOUNT_WAITS, math.ceil(recent[len(recent) - cap] + HOUR - now))
    return None


def _delayed(words: tuple, seconds: int) -> LoginDelayed:
    message, unit_seconds = words
    return LoginDelayed(message % {"count": math.ceil(seconds / unit_seconds)}, seconds=seconds)


def _take_back(attempt: Attempt) -> None:
    # Best effort: if the lock is taken, the attempt stays counted, which only errs on the
    # cautious side by one failure in the account's hour.
    with _lock(attempt.account_key) as locked:
        if locked:
            account = cache.get(attempt.account_key)
            if account and attempt.started in account["failures"]:
                account["failures"].remove(attempt.started)
                cache.set(attempt.account_key, account, timeout=_keep_seconds())


def _state(account_key: str, ip: str, now: float) -> tuple[dict, str, dict | None]:
    """The account's failures of the last hour, and this source's key and failures unless
    they were forgotten (the cache's own expiry is only a backstop)."""
    account = cache.get(account_key) or {"epoch": secrets.token_hex(8), "failures": []}
    account["failures"] = sorted(t for t in account["failures"] if t > now - HOUR)
    pair_key = f"{account_key}:{account['epoch']}:{_digest(address_network(ip))}"
    pair = cache.get(pair_key)
    if pair and now - pair["last"] >= settings.LOGIN_DELAY_FORGET_SECONDS:
        pair = None
    return account, pair_key, pair


def _keep_seconds() -> int:
    # The account entry outlives its sources' entries (it carries their epoch) and its hour.
    return max(settings.LOGIN_DELAY_FORGET_SECONDS, settings.LOGIN_DELAY_MAX_SECONDS, HOUR) + 60


def _account_key(login: str) -> str:
    return f"login-delay:{_digest(login.strip().lower())}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@contextmanager
def _lock(account_key: str) -> Iterator[bool]:
    key = f"{account_key}:lock"
    held = cache.add(key, 1, timeout=LOCK_SECONDS)
    try:
        yield held
    finally:
        if held:
            cache.delete(key)

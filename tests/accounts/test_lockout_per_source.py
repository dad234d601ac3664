"""Wrong passwords slow the source that gave them, progressively, instead of locking the
account for everyone; many sources together hit a per-account cap (issue 15, info item)."""

import pytest
import time_machine
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse

from accounts import login_throttle
from tests.accounts.factories import PASSWORD, UserFactory
from tests.helpers import reset_password_by_mail

pytestmark = pytest.mark.django_db

ANA = "ana@example.com"
WRONG = "wrong-guess-1"
SOURCE_WAITS = b"Too many wrong passwords from here. Try again in"
ACCOUNT_WAITS = b"Too many wrong passwords for this account."


@pytest.fixture
def clock():
    """Time stands still unless a test moves it (`clock.shift(seconds)`)."""
    with time_machine.travel("2026-03-02 09:00Z", tick=False) as traveller:
        yield traveller


def log_in(ip: str, password: str, email: str = ANA):
    """One login attempt from `ip` with a fresh browser: (client, response)."""
    client = Client(REMOTE_ADDR=ip)
    return client, client.post(reverse("account_login"), {"login": email, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def signs_in(ip: str, password: str = PASSWORD, email: str = ANA) -> bool:
    """Whether the right password from `ip` signs in."""
    client, response = log_in(ip, password, email)
    return response.status_code == 302 and signed_in(client)


def refusal(ip: str, email: str = ANA) -> bytes:
    """The page shown when even the right password from `ip` does not sign in."""
    client, response = log_in(ip, PASSWORD, email)
    assert response.status_code == 200 and not signed_in(client)
    return response.content


def fail(clock, ip: str, times: int, email: str = ANA) -> None:
    """`times` wrong passwords from `ip`, each after waiting out the delay it has to wait."""
    for _ in range(times):
        clock.shift(login_throttle.remaining_wait(login=email, ip=ip))
        _, response = log_in(ip, WRONG, email)
        assert b"not correct" in response.content, response.content


def test_the_schedule_is_free_then_doubles_up_to_the_cap():
    assert [login_throttle.delay_after(n) for n in range(16)] == [
        *(0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        *(900, 900, 900),
    ]


def test_wrong_passwords_from_one_address_make_it_wait_but_not_another(clock):
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 3)
    assert b"Too many wrong passwords from here. Try again in 1 second." in refusal("203.0.113.7")
    assert signs_in("198.51.100.9")


def test_the_wait_doubles_with_each_failure_up_to_the_maximum(clock, settings):
    settings.LOGIN_DELAY_MAX_SECONDS = 4
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 2)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 0
    waits = []
    for _ in range(4):
        fail(clock, "203.0.113.7", 1)
        waits.append(login_throttle.remaining_wait(login=ANA, ip="203.0.113.7"))
    assert waits == [1, 2, 4, 4]


def test_during_the_wait_the_right_password_is_refused_unchecked_and_changes_nothing(clock):
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 4)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 2
    clock.shift(1)
    for _ in range(3):
        assert b"Too many wrong passwords from here. Try again in 1 second." in refusal("203.0.113.7")
    # Neither counted as failures nor as a right password: the wait is as it was.
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 1
    clock.shift(1)
    fail(clock, "203.0.113.7", 1)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 4  # the 5th failure, not the 8th


def test_after_the_wait_the_right_password_signs_in_and_clears_the_source(clock):
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 5)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 4
    clock.shift(4)
    assert signs_in("203.0.113.7")
    fail(clock, "203.0.113.7", 2)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 0  # free attempts again


def test_a_source_forgets_its_failures_a_while_after_the_last(clock, settings):
    settings.LOGIN_DELAY_FORGET_SECONDS = 600
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 3)
    clock.shift(599)
    fail(clock, "203.0.113.7", 1)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 2
    clock.shift(600)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 0
    fail(clock, "203.0.113.7", 2)
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 0


def test_an_unknown_address_is_slowed_alike(clock):
    fail(clock, "203.0.113.7", 3, email="nobody@example.com")
    _, response = log_in("203.0.113.7", WRONG, email="nobody@example.com")
    assert b"Too many wrong passwords from here. Try again in 1 second." in response.content


def test_ipv6_addresses_in_one_slash_64_share_a_count_and_another_64_does_not(clock):
    UserFactory(email=ANA)
    fail(clock, "2001:db8:1:2::1", 2)
    fail(clock, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", 1)
    assert SOURCE_WAITS in refusal("2001:db8:1:2::99")
    assert signs_in("2001:db8:1:3::1")


def test_many_addresses_together_make_the_account_wait_everywhere(clock, settings):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 6
    UserFactory(email=ANA)
    for n in range(6):
        fail(clock, f"203.0.113.{n + 1}", 1)
        clock.shift(60)
    page = refusal("198.51.100.9")
    assert ACCOUNT_WAITS in page and b"Try again in 54 minutes, or reset your password." in page
    # Until the oldest of the hour's failures is an hour old: then one more guess is let through.
    assert login_throttle.remaining_wait(login=ANA, ip="198.51.100.9") == 3600 - 6 * 60
    clock.shift(3600 - 6 * 60)
    assert signs_in("198.51.100.9")


def test_right_passwords_do_not_count_towards_the_account_cap(clock, settings):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 2
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 1)
    for _ in range(3):
        assert signs_in("198.51.100.9")


def test_one_address_alone_cannot_reach_the_account_cap(clock):
    UserFactory(email=ANA)
    one_source = login_throttle.failures_within(login_throttle.HOUR)
    assert one_source == 15 < 50  # the defaults
    fail(clock, "203.0.113.7", one_source)
    assert signs_in("198.51.100.9")


def test_an_attempt_counts_before_its_password_is_checked(clock):
    """Requests sent in parallel cannot slip extra guesses in while the first is checked."""
    for _ in range(3):
        login_throttle.begin_attempt(login=ANA, ip="203.0.113.7")
    with pytest.raises(login_throttle.LoginDelayed) as refused:
        login_throttle.begin_attempt(login=ANA, ip="203.0.113.7")
    assert refused.value.seconds == 1


def test_an_attempt_while_another_is_being_counted_is_refused_as_busy_and_not_counted(clock):
    with (
        login_throttle._lock(login_throttle._account_key(ANA)),
        pytest.raises(login_throttle.LoginDelayed) as refused,
    ):
        login_throttle.begin_attempt(login=ANA, ip="203.0.113.7")
    assert refused.value.seconds == 0 and "Try again in a moment" in refused.value.message
    for _ in range(3):
        login_throttle.begin_attempt(login=ANA, ip="203.0.113.7")  # the three free ones are intact


def test_an_attempt_stopped_by_the_per_address_limit_is_not_counted(clock, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "1/5m/ip"}
    settings.LOGIN_DELAY_FREE_ATTEMPTS = 1
    UserFactory(email=ANA)
    UserFactory(email="bob@example.com")
    fail(clock, "203.0.113.7", 1)
    _, response = log_in("203.0.113.7", WRONG, email="bob@example.com")
    assert b"Too many failed login attempts" in response.content  # allauth's limit per address
    assert login_throttle.remaining_wait(login="bob@example.com", ip="203.0.113.7") == 0


def test_a_password_reset_by_mail_clears_the_accounts_delays(clock, settings):
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 6
    UserFactory(email=ANA)
    fail(clock, "203.0.113.7", 4)
    for n in range(2):
        fail(clock, f"192.0.2.{n + 1}", 1)
    assert login_throttle.remaining_wait(login=ANA, ip="198.51.100.9") > 0  # the account's cap
    reset_password_by_mail(Client(REMOTE_ADDR="198.51.100.9"), ANA, "brand-New-secret-77")
    assert login_throttle.remaining_wait(login=ANA, ip="203.0.113.7") == 0
    assert signs_in("203.0.113.7", password="brand-New-secret-77")


def test_the_admin_login_path_obeys_the_same_delays(clock):
    UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    fail(clock, "203.0.113.7", 3, email="root@example.com")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    response = attacker.post("/admin/login/?next=/admin/", {"username": "root@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not signed_in(attacker)
    response = attacker.post(response["Location"], {"login": "root@example.com", "password": PASSWORD})
    assert SOURCE_WAITS in response.content and not signed_in(attacker)
    staff = Client(REMOTE_ADDR="198.51.100.9")
    login_url = staff.get("/admin/login/?next=/admin/")["Location"]
    response = staff.post(login_url, {"login": "root@example.com", "password": PASSWORD})
    assert response.status_code == 302 and signed_in(staff)


def test_settings_that_let_one_address_lock_the_account_are_system_check_warnings(settings):
    assert not [c for c in run_checks() if c.id in ("accounts.W001", "accounts.W002")]
    settings.LOGIN_ACCOUNT_FAILURES_PER_HOUR = 15
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "20/5m/ip,5/5m/key"}
    assert sorted(c.id for c in run_checks() if c.id.startswith("accounts.W")) == ["accounts.W001", "accounts.W002"]

"""The test harness: real PostgreSQL, real Redis, a real Celery worker process.

A service that is down stops the run at once with the command that starts it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

# The publishing fixtures (`pub`, `publish_worker`) once for the whole session: imported into
# two conftests they would be two session fixtures, two workers on the same queue.
pytest_plugins = [
    "tests.emulator_fixture",
    "tests.content.publishing_setup",
    "tests.hubspot_fixture",
    "tests.slack_fixture",  # issue 22: the Slack emulator
    "tests.webpush_fixture",
    "tests.accounts.oidc_fixture",
    "tests.accounts.saml_fixture",
    "tests.accounts.plain_server",
    "tests.teams_fixture",  # issue 22: the Teams workflow webhook emulator
]

ROOT = Path(__file__).resolve().parent.parent

SERVICE_HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}


def _reachable(url: str, default_port: int) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return host, port, True
    except OSError:
        return host, port, False


def pytest_sessionstart(session):
    checks = [
        ("PostgreSQL", os.environ["DATABASE_URL"], 5432),
        ("Redis", os.environ["REDIS_URL"], 6379),
        ("Redis", os.environ["CELERY_BROKER_URL"], 6379),
    ]
    for name, url, port in checks:
        host, port, ok = _reachable(url, port)
        if not ok:
            pytest.exit(
                f"{name} is not reachable at {host}:{port}. Start it with:\n    {SERVICE_HINTS[name]}\n"
                f"or point the tests elsewhere with DATABASE_URL / REDIS_URL / CELERY_BROKER_URL.",
                returncode=3,
            )
    for url in {os.environ["REDIS_URL"], os.environ["CELERY_BROKER_URL"]}:
        _redis_database_exists(url)
    # The test database starts empty each run, so anchors of its audit chains from an earlier
    # run (same organization ids) must not linger: tests keep private files apart and fresh.
    shutil.rmtree(Path(os.environ["PRIVATE_ROOT"]) / "audit-anchors", ignore_errors=True)


def _redis_database_exists(url: str) -> None:
    """An xdist worker's derived database number (tests/parallel.py) past the server's count
    would fail every test one by one: stop at once and say why."""
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=5).ping()
    except redis.ResponseError as exc:
        pytest.exit(
            f"Redis refused {url}: {exc}. With pytest-xdist each worker takes its own databases "
            f"(tests/parallel.py): run fewer workers (-n), lower the base numbers, set TEST_REDIS_STRIDE, "
            f"or start Redis with more --databases.",
            returncode=3,
        )


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits (failed logins) live in the cache, clicks wait in this process's hand-off:
    every test starts from zero."""
    from django.core.cache import cache

    from analytics.services import clicks

    clicks.discard_handoff()
    cache.clear()
    yield


@pytest.fixture
def dns(settings):
    """A local DNS server the app asks (signup-domain TXT records): set `dns.records[name]`."""
    from integrations.dns_server import LocalDns

    server = LocalDns()
    server.start()
    settings.DNS_NAMESERVERS = [server.nameserver]
    settings.DNS_TIMEOUT = 2.0
    yield server
    server.stop()


@pytest.fixture
def mailoutbox_text(mailoutbox):
    """The bodies of e-mails sent by this process, joined, for simple assertions."""
    return lambda: "\n".join(m.body for m in mailoutbox)


# --- the real Celery worker ---------------------------------------------------------------


def _test_database_url() -> str:
    """The test database as the application's role (DATABASE_APP_ROLE), not the owner the
    test process migrated it as: the worker runs with the privileges production has."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = settings.DATABASES["default"]["NAME"]  # test_<name> once pytest-django set it up
    netloc = parts.netloc
    if settings.DATABASE_APP_ROLE:
        host = netloc.rpartition("@")[2]
        netloc = f"{settings.DATABASE_APP_ROLE}@{host}"
    return urlunsplit((parts.scheme, netloc, "/" + name, parts.query, parts.fragment))


class Worker:
    """A `celery worker` process on the test database, and the e-mails it sent."""

    def __init__(self, process: subprocess.Popen, mail_dir: Path, log_path: Path):
        self.process = process
        self.mail_dir = mail_dir
        self.log_path = log_path

    def sent_mail(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.mail_dir.glob("*.log")))

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def start_worker(node: str, args: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """A real `celery worker` named `node` with `args` (queues, pool), its output in
    `log_path`, once it answers a ping (the test fails with its log if it exits or stays
    silent for 60 s)."""
    from advocacy.celery import app

    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "advocacy", "worker", *args),
            *("--without-gossip", "--without-mingle", "-n", node, "-l", "info"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"The Celery worker exited at start:\n{log_path.read_text()[-3000:]}")
        if any(node in reply for reply in app.control.ping(timeout=0.5) or []):
            return process
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"The Celery worker did not answer a ping within 60 s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def worker_process(django_db_setup, django_db_blocker, tmp_path_factory, network_emulator, push_service_server):
    """Start one worker process for the session, consuming every queue of the product.

    Tests that use it must be `django_db(transaction=True)`: the worker is another
    process and only sees committed rows. Its networks are the session's emulator, its
    push service the session's (tests/webpush_fixture.py).
    """
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()  # no stale messages
    base = tmp_path_factory.mktemp("worker")
    mail_dir, log_path = base / "mail", base / "worker.log"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "EMAIL_URL": "filemail:///" + str(mail_dir),
        "SITE_URL": settings.SITE_URL,
        **{f"{network.upper()}_ORIGIN": network_emulator.origin(network) for network in ("linkedin", "x", "facebook")},
        "WEB_PUSH_EXTRA_ORIGINS": push_service_server.url,  # the session's push service (tests/webpush_fixture.py)
    }
    node = f"test-worker-{os.getpid()}@localhost"
    process = start_worker(node, ["-Q", "default,publish,metrics", "--pool=prefork", "--concurrency=2"], env, log_path)
    yield Worker(process, mail_dir, log_path)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll another process's work (the worker's) until `predicate()` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config, specs):
    """Load tests/parallel.py into each xdist worker before its settings: it gives the worker
    its own Redis databases and PRIVATE_ROOT. (Not `-p` in pytest.ini: the controller, run as
    .venv/bin/pytest, cannot import `tests` that early.)"""
    import execnet
    from xdist import plugin as xdist_plugin

    # A popen worker starts with the controller's sys.path as it was at startup (xdist 3.8,
    # pinned): the project folder must be on it for `-p tests.parallel`.
    if str(ROOT) not in xdist_plugin._sys_path:
        xdist_plugin._sys_path.insert(0, str(ROOT))

    addopts = f"{os.environ.get('PYTEST_ADDOPTS', '')} -p tests.parallel".strip()
    if "//" in addopts:
        raise pytest.UsageError("PYTEST_ADDOPTS with '//' cannot be passed on to the xdist workers")
    for i, spec in enumerate(specs):
        specs[i] = execnet.XSpec(f"{spec}//env:PYTEST_ADDOPTS={addopts}")
        specs[i].id = spec.id  # gw0, gw1...: the id the worker's numbers derive from


def pytest_configure(config):
    from django.conf import settings as django_settings

    # Hashing cost is not what these tests measure; production keeps Django's default.
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def use_broker(url: str) -> None:
    """Point this process's Celery app at another broker address."""
    from advocacy.celery import app as celery_app

    celery_app.conf.broker_url = celery_app.conf.broker_write_url = url
    celery_app._pool = None  # connections are pooled: made again for the new address
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """This process's Celery broker at a port nothing listens on, as when Redis is down
    (a task sent fails; restored after the test)."""
    from advocacy.celery import app as celery_app

    saved = (celery_app.conf.broker_write_url, celery_app.conf.task_publish_retry)
    celery_app.conf.task_publish_retry = False
    use_broker("redis://127.0.0.1:9/0")
    yield
    celery_app.conf.task_publish_retry = saved[1]
    use_broker(saved[0])

"""Shared setup for the publishing tests: a Celery worker of their own on the emulator, an
organization whose network apps are registered on the emulator, employees with accounts
connected through the real OAuth round trip, and shares submitted the way the composer
submits them.

tests/conftest.py registers it as a plugin, so the fixtures (`pub`, `publish_worker`) exist
once for the session whichever folder uses them.

The worker consumes its own queue (PUBLISH_QUEUE) so no other worker of the session,
which does not know the emulator's address, can take a publishing task; it runs with a
short lease and small backoffs so retries happen in seconds, not minutes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from accounts.models import NetworkApp, Role, SocialConnection
from accounts.services import connections
from compliance.models import AuditEntry, PendingAuditEntry
from content.models import Delivery, Share
from content.services import sharing
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.conftest import _test_database_url, start_worker, wait_for
from tests.content.factories import ContentItemFactory

SECRETS = {"linkedin": "li-secret", "x": "x-secret", "facebook": "fb-secret"}
QUEUE = f"publish-test-{os.getpid()}"
# A public-looking origin: X finds URLs by their top-level domain, as twitter-text does, and
# reconciliation compares texts without their URLs ("testserver" is not a URL to X).
SITE_URL = "https://advocacy.acme.com"
# The worker's settings, also applied to this process (sweeps and direct calls run here).
WORKER_SETTINGS = {
    "PUBLISH_QUEUE": QUEUE,
    "NETWORK_TIMEOUT": "4",
    "PUBLISH_LEASE_SECONDS": "15",
    "PUBLISH_RETRY_BASE_SECONDS": "0.5",
    "PUBLISH_RETRY_MAX_SECONDS": "2",
    "PUBLISH_MAX_ATTEMPTS": "4",
}


class PublishWorker:
    """`celery worker` on the test database, pointed at the emulator; can be SIGKILLed and restarted."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def node(self) -> str:
        return f"publish-test-{os.getpid()}-{self.starts}@localhost"

    def log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("worker-*.log")))

    def start(self) -> None:
        self.starts += 1
        args = ["-Q", QUEUE, "--pool=threads", "--concurrency=8", "--without-heartbeat"]
        self.process = start_worker(self.node, args, self.env, self.log_dir / f"worker-{self.starts}.log")

    def wait_idle(self, timeout: float = 20) -> None:
        """Until the worker runs, holds and waits for nothing: a test's database flush
        (TRUNCATE) that meets a task still writing deadlocks, and a failed test leaves one."""
        import redis

        from advocacy.celery import app

        if not self.process or self.process.poll() is not None:
            return
        broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            inspect = app.control.inspect(destination=[self.node], timeout=1, limit=1)
            held = [
                task
                for answer in (inspect.active(), inspect.reserved(), inspect.scheduled())
                for task in (answer or {}).get(self.node, [])
            ]
            quiet = quiet + 1 if not held and not broker.llen(QUEUE) else 0
            if quiet == 2:
                return
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, exactly like a machine that dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def publish_worker(django_db_setup, network_emulator, tmp_path_factory):
    env = {
        **os.environ,
        **WORKER_SETTINGS,
        "DATABASE_URL": _test_database_url(),
        "SITE_URL": SITE_URL,
        "LINKEDIN_ORIGIN": network_emulator.origin("linkedin"),
        "X_ORIGIN": network_emulator.origin("x"),
        "FACEBOOK_ORIGIN": network_emulator.origin("facebook"),
        "EMAIL_URL": "consolemail://",
    }
    worker = PublishWorker(env, tmp_path_factory.mktemp("publish-worker"))
    worker.start()
    yield worker
    worker.stop()


class Publishing:
    """One test's world: the emulator (reset), an org with apps on it, helpers."""

    def __init__(self, emulator, worker, org):
        self.emulator = emulator
        self.worker = worker
        self.org = org
        self.item = ContentItemFactory(organization=org, title="Acme opens a wind farm")
        self._n = 0

    def employee(self, email: str | None = None):
        return MembershipFactory(
            organization=self.org, roles=[Role.EMPLOYEE], **({"user__email": email} if email else {})
        )

    def connect(self, membership, network: str, **account) -> SocialConnection:
        """Connect an emulator account through our real OAuth code; Facebook: its Page."""
        if network == "facebook":
            account.setdefault("pages", [{"name": "Acme Wind", "tasks": ["CREATE_CONTENT", "MANAGE"]}])
        remote = self.emulator.create_account(network, **{"name": "Emma Employee", **account})
        self.emulator.auto_approve(network, remote["id"])
        session: dict = {}
        url = connections.start_connection(actor=membership, network=network, session=session)
        answer = requests.get(url, allow_redirects=False, timeout=10)
        params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
        _, connected = connections.finish_connection(
            user=membership.user, network=network, session=session, params=params
        )
        if network == "facebook":
            page = next(c for c in connected if c.kind == SocialConnection.Kind.PAGE)
            connections.select_pages(actor=membership, page_ids=[page.pk])
            page.refresh_from_db()
            return page
        return connected[0]

    def share(
        self, membership, accounts: list[SocialConnection], words: str | None = None, at: datetime | None = None
    ) -> Share:
        """Submit through the composer's service (screening, approval, enqueue on commit)."""
        self._n += 1
        return sharing.submit_share(
            confirm_repeat=True,
            actor=membership,
            item_id=self.item.pk,
            commentary=words or f"Forty turbines off the coast, and I saw them built (take {self._n}).",
            target_keys=[f"connection:{c.pk}" for c in accounts],
            scheduled_for=at,
        )

    def deliveries(self, share: Share) -> list[Delivery]:
        return list(Delivery.objects.for_org(self.org).filter(share=share).order_by("pk"))

    def wait_until(self, share: Share, status: str, *, timeout: float = 30) -> Share:
        def check():
            share.refresh_from_db()
            return share.status == status

        try:
            wait_for(check, timeout=timeout, message=f"share {share.pk} to be {status}")
        except AssertionError:
            states = [(d.network, d.status, d.last_error) for d in self.deliveries(share)]
            raise AssertionError(f"share is {share.status}, deliveries {states}\n{self.worker.log()[-4000:]}") from None
        return share

    def posts(self, network: str | None = None) -> list[dict]:
        """Posts on the emulator (not deleted), newest last."""
        posts = [p for p in self.emulator.state()["posts"] if not p["deleted"]]
        return [p for p in posts if network is None or p["network"] == network]


@pytest.fixture
def pub(network_emulator, publish_worker, settings, transactional_db):
    """A clean emulator, an org with LinkedIn (partner), X and Facebook apps on it, and
    this process's settings matching the worker's."""
    network_emulator.reset()
    settings.SITE_URL = SITE_URL
    for name, value in WORKER_SETTINGS.items():
        setattr(settings, name, type(getattr(settings, name))(value) if hasattr(settings, name) else value)
    for network in ("linkedin", "x", "facebook"):
        setattr(settings, f"{network.upper()}_ORIGIN", network_emulator.origin(network))
    org = OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")
    for network in ("linkedin", "x", "facebook"):
        client_id = f"acme-{network}-app"
        network_emulator.register_app(
            network,
            client_id,
            SECRETS[network],
            [settings.SITE_URL + f"/connections/callback/{network}/"],
            partner=network == "linkedin",
        )
        NetworkApp.objects.create(
            organization=org, network=network, client_id=client_id, client_secret=SECRETS[network]
        )
    yield Publishing(network_emulator, publish_worker, org)
    publish_worker.wait_idle()


def now() -> datetime:
    return timezone.now()


# Time moves in the rows, not on the clock: a test sets a delivery's time in the past rather
# than waiting for it to pass (the worker, another process, reads the real clock).
PAST = timedelta(seconds=1)


def make_due(org, deliveries) -> None:
    """Make scheduled deliveries due now: their due time (and their share's) a moment ago."""
    ids = [d.pk for d in deliveries]
    at = timezone.now() - PAST
    Delivery.objects.for_org(org).filter(pk__in=ids).update(due_at=at)
    Share.objects.for_org(org).filter(deliveries__pk__in=ids, scheduled_for__isnull=False).update(scheduled_for=at)
    for delivery in deliveries:
        delivery.due_at = at


def expire_lease(org, delivery) -> None:
    """End the lease a (dead) worker held on a delivery: as if PUBLISH_LEASE_SECONDS had passed."""
    at = timezone.now() - PAST
    assert (
        Delivery.objects.for_org(org)
        .filter(pk=delivery.pk, status=Delivery.Status.PUBLISHING)
        .update(lease_expires_at=at)
    ), "only a delivery being published holds a lease"
    delivery.lease_expires_at = at


def wait_linked(org) -> None:
    """Wait for the worker's linker: a delivery's status can be read just before the entries
    of its last transaction are linked into the chain, just after its commit."""
    wait_for(
        lambda: not PendingAuditEntry.objects.for_org(org).exists(),
        timeout=30,
        message="every audit entry linked just after its commit",
    )


def delivery_trail(org, delivery) -> list[AuditEntry]:
    """The delivery's audit entries in chain order, once linked."""
    wait_linked(org)
    return list(
        AuditEntry.objects.for_org(org)
        .filter(target_type="content.delivery", target_id=str(delivery.pk))
        .order_by("sequence")
    )

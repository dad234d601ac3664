"""Publishing throughput: deliveries per second per worker against calls in flight / latency.

    .venv/bin/python bench/publish.py

Starts the network emulator (its own process) with 100 ms of latency on every API call
(its `slow` fault) and its own rate limits off, connects 30 accounts over OAuth (10 each on
LinkedIn, X and Facebook Pages), then for each number of calls in flight (8, 16) starts a
real `celery worker --pool=threads` process on the benchmark database with that many call
slots (PUBLISH_CALLS_IN_FLIGHT) and 1.5 times as many threads
(BENCH_PUBLISH_THREADS_PER_SLOT), makes N deliveries due at once, enqueues them with the
sweeper (in batches of PUBLISH_BATCH_SIZE, one task each: content.services.publishing.batch)
and times them until the last is `published`.

The limit one worker can reach is calls in flight / latency (each call waits 100 ms on the
network); the ratio says how much of it the pipeline keeps (its transactions, locks, audit
entries, notices and the rate limiter cost the rest). The emulator counts the calls it
answers at once, and each line prints the most it saw, never more than the slots (the
bench fails otherwise), so a line's calls in flight are what it says; and how many it
answered at once on average (the seconds its calls took together over the line's), so a
shortfall can be read as slots left idle or as calls slower than the network. With slots,
the worker's threads claim and record batches (the database's part of a delivery) and hand
the batches' calls to the process's call pool, one thread per slot, which keeps the slots
calling meanwhile. The first line is the baseline measured in the same run: one
task a delivery (PUBLISH_BATCH_SIZE=1, the engine alone, as before batches), so the batch's
gain is read against it; the second, 16 threads without slots (a thread calls when it gets
there, as before the slots), so the slots' gain is read against it.

Two more figures, so a line's shortfall can be read: per concurrency, a bare HTTP client
(one `requests` session per thread, no database, no product code) against the same
emulator and latency, the floor the emulator itself sets; per line, its steady state (the
rate between the 10th and the 90th percent of its deliveries published), which leaves out
the start and the drain the whole burst's rate counts (a thread whose last batch ends early
waits idle). The goal is read on the whole burst.

Pool choice: threads. Publishing is I/O bound: a delivery spends almost all its time
waiting for the network, so many threads in one process keep many calls in flight for one
process's memory; prefork would need one process (and one Django + DB connection setup)
per concurrent call. The exactly-once guarantees do not depend on the pool: they live in
the database (row locks, leases, reconciliation), and a SIGKILLed thread-pool worker
leaves its deliveries to the sweeper like any other.

BENCH_PUBLISH_LOG=file keeps the workers' log there (warnings and errors).

Needs Redis: REDIS_URL (rate limiter; flushed between runs), else redis://127.0.0.1:6379/14,
and CELERY_BROKER_URL (else the same).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# A sweep's worth: with 200 deliveries, the last round of batches (half the threads idle,
# when a batch's calls were one after the other) was a fifth of the run.
N = int(os.environ.get("BENCH_PUBLISH_N", "1000"))
CONCURRENCIES = [int(c) for c in os.environ.get("BENCH_PUBLISH_CONCURRENCY", "8,16").split(",")]
LATENCY = 0.1
ACCOUNTS_PER_NETWORK = 10
ORGS = int(os.environ.get("BENCH_PUBLISH_ORGS", "10"))  # the "many organizations" lines: one employee each
SCALE_OUT = 3  # worker processes on the last line
# A publisher runs more threads than call slots (PUBLISH_CALLS_IN_FLIGHT): the threads claim
# and record batches and keep the call pool supplied. "16 calls in flight" is 16 slots and
# 24 threads (8 threads for 16 slots left the pool short of calls: 0.68).
THREADS_PER_SLOT = float(os.environ.get("BENCH_PUBLISH_THREADS_PER_SLOT", "1.5"))
SLUG = "bench-publish"
SITE_URL = "https://advocacy.acme.com"
ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
BROKER = os.environ.get("CELERY_BROKER_URL") or REDIS
QUEUE = f"publish-bench-{os.getpid()}"
LOG = Path(os.environ["BENCH_PUBLISH_LOG"]) if os.environ.get("BENCH_PUBLISH_LOG") else None  # the workers' log


class Emulator:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "networks.emulator", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        line = lines.get(timeout=15)
        if not line.startswith("EMULATOR LISTENING "):
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.split()[-1]

    def control(self, method: str, name: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{name}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def configure(emulator: Emulator) -> dict:
    env = {
        "SITE_URL": SITE_URL,
        "REDIS_URL": REDIS,
        "CELERY_BROKER_URL": BROKER,
        "PUBLISH_QUEUE": QUEUE,
        # A worker keeps its database connections (a new PostgreSQL backend per task costs
        # more than the task's own queries).
        "DB_CONN_MAX_AGE": "300",
        "LINKEDIN_ORIGIN": f"{emulator.url}/linkedin",
        "X_ORIGIN": f"{emulator.url}/x",
        "FACEBOOK_ORIGIN": f"{emulator.url}/facebook",
        "LINKEDIN_CLIENT_ID": "bench-linkedin",
        "LINKEDIN_CLIENT_SECRET": "bench-secret",
        "X_CLIENT_ID": "bench-x",
        "X_CLIENT_SECRET": "bench-secret",
        "FACEBOOK_APP_ID": "bench-facebook",
        "FACEBOOK_APP_SECRET": "bench-secret",
    }
    os.environ.update(env)
    return env


def register_apps(emulator: Emulator) -> None:
    for network in ("linkedin", "x", "facebook"):
        emulator.control(
            "POST",
            "apps",
            {
                "network": network,
                "client_id": f"bench-{network}",
                "client_secret": "bench-secret",
                "redirect_uris": [f"{SITE_URL}/connections/callback/{network}/"],
            },
        )


def seed(emulator: Emulator, name: str, employees: int):
    """A fresh organization, one item, `employees` employees each with LinkedIn, X and a Facebook Page."""
    import requests
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Organization, Role, SocialConnection
    from accounts.services import connections
    from content.models import ContentItem

    # A new organization per run: compliance's retention keeps published shares for years.
    run = f"{name}-{int(time.time())}"
    org = Organization.objects.create(slug=f"{SLUG}-{run}", name="Bench publish", timezone="UTC")
    item = ContentItem.objects.create(
        organization=org, title="Wind farm", slug="wind-farm", url="https://acme.example/wind", status="published"
    )
    people = []
    for i in range(employees):
        user = get_user_model().objects.create_user(email=f"e{i}-{run}@bench-publish.example", password=None)
        membership = Membership(organization=org, user=user)
        membership.set_roles([Role.EMPLOYEE])
        membership.save()
        accounts = []
        for network in ("linkedin", "x", "facebook"):
            body = {"network": network, "name": f"Employee {i}"}
            if network == "facebook":
                body["pages"] = [{"name": f"Page {i}", "tasks": ["CREATE_CONTENT"]}]
            remote = emulator.control("POST", "accounts", body)
            emulator.control("POST", "auto_approve", {"network": network, "account_id": remote["id"]})
            session: dict = {}
            url = connections.start_connection(actor=membership, network=network, session=session)
            answer = requests.get(url, allow_redirects=False, timeout=10)
            params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
            _, connected = connections.finish_connection(user=user, network=network, session=session, params=params)
            if network == "facebook":
                page = next(c for c in connected if c.kind == SocialConnection.Kind.PAGE)
                connections.select_pages(actor=membership, page_ids=[page.pk])
                page.refresh_from_db()
                accounts.append(page)
            else:
                accounts.append(connected[0])
        people.append((membership, accounts))
    return org, item, people


def make_due(worlds, n: int, tag: str) -> list[int]:
    """n deliveries through the composer's service, spread over the organizations of
    `worlds`, scheduled, then all due at once."""
    from django.utils import timezone

    from content.models import Delivery
    from content.services import sharing

    later = timezone.now() + timedelta(hours=1)
    made, i = 0, 0
    while made < n:
        org, item, people = worlds[i % len(worlds)]
        membership, accounts = people[(i // len(worlds)) % len(people)]
        targets = accounts[: min(3, n - made)]
        sharing.submit_share(
            confirm_repeat=True,
            actor=membership,
            item_id=item.pk,
            commentary=f"Forty turbines, run {tag}, share {i}.",
            target_keys=[f"connection:{c.pk}" for c in targets],
            scheduled_for=later,
        )
        made += len(targets)
        i += 1
    ids = []
    for org, _, _ in worlds:
        due = Delivery.objects.for_org(org).filter(status="pending", due_at=later)
        ids += list(due.values_list("pk", flat=True))
        due.update(due_at=timezone.now())  # the clock jumps to the scheduled minute
    return ids


def start_worker(env: dict, concurrency: int, name: str) -> subprocess.Popen:
    from advocacy.celery import app

    node = f"bench-publish-{os.getpid()}-{name}@localhost"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "advocacy", "worker", "-Q", QUEUE, "--pool=threads"),
            *(f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "-n", node, "-l", "warning"),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=LOG.open("a") if LOG else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if LOG else subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(node in reply for reply in app.control.ping(timeout=0.5) or []):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the bench worker did not start")
    return process


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU the process used so far (all its threads), from /proc."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def publish_and_wait(ids: list[int]) -> float:
    """Make the sweeper dispatch the due deliveries; seconds until all of `ids` are published."""
    from content.models import Delivery
    from content.services import publishing

    start = time.perf_counter()
    publishing.sweep()
    published = Delivery.objects.all_organizations().filter(pk__in=ids, status="published")
    while published.count() < len(ids):
        if time.perf_counter() - start > 300:
            raise SystemExit("not all deliveries were published within 5 minutes")
        # Every 0.1 s (a run is 6-20 s: under 2% late, against the bench, never for it): at
        # 0.02 s this loop and its PostgreSQL backend took a third of a core from the worker.
        time.sleep(0.1)
    return time.perf_counter() - start


def forget_rate_windows() -> None:
    """Empty the publishing rate limiter's windows (content.services.publishing.limits)."""
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter("publish:rate:*", count=1000))
    if keys:
        client.delete(*keys)


def steady_rate(ids: list[int]) -> float:
    """Deliveries per second between the 10th and the 90th percent of `ids` published (from
    their `published_at`): the rate once every thread is busy and before the last batches
    drain, which the whole burst's rate also counts (a thread that ends early waits idle)."""
    from content.models import Delivery

    moments = sorted(Delivery.objects.all_organizations().filter(pk__in=ids).values_list("published_at", flat=True))
    first, last = moments[len(moments) // 10], moments[len(moments) * 9 // 10]
    return (len(moments) * 9 // 10 - len(moments) // 10) / max((last - first).total_seconds(), 1e-6)


def bare_calls(emulator: Emulator, concurrency: int, calls: int = 30) -> float:
    """Calls per second of a bare HTTP client (one `requests` session per thread, no
    database, no product code) against the same emulator and latency: the floor the
    emulator itself sets (its own handling and loopback add to the 100 ms)."""
    import requests

    url = f"{emulator.url}/x/2/tweets"

    def caller() -> None:
        session = requests.Session()
        for _ in range(calls):
            session.post(url, json={"text": "bare"}, headers={"Authorization": "Bearer bare"}, timeout=10)

    threads = [threading.Thread(target=caller) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return concurrency * calls / (time.perf_counter() - start)


@dataclasses.dataclass
class Line:
    ids: list[int]  # the warm-up's too
    rate: float  # deliveries per second
    cpu: float  # worker CPU milliseconds per delivery
    most: int  # the most calls the emulator answered at once
    average: float  # the calls it answered at once, on average over the timed part


def threads_for(slots: int) -> int:
    return math.ceil(slots * THREADS_PER_SLOT)


def run(env: dict, worlds, emulator: Emulator, slots: int, processes: int, tag: str, *, threads: int = 0) -> Line:
    """Publish N deliveries of `worlds` with `processes` workers of `slots` call slots each
    (PUBLISH_CALLS_IN_FLIGHT; `threads_for(slots)` threads), or with `threads` threads and no
    slots (each thread calls when it gets there). The workers are warmed first, untimed: two
    rounds of batches on every thread (a new worker's threads each open their connections
    and load what their first task needs; a worker lives for days, the timed part is its
    steady state)."""
    from django.conf import settings
    from django.core.cache import cache

    concurrency = threads or threads_for(slots)
    env = {**env, "PUBLISH_CALLS_IN_FLIGHT": str(0 if threads else slots)}
    cache.clear()  # the rate limiter's windows start empty
    workers = [start_worker(env, concurrency, f"{tag}-{p}") for p in range(processes)]
    try:
        warm = make_due(worlds, 2 * processes * concurrency * settings.PUBLISH_BATCH_SIZE, tag=f"{tag}-warm")
        publish_and_wait(warm)
        forget_rate_windows()  # not cache.clear(): its FLUSHDB would empty the running workers' broker
        ids = make_due(worlds, N, tag=tag)
        vacuum()
        emulator.control("DELETE", "in_flight")
        cpu = sum(cpu_seconds(w) for w in workers)
        elapsed = publish_and_wait(ids)
        cpu = sum(cpu_seconds(w) for w in workers) - cpu
        in_flight = emulator.control("GET", "in_flight")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    rate, cpu = len(ids) / elapsed, cpu / len(ids) * 1000
    return Line(warm + ids, rate, cpu, in_flight["most"], in_flight["seconds"] / elapsed)


# The tables a line churns. Every batch updates deliveries and shares and writes and deletes
# pending audit entries; autovacuum clears their dead rows in any deployment, but some
# machines run PostgreSQL with autovacuum off, and there the dead rows of the lines before
# made every line slower than the one before it (the same code: 0.69, then 0.53 at 16
# threads). So each line is timed on tables vacuumed as autovacuum would have left them.
CHURNED = ("content_delivery", "content_share", "compliance_pendingauditentry", "compliance_auditentry")


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(CHURNED)}")


def autovacuum() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def exactly_once(emulator: Emulator, ids: list[int], worlds) -> list[str]:
    """What breaks "one post per delivery" or the audit chains (empty when all holds)."""
    from compliance.services.audit import verify_chain
    from content.models import Delivery

    posts = [p for p in emulator.control("GET", "state")["posts"] if not p["deleted"]]
    rows = list(Delivery.objects.all_organizations().filter(pk__in=ids).values_list("status", "network", "remote_id"))
    problems = []
    if any(status != "published" for status, _, _ in rows):
        problems.append("a delivery is not published")
    if len(posts) != len(ids):
        problems.append(f"{len(posts)} posts on the emulator for {len(ids)} deliveries")
    if {(network, remote) for _, network, remote in rows} != {(p["network"], p["id"]) for p in posts}:
        problems.append("the deliveries' remote ids are not the emulator's posts, one each")
    for org, _, _ in worlds:
        broken = verify_chain(org)
        if broken is not None:
            problems.append(f"the audit chain of {org.slug} is broken at {broken}")
    return problems


def main() -> int:
    emulator = Emulator()
    env = configure(emulator)
    sys.path.insert(0, str(ROOT / "bench"))
    from _setup import setup_django

    setup_django()
    try:
        emulator.control("POST", "settings", {"rate_limits": False})
        register_apps(emulator)
        one = [seed(emulator, "one", ACCOUNTS_PER_NETWORK)]
        many = [seed(emulator, f"many{i}", 1) for i in range(ORGS)]
        for network in ("linkedin", "x", "facebook"):
            emulator.control(
                "POST", "faults", {"network": network, "kind": "slow", "delay": LATENCY, "times": 1_000_000}
            )
        print(f"{N} deliveries a line, {LATENCY * 1000:.0f} ms per network call, worker pool: threads (I/O bound)")
        print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}")
        print(f"PostgreSQL's autovacuum: {autovacuum()} (each line is timed on freshly vacuumed tables either way)")
        every: list[int] = []
        rates = {}
        problems_in_flight: list[str] = []

        from django.conf import settings

        slots = CONCURRENCIES[-1]
        size, settings.PUBLISH_BATCH_SIZE = settings.PUBLISH_BATCH_SIZE, 1  # the sweeper's enqueue, in this process
        engine = run(env, one, emulator, 0, 1, f"engine-{slots}", threads=slots)
        settings.PUBLISH_BATCH_SIZE = size
        every += engine.ids
        print(
            f"  1 organization, 1 process x {slots:2d} threads, one task a delivery (the engine alone, "
            f"the baseline): {engine.rate:6.1f} deliveries/s; worker CPU {engine.cpu:4.1f} ms per delivery"
        )
        for slots in CONCURRENCIES:
            bare = bare_calls(emulator, slots)
            print(
                f"    a bare HTTP client, {slots:2d} threads (no database, no product code): "
                f"{bare:6.1f} calls/s; {bare / (slots / LATENCY):4.2f} of the limit: the emulator's own floor"
            )
        slots = CONCURRENCIES[-1]
        plain = run(env, one, emulator, 0, 1, f"plain-{slots}", threads=slots)
        every += plain.ids
        print(
            f"  1 organization, 1 process x {slots:2d} threads, no call slots (a thread calls when it gets "
            f"there): {plain.rate:6.1f} deliveries/s; ratio {plain.rate / (slots / LATENCY):4.2f}; "
            f"{plain.average:4.1f} calls in flight on average, {plain.most} at most"
        )
        for label, worlds in (("1 organization", one), (f"{ORGS} organizations", many)):
            for slots in CONCURRENCIES:
                line = run(env, worlds, emulator, slots, 1, f"{label[:2]}-{slots}")
                steady = steady_rate(line.ids[-N:])
                every += line.ids
                rates[label, slots] = line.rate
                limit = slots / LATENCY
                versus = f"; {line.rate / engine.rate:4.2f}x the engine alone" if label == "1 organization" else ""
                print(
                    f"{label:>16}, 1 process x {slots:2d} calls in flight ({threads_for(slots)} threads): "
                    f"{line.rate:6.1f} deliveries/s; limit {limit:5.1f}/s (calls in flight / latency); "
                    f"ratio {line.rate / limit:4.2f} (goal >= 0.80); steady state {steady / limit:4.2f}; "
                    f"calls in flight at the emulator {line.average:4.1f} on average, {line.most} at most; "
                    f"worker CPU {line.cpu:4.1f} ms per delivery{versus}"
                )
                if line.most > slots:
                    problems_in_flight.append(f"{label}, {slots} slots: {line.most} calls in flight at once")
        slots = CONCURRENCIES[-1]
        label = f"{ORGS} organizations"
        line = run(env, many, emulator, slots, SCALE_OUT, f"scale-{slots}")
        every += line.ids
        one_process = rates[label, slots]
        print(
            f"{label:>16}, {SCALE_OUT} processes x {slots:2d} calls in flight: {line.rate:6.1f} deliveries/s; "
            f"{line.rate / one_process:4.2f}x one process's {one_process:.1f}/s (goal > 1: grows with processes); "
            f"calls in flight {line.average:4.1f} on average, {line.most} at most; "
            f"worker CPU {line.cpu:4.1f} ms per delivery"
        )
        if line.most > SCALE_OUT * slots:
            problems_in_flight.append(f"{SCALE_OUT} processes: {line.most} calls in flight at once")
        print(f"load average at end: {Path('/proc/loadavg').read_text().split()[:3]}")
        problems = exactly_once(emulator, every, one + many) + problems_in_flight
        print(
            f"exactly once: {len(every)} deliveries, " + ("; ".join(problems) or "one post each, audit chains verify")
        )
    finally:
        emulator.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The whole product under load: locust against two web processes, two workers, the
publisher and one beat, on PostgreSQL and Redis.

    .venv/bin/python bench/load/run.py        (or `make load`)

Starts the network emulator, seeds a fresh organization (a year of history through
`seed_analytics`, then 200 employees each with an X account connected over OAuth, 20
marketers, 10 compliance officers, 5 executives), vacuums and analyses the tables as
autovacuum would, starts two gunicorn instances on two
loopback ports (one process each, gthread), two Celery workers (default, metrics), the
publisher (publish, threads) and one beat, then runs bench/load/locustfile.py headless for
LOAD_SECONDS (default 60) and at most LOAD_MAX_REQUESTS. Prints p50/p95/p99 and errors per
page, waits for the run's approved shares to go out, and checks that every one was
published exactly once (deliveries against the emulator's posts). Exits 1 when a goal is
missed: an error, a page's p95 at or over 300 ms, a share not published or posted twice.

Sessions are created server-side (Django's `login()` through the test client) and handed
to locust as cookies: see the locustfile. Database: BENCH_DATABASE_URL; Redis:
BENCH_REDIS_URL (default redis://127.0.0.1:6379/13; flushed at start, it is the bench's),
broker BENCH_BROKER_URL (default the same).
"""

from __future__ import annotations

import csv
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REDIS = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/13"
os.environ["REDIS_URL"] = REDIS
os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL") or REDIS
os.environ["REPORT_WARMING"] = "1"  # the product as deployed: the workers warm the reports
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/: its shared helpers

from _setup import ROOT, setup_django  # noqa: E402
from publish import Emulator, autovacuum, configure, vacuum  # noqa: E402 (the same emulator and app settings)

SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
SPAWN_RATE = 50  # users started a second
# Seconds after the last user started until locust measures: the locustfile's longest think
# (THINK), so every user is in its cycle.
STEADY_AFTER = 9
# The publisher as `make run` runs it (Procfile.dev): 8 calls in flight, 12 threads.
PUBLISHER_SLOTS, PUBLISHER_THREADS = 8, 12
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "200000"))
EMPLOYEES, MARKETERS, OFFICERS, EXECUTIVES = 200, 20, 10, 5
# The load is LOAD_SCALE=1; a fraction runs that share of every kind of user and of
# the click rate, on the same seeded organization and processes (a capacity curve, not the goal).
SCALE = float(os.environ.get("LOAD_SCALE", "1"))


def scaled(count: float) -> int:
    return max(1, round(count * SCALE))


def people() -> dict[str, int]:
    """How many of each kind locust runs (the locustfile reads them from the plan)."""
    return {
        "employee": scaled(EMPLOYEES),
        "marketer": scaled(MARKETERS),
        "officer": scaled(OFFICERS),
        "executive": scaled(EXECUTIVES),
        "visitor": scaled(int(os.environ.get("LOAD_CLICK_USERS", "50"))),
    }


P95_GOAL_MS = 300
DRAIN_SECONDS = 180


def seed(emulator: Emulator) -> dict:
    import requests
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import Membership, Organization, Role
    from accounts.services import connections
    from analytics.management.commands.seed_demo import DEMO_LEXICON
    from compliance.models import LexiconTerm
    from compliance.services.policy import get_or_create_policy
    from content.models import ContentItem, Delivery

    slug = f"load-{int(time.time())}"  # a new organization per run: retention keeps shares
    started = time.monotonic()
    call_command("seed_analytics", org=slug, deliveries=20_000, clicks=200_000, people=50, items=20)
    org = Organization.objects.get(slug=slug)
    # The demo's lexicon: a share that promises "guaranteed" results waits for an officer.
    get_or_create_policy(organization_id=org.pk)
    for term, action, note in DEMO_LEXICON:
        LexiconTerm.objects.create(organization=org, term=term, action=action, note=note)
    emulator.control(
        "POST",
        "apps",
        {
            "network": "x",
            "client_id": "bench-x",
            "client_secret": "bench-secret",
            "redirect_uris": [f"{os.environ['SITE_URL']}/connections/callback/x/"],
        },
    )
    sessions: dict[str, list[dict]] = {}
    roles = (
        ("employee", EMPLOYEES, [Role.EMPLOYEE]),
        ("marketer", MARKETERS, [Role.MARKETER, Role.EMPLOYEE]),
        ("officer", OFFICERS, [Role.COMPLIANCE]),
        ("executive", EXECUTIVES, [Role.EXECUTIVE, Role.EMPLOYEE]),
    )
    for name, count, member_roles in roles:
        for i in range(count):
            user = get_user_model().objects.create_user(email=f"{name}{i}@{slug}.test", password=None)
            membership = Membership(organization=org, user=user)
            membership.set_roles(member_roles)
            membership.save()
            if name == "employee":
                remote = emulator.control("POST", "accounts", {"network": "x", "name": f"Employee {i}"})
                emulator.control("POST", "auto_approve", {"network": "x", "account_id": remote["id"]})
                session: dict = {}
                url = connections.start_connection(actor=membership, network="x", session=session)
                answer = requests.get(url, allow_redirects=False, timeout=10)
                params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
                connections.finish_connection(user=user, network="x", session=session, params=params)
            client = Client()
            client.force_login(user)
            sessions.setdefault(name, []).append({"session": client.cookies["sessionid"].value, "n": i})
    items = list(ContentItem.objects.for_org(org).filter(status="published").values_list("pk", flat=True)[:20])
    codes = list(Delivery.objects.for_org(org).filter(status="published").values_list("tracking_code", flat=True)[:500])
    print(f"seeded {slug} in {time.monotonic() - started:.0f} s", flush=True)
    return {"org": slug, "sessions": sessions, "items": items, "codes": codes, "officers": OFFICERS}


def start(processes: list, name: str, args: list[str], env: dict) -> None:
    log = open(Path(env["LOAD_LOGS"]) / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    processes.append((name, subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)))


# What each kind of user reads (the locustfile's GETs), requested before the run to warm the
# web processes: a fresh process imports views, compiles templates and opens a database
# connection per thread on its first requests (seen: p95 over 1 s in the first seconds of a
# run at a quarter of the load, 60 ms after). The table times the steady state.
WARM_PAGES = {
    "employee": ["feed/", "analytics/me/", "feed/{item}/share/"],
    "marketer": ["library/", "library/items/{item}/", "analytics/content/"],
    "officer": ["review/"],
    "executive": ["reports/", "reports/roi.csv"],
}
WARM_THREADS = 8  # each web process's gthread count: every thread gets its connection
SETTLE_SECONDS = float(os.environ.get("LOAD_SETTLE_SECONDS", "20"))


def warm(plan: dict) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def get(host: str, path: str, session: str) -> None:
        request = urllib.request.Request(host + path, headers={"Cookie": f"sessionid={session}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    jobs = [
        (host, f"/o/{plan['org']}/" + page.format(item=plan["items"][0]), plan["sessions"][role][0]["session"])
        for host in plan["hosts"]
        for role, pages in WARM_PAGES.items()
        for page in pages
    ]
    with ThreadPoolExecutor(WARM_THREADS * len(plan["hosts"])) as pool:
        for _ in range(2):  # twice over every thread of both processes
            list(pool.map(lambda job: get(*job), jobs * WARM_THREADS))


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} not healthy within {timeout} s") from None
            time.sleep(0.5)


def cpu_seconds(processes: list, emulator: Emulator | None = None) -> dict[str, float]:
    """CPU seconds so far of each started process with its children, of locust, of every
    PostgreSQL backend (any database's, so other work on the machine counts) and of the
    whole machine (all cores)."""
    import psutil

    def tree(process: psutil.Process) -> float:
        total = 0.0
        for p in [process, *process.children(recursive=True)]:
            try:
                times = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    spent = {name: tree(psutil.Process(process.pid)) for name, process in processes}
    # locust has ended when it is read: the children this process waited for (only locust).
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent["locust"] = waited.ru_utime + waited.ru_stime
    # PostgreSQL: every process named postgres, and for the server's root process also its
    # exited children (backends closed during the run: a web connection lives DB_CONN_MAX_AGE).
    spent["postgres"] = 0.0
    for p in psutil.process_iter(["name", "cpu_times", "ppid"]):
        times = p.info["cpu_times"]
        if p.info["name"] != "postgres" or times is None:
            continue
        spent["postgres"] += times.user + times.system
        try:
            root = psutil.Process(p.info["ppid"]).name() != "postgres"
        except psutil.NoSuchProcess:
            root = False
        if root:
            spent["postgres"] += times.children_user + times.children_system
    if emulator is not None:  # the networks' stand-in: load on the machine, not the product's
        spent["emulator"] = tree(psutil.Process(emulator.process.pid))
    machine = psutil.cpu_times()
    spent["machine"] = machine.user + machine.system + machine.nice + machine.irq + machine.softirq
    return spent


def stats(prefix: str) -> list[dict]:
    with open(f"{prefix}_stats.csv") as f:
        return [row for row in csv.DictReader(f) if row["Name"] != "Aggregated"]


def settle_tables() -> None:
    """The tables as a deployment's autovacuum keeps them: the churned ones vacuumed and every
    table analysed after the seed (this machine's PostgreSQL runs with autovacuum off: the
    planner would plan the run's pages on statistics from before the seed)."""
    from django.db import connection

    print(f"PostgreSQL autovacuum: {autovacuum()} (the run's tables vacuumed and analysed after the seed)")
    vacuum()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def published_exactly_once(org_slug: str, emulator: Emulator, since) -> bool:
    from django.db.models import Count

    from accounts.models import Organization
    from content.models import Delivery, Share
    from content.services.publishing.engine import PUBLISHABLE_SHARE

    org = Organization.objects.get(slug=org_slug)
    run = Delivery.objects.for_org(org).filter(created_at__gte=since)
    waiting = run.filter(share__status__in=PUBLISHABLE_SHARE).exclude(status="published")
    deadline = time.monotonic() + DRAIN_SECONDS
    while waiting.exists() and time.monotonic() < deadline:
        time.sleep(2)
    shares = Share.objects.for_org(org).filter(created_at__gte=since)
    by_status = dict(shares.values_list("status").annotate(n=Count("pk")).order_by())
    published = list(run.filter(status="published").values_list("remote_id", flat=True))
    posts = [p["id"] for p in emulator.control("GET", "state")["posts"] if not p["deleted"]]
    left = waiting.count()
    print(f"shares of the run by status: {by_status}")
    print(f"deliveries published: {len(published)}, posts on the emulator: {len(posts)}, still waiting: {left}")
    return left == 0 and len(posts) == len(set(posts)) == len(published) and set(posts) == set(published)


def main() -> int:
    import redis

    for url in {REDIS, os.environ["CELERY_BROKER_URL"]}:
        redis.Redis.from_url(url).flushdb()
    emulator = Emulator()
    env_extra = configure(emulator)
    os.environ["PUBLISH_QUEUE"] = "publish"
    setup_django()
    from django.utils import timezone

    plan = seed(emulator)
    settle_tables()
    logs = tempfile.mkdtemp(prefix="load-")
    ports = [int(os.environ.get("LOAD_PORT_A", "8601")), int(os.environ.get("LOAD_PORT_B", "8602"))]
    plan["hosts"] = [f"http://127.0.0.1:{port}" for port in ports]
    plan["people"] = people()
    plan["click_rate"] = float(os.environ.get("LOAD_CLICK_RATE", "500")) * SCALE
    plan_file = Path(logs) / "plan.json"
    plan_file.write_text(json.dumps(plan))
    env = {
        **os.environ,
        **env_extra,
        "PUBLISH_QUEUE": "publish",
        "DB_CONN_MAX_AGE": "60",
        "PUBLISH_CALLS_IN_FLIGHT": str(PUBLISHER_SLOTS),
        "LOAD_LOGS": logs,
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
        "LOG_LEVEL": "WARNING",
    }
    bin_dir = Path(sys.executable).parent
    processes: list = []
    since = timezone.now()
    try:
        for n, port in enumerate(ports):
            start(
                processes,
                f"web{n + 1}",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "advocacy.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "8",
                    "--log-level",
                    "warning",
                ],
                env,
            )
        celery = [str(bin_dir / "celery"), "-A", "advocacy"]
        for n in (1, 2):
            start(
                processes,
                f"worker{n}",
                [
                    *celery,
                    "worker",
                    "-Q",
                    "default,metrics",
                    "--pool=solo",
                    "-n",
                    f"load-worker{n}@%h",
                    "-l",
                    "warning",
                ],
                env,
            )
        start(
            processes,
            "publisher",
            [
                *celery,
                "worker",
                "-Q",
                "publish",
                "--pool=threads",
                f"--concurrency={PUBLISHER_THREADS}",
                "-n",
                "load-publisher@%h",
                "-l",
                "warning",
            ],
            env,
        )
        start(processes, "beat", [*celery, "beat", "-l", "warning", "--schedule", f"{logs}/beat-schedule"], env)
        for host in plan["hosts"]:
            wait_healthy(host)
        started = time.monotonic()
        warm(plan)
        # The beat runs every interval task once when it starts (rollups, the stats refresh of
        # every organization in the database): a deployment's beat has long been running.
        time.sleep(max(0.0, SETTLE_SECONDS - (time.monotonic() - started)))
        print(f"web processes warmed, beat's first round settled: {time.monotonic() - started:.0f} s", flush=True)
        prefix = f"{logs}/locust"
        users = sum(plan["people"].values())
        # Locust measures from STEADY_AFTER seconds after its last user started (the
        # locustfile: every user starts somewhere in a think), for SECONDS.
        ramp = math.ceil(users / SPAWN_RATE) + STEADY_AFTER
        print(
            f"locust: {users} users ({', '.join(f'{n} {kind}s' for kind, n in plan['people'].items())}; "
            f"clicks {plan['click_rate']:.0f}/s; LOAD_SCALE {SCALE:g}) for {SECONDS} s after {ramp} s of ramp "
            f"(at most {MAX_REQUESTS} requests); logs in {logs}",
            flush=True,
        )
        cpu_before = cpu_seconds(processes, emulator)
        subprocess.run(
            [
                str(bin_dir / "locust"),
                "-f",
                str(ROOT / "bench/load/locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(SPAWN_RATE),
                "--run-time",
                f"{SECONDS + ramp}s",
                "--csv",
                prefix,
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={
                **env,
                "LOAD_PLAN": str(plan_file),
                "LOAD_MAX_REQUESTS": str(MAX_REQUESTS),
                "LOAD_STEADY_AFTER": str(STEADY_AFTER),
            },
            check=False,
            stdout=subprocess.DEVNULL,
        )
        cpu = {name: cpu_seconds(processes, emulator).get(name, 0.0) - spent for name, spent in cpu_before.items()}
        rows = stats(prefix)
        with open("/proc/loadavg") as loadavg:
            load = loadavg.read().split()[0]
        print(f"{'page':24} {'requests':>8} {'errors':>6} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)  load {load}")
        ok = True
        for row in sorted(rows, key=lambda r: r["Name"]):
            # A page not asked for in the window (a small LOAD_SCALE, a short run) has no
            # percentiles ("N/A"): its goal is not shown, so it counts as missed.
            asked = int(row["Request Count"]) > 0
            miss = not asked or int(row["Failure Count"]) > 0 or float(row["95%"]) >= P95_GOAL_MS
            ok &= not miss
            verdict = "" if not miss else "  <- goal missed" if asked else "  <- not asked for in the window"
            print(
                f"{row['Name']:24} {row['Request Count']:>8} {row['Failure Count']:>6} {row['50%']:>6} "
                f"{row['95%']:>6} {row['99%']:>6}{verdict}"
            )
        errors = sum(int(r["Failure Count"]) for r in rows)
        print(f"errors: {errors}")
        # Where the time went: CPU seconds of each process kind over the run, against the
        # machine's whole CPU time (every core) in the same interval.
        machine = cpu["machine"]
        print("CPU over the run (s): " + ", ".join(f"{name} {spent:.0f}" for name, spent in cpu.items()))
        print(
            f"  share of the machine's CPU: web {(cpu['web1'] + cpu['web2']) / machine:.0%}, locust "
            f"{cpu['locust'] / machine:.0%}, postgres (all) {cpu['postgres'] / machine:.0%}, "
            f"network emulator {cpu['emulator'] / machine:.0%}"
        )
        # The web processes still hold requests locust sent before it stopped (queued for
        # seconds at this load): an officer's approval committed after the check would never
        # be waited for. Stop them gracefully (gunicorn finishes what it accepted), then drain.
        for name, process in processes:
            if name.startswith("web"):
                process.terminate()
        for name, process in processes:
            if name.startswith("web"):
                process.wait(timeout=60)
        once = published_exactly_once(plan["org"], emulator, since)
        print(f"every approved share of the run published exactly once: {'yes' if once else 'NO'}")
        return 0 if ok and once else 1
    finally:
        for _, process in processes:
            process.terminate()
        for _, process in processes:
            process.wait(timeout=30)
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())

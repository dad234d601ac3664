"""A directory pushing 10,000 people over SCIM, against the bare layout page, in the same run.

    .venv/bin/python bench/scim.py

Starts the app under gunicorn (2 workers x 4 threads, a free loopback port, the benchmark
database of bench/_setup.py) and drives it over real HTTP from 4 threads the way Okta does:
for each of 10,000 users a lookup (`GET /Users?filter=userName eq "..."`, nothing found) then
a `POST /Users` (with a department); then 20 groups created and filled with `PATCH members add`
in batches of 100, 1,000 user PATCHes (half an Okta deactivation, half an Entra department
move), 200 member removals by filter path, and list pages of 100. The organization home (the
bare layout page) is requested between them all along, so drift hits both sides.

Prints p50 / p95 per request kind and the ratio of each p50 to the bare page's, then the
queries each kind costs (measured in-process on a sample with Django's test client). Exits 1
when any kind's p95 reaches 200 ms. Each run uses a new organization (slug `bench-scim-<time>`).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from urllib.parse import quote

from _setup import ROOT, setup_django
from redirect import free_port

USERS = int(os.environ.get("BENCH_SCIM_USERS", "10000"))
GROUPS = 20
BATCH = 100
THREADS = 4
WORKERS, SERVER_THREADS = 2, 4
BARE_EVERY = 10  # one bare page request after this many SCIM requests, per thread
LIMIT_MS = 200.0
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def seed(stamp: str):
    from django.test import Client

    from accounts.models import Membership, Organization, User
    from accounts.services.scim import create_scim_token

    org = Organization.objects.create(slug=f"bench-scim-{stamp}", name="Bench SCIM")
    admin = User.objects.create_user(email=f"admin@bench-scim-{stamp}.example", password=None)
    membership = Membership.objects.create(organization=org, user=admin, is_admin=True)
    _, plain = create_scim_token(actor=membership, name="Bench directory")
    client = Client()
    client.force_login(admin)
    return org, admin, plain, client.cookies["sessionid"].value


class Driver:
    """Keep-alive HTTP connections, one per thread; every request timed by kind."""

    def __init__(self, port: int, base: str, token: str, session: str, bare: str):
        self.port, self.base, self.bare = port, base, bare
        self.scim_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        self.page_headers = {"Cookie": f"sessionid={session}"}
        self.times: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.local.count = 0
        return self.local.conn

    def request(self, kind: str, method: str, path: str, body=None, expect=(200,)):
        conn = self._connection()
        headers = self.page_headers if kind == "bare page" else self.scim_headers
        data = json.dumps(body) if body is not None else None
        url = path if kind == "bare page" else f"{self.base}/{path}"
        started = time.perf_counter()
        conn.request(method, url, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        if response.status not in expect:
            raise SystemExit(f"{method} {url} answered {response.status}: {payload[:300]!r}")
        with self.lock:
            self.times[kind].append(elapsed)
        self.local.count += 1
        if kind != "bare page" and self.local.count % BARE_EVERY == 0:
            self.request("bare page", "GET", self.bare)
        return json.loads(payload) if payload and kind != "bare page" else None

    def run(self, jobs: list) -> list:
        """Run callables from THREADS threads; their results in order."""
        results: list = [None] * len(jobs)
        work: queue.Queue = queue.Queue()
        for item in enumerate(jobs):
            work.put(item)
        errors: list[BaseException] = []

        def worker():
            while not errors:
                try:
                    index, job = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = job()
                except BaseException as error:  # reported once the threads are joined
                    errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return results


def user(stamp: str, n: int) -> dict:
    email = f"person{n:05d}@bench-scim-{stamp}.example"
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": email,
        "externalId": f"00u{n:08d}",
        "name": {"givenName": f"Given{n}", "familyName": f"Family{n}"},
        "emails": [{"primary": True, "type": "work", "value": email}],
        "active": True,
        ENTERPRISE: {"department": f"Department {n % 25}"},
    }


def push(driver: Driver, stamp: str) -> tuple[list[str], list[str]]:
    def one(n: int):
        body = user(stamp, n)
        lookup = driver.request("GET filter", "GET", "Users?filter=" + quote(f'userName eq "{body["userName"]}"'))
        if lookup["totalResults"]:
            raise SystemExit(f"{body['userName']} exists before its push")
        return driver.request("POST user", "POST", "Users", body, expect=(201,))["id"]

    user_ids = driver.run([lambda n=n: one(n) for n in range(USERS)])
    group_ids = driver.run(
        [
            lambda g=g: driver.request("POST group", "POST", "Groups", {"displayName": f"Group {g}"}, expect=(201,))[
                "id"
            ]
            for g in range(GROUPS)
        ]
    )
    batches = [user_ids[i : i + BATCH] for i in range(0, len(user_ids), BATCH)]
    driver.run(
        [
            lambda i=i, batch=batch: driver.request(
                "PATCH group add",
                "PATCH",
                f"Groups/{group_ids[i % GROUPS]}",
                {"Operations": [{"op": "add", "path": "members", "value": [{"value": v} for v in batch]}]},
            )
            for i, batch in enumerate(batches)
        ]
    )
    moves = []
    for n, uid in enumerate(user_ids[:1000]):
        if n % 2:
            ops = [{"op": "replace", "value": {"active": False}}]  # Okta
        else:
            ops = [
                {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": f"Department {(n + 1) % 25}"}
            ]  # Entra
        moves.append(
            lambda uid=uid, ops=ops: driver.request("PATCH user", "PATCH", f"Users/{uid}", {"Operations": ops})
        )
    driver.run(moves)
    removals = []
    for n, uid in enumerate(user_ids[: min(200, len(user_ids))]):
        group = group_ids[(n // BATCH) % GROUPS]
        ops = [{"op": "remove", "path": f'members[value eq "{uid}"]'}]
        removals.append(
            lambda g=group, ops=ops: driver.request("PATCH group remove", "PATCH", f"Groups/{g}", {"Operations": ops})
        )
    driver.run(removals)
    driver.run(
        [
            lambda s=s: driver.request("GET list page", "GET", f"Users?startIndex={s}&count=100")
            for s in range(1, min(USERS, 5000), 100)
        ]
    )
    return user_ids, group_ids


def queries_per_kind(org, token: str, stamp: str, user_ids: list[str], group_ids: list[str]) -> dict[str, int]:
    """The queries of one request of each kind, in-process (the same code the server runs)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = f"/scim/v2/o/{org.slug}"

    def count(method, path, body=None) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.generic(
                method,
                f"{base}/{path}",
                json.dumps(body) if body else "",
                content_type="application/scim+json",
                **headers,
            )
        if response.status_code >= 300:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.content[:200]!r}")
        return len(captured)

    extra = user(stamp, USERS + 1)
    return {
        "GET filter": count("GET", "Users?filter=" + quote('userName eq "nobody@example.com"')),
        "POST user": count("POST", "Users", extra),
        "PATCH user": count(
            "PATCH", f"Users/{user_ids[-1]}", {"Operations": [{"op": "replace", "value": {"title": "x"}}]}
        ),
        "PATCH group add": count(
            "PATCH",
            f"Groups/{group_ids[-1]}",
            {"Operations": [{"op": "add", "path": "members", "value": [{"value": v} for v in user_ids[-BATCH:]]}]},
        ),
        "GET list page": count("GET", "Users?startIndex=1&count=100"),
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def main() -> int:
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
    os.environ["ALLOWED_HOSTS"] += ",127.0.0.1"
    setup_django()
    stamp = time.strftime("%Y%m%d%H%M%S")
    org, _, token, session = seed(stamp)
    port = free_port()
    env = {**os.environ, "DB_CONN_MAX_AGE": "60", "PYTHONWARNINGS": "ignore:No directory at:UserWarning"}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "advocacy.wsgi:application",
            "--pythonpath", str(ROOT), "--bind", f"127.0.0.1:{port}",
            "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", str(SERVER_THREADS),
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    driver = Driver(port, f"/scim/v2/o/{org.slug}", token, session, f"/o/{org.slug}/")
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                driver.request("warm-up", "GET", "ServiceProviderConfig")
                break
            except OSError:
                driver.local.conn = None
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        for _ in range(20):
            driver.request("bare page", "GET", driver.bare)
        driver.times.clear()
        user_ids, group_ids = push(driver, stamp)
    finally:
        server.terminate()
        server.wait(timeout=30)
    took = time.monotonic() - started
    bare = statistics.median(driver.times["bare page"]) * 1e3
    print(
        f"{USERS:,} users pushed over HTTP in {took:.0f} s (gunicorn {WORKERS}x{SERVER_THREADS}, "
        f"{THREADS} client threads); bare page p50 {bare:.1f} ms"
    )
    failed = []
    for kind, values in driver.times.items():
        p50, high = statistics.median(values) * 1e3, p95(values) * 1e3
        print(f"{kind:<18} n={len(values):>6}  p50 {p50:7.1f} ms  p95 {high:7.1f} ms  p50 / bare {p50 / bare:5.2f}x")
        if high >= LIMIT_MS and kind != "bare page":
            failed.append(kind)
    counts = queries_per_kind(org, token, stamp, user_ids, group_ids)
    print("queries per request: " + ", ".join(f"{kind} {n}" for kind, n in counts.items()))
    if failed:
        print(f"p95 reached {LIMIT_MS:.0f} ms for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

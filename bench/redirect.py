"""The tracked link `/r/<code>` under load, against a bare Django redirect, in the same run.

    .venv/bin/python bench/redirect.py

Starts the app under gunicorn on a free loopback port (the benchmark database of
bench/_setup.py; Redis from BENCH_REDIS_URL, else REDIS_URL, else redis://127.0.0.1:6379/15),
seeds one delivery, and drives with `wrk` (Debian's; `make wrk` installs it), alternately,
`/r/<code>` (a browser's user agent, so every request is a counted click: cached link
lookup, visitor hash, one RPUSH) and a bare view that only answers a redirect
(`bench/_redirect_urls.py`, a URLconf only this server uses). Prints requests/s and p99
of each, the ratio, then flushes the buffered clicks into PostgreSQL and prints that rate.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

from _setup import ROOT, setup_django

CODE = "benchRedir01"
SLUG = "bench-redirect"
ROUNDS = 5
SECONDS = 4
CONNECTIONS = 16
WORKERS, THREADS = 2, 4
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def seed():
    from accounts.models import Organization, User
    from content.models import ContentItem, Delivery, Share

    org, _ = Organization.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench redirect", "timezone": "Asia/Tokyo"}
    )
    user, _ = User.objects.get_or_create(email="advocate@bench-redirect.example", defaults={"password": "!"})
    item, _ = ContentItem.objects.for_org(org).get_or_create(
        slug="bench-news",
        defaults={
            "organization": org,
            "title": "Bench news",
            "url": "https://acme.example/news/bench?ref=site",
            "status": "published",
        },
    )
    share = Share.objects.for_org(org).filter(item=item).first() or Share.objects.create(
        organization=org, item=item, author=user, commentary="Shared.", status="published"
    )
    delivery = Delivery.objects.for_org(org).filter(tracking_code=CODE).first() or Delivery.objects.create(
        organization=org, share=share, network="linkedin", text="Shared.", tracking_code=CODE, status="published"
    )
    return delivery


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(NoRedirect)
    while True:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            opener.open(url, timeout=1)
        except urllib.error.HTTPError as error:
            if error.code == 302:
                return
            raise SystemExit(f"{url} answered {error.code}") from None
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer {url} within {timeout} s") from None
            time.sleep(0.2)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, seconds: int, connections: int = CONNECTIONS) -> tuple[float, float, int]:
    """(requests/s, p99 in ms, requests) of one wrk run; fails on any non-redirect answer."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"User-Agent: {BROWSER}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, float(value) * _UNITS[unit], total


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench/redirect.py needs Debian's wrk: run `make wrk` (apt-get install wrk).", file=sys.stderr)
        return 2
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
    setup_django()
    from analytics.services import clicks

    delivery = seed()
    r = clicks._redis()
    try:
        r.ping()
    except OSError as error:
        raise SystemExit(f"Redis at {redis_url} does not answer ({error}); set BENCH_REDIS_URL") from None
    clicks.flush_clicks()  # leftovers of an earlier run
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "_redirect_settings",
        "DB_CONN_MAX_AGE": "60",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",  # no collectstatic for a benchmark
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "advocacy.wsgi:application",
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    tracked, bare = f"{base}/r/{delivery.tracking_code}", f"{base}/bench/bare-redirect"
    results: dict[str, list[tuple[float, float, int]]] = {tracked: [], bare: []}
    try:
        wait_until_up(bare, server)
        wait_until_up(tracked, server)
        for url in (tracked, bare):
            wrk(url, 2)  # warm-up: every worker has loaded the link and opened its connections
        for i in range(ROUNDS):
            for url in (tracked, bare) if i % 2 == 0 else (bare, tracked):
                results[url].append(wrk(url, SECONDS))
    finally:
        server.terminate()
        server.wait(timeout=30)

    def summary(url):
        runs = results[url]
        return statistics.median(x[0] for x in runs), statistics.median(x[1] for x in runs)

    (t_rps, t_p99), (b_rps, b_p99) = summary(tracked), summary(bare)
    print(
        f"gunicorn {WORKERS} workers x {THREADS} threads; wrk 1 thread, {CONNECTIONS} connections, "
        f"{ROUNDS} alternating rounds of {SECONDS} s (medians of the rounds)"
    )
    print(f"/r/<code> (counted click)  {t_rps:9.0f} req/s  p99 {t_p99:7.2f} ms")
    print(f"bare Django redirect       {b_rps:9.0f} req/s  p99 {b_p99:7.2f} ms")
    print(f"ratio tracked / bare       {t_rps / b_rps:9.2f} (req/s)  p99 {t_p99 / b_p99:5.2f}x")

    waiting = clicks.buffered_count()
    start = time.perf_counter()
    written = 0
    while clicks.buffered_count():
        written += clicks.flush_clicks().clicks
    elapsed = time.perf_counter() - start
    print(f"flush: {written} buffered clicks into PostgreSQL + rollups in {elapsed:.1f} s ({written / elapsed:.0f}/s)")
    if written != waiting:
        print(f"warning: {waiting} clicks were buffered, {written} written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

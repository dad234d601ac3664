"""The tracked link `/r/<code>` under load, against a bare Django redirect, in the same run.

    .venv/bin/python bench/redirect.py

Starts the app under gunicorn on a free loopback port (the benchmark database of
bench/_setup.py; Redis from BENCH_REDIS_URL, else REDIS_URL, else redis://127.0.0.1:6379/15),
seeds one delivery, and drives with `wrk` (Debian's; `make wrk` installs it), alternately,
`/r/<code>` (a browser's user agent, so every request is a counted click: cached link
lookup, visitor hash, one RPUSH) and a bare view that only answers a redirect
(`bench/_redirect_urls.py`, a URLconf only this server uses). Prints requests/s and p99
of each, the ratio, then flushes the buffered clicks into PostgreSQL, prints that rate, and
checks that every tracked request wrk got an answer to was written, once. Exits 1 when a
click was lost or counted twice, or when the goal (GOAL, both ratios) is missed.
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
ROUNDS = 9
SECONDS = 4
CONNECTIONS = 16
WORKERS, THREADS = 2, 4
GOAL = 0.9  # tracked / bare, at least: the per-pair median and the CPU ratio (issue 21)
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


def server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's workers (the master's children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):  # a process that just ended
            continue
        if int(fields[1]) == master:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


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
        warm_up_clicks = wrk(tracked, 2)[2]  # warm-up: every worker has loaded the link...
        wrk(bare, 2)  # ...and opened its connections (urllib's probes above are not counted: a bot)
        cpu: dict[str, list[float]] = {tracked: [], bare: []}  # server CPU seconds per request
        for i in range(ROUNDS):
            for url in (tracked, bare) if i % 2 == 0 else (bare, tracked):
                before = server_cpu_seconds(server.pid)
                results[url].append(wrk(url, SECONDS))
                cpu[url].append((server_cpu_seconds(server.pid) - before) / results[url][-1][2])
    finally:
        server.terminate()  # a graceful stop: each worker pushes its hand-off at exit
        server.wait(timeout=30)

    def summary(url):
        runs = results[url]
        return statistics.median(x[0] for x in runs), statistics.median(x[1] for x in runs)

    (t_rps, t_p99), (b_rps, b_p99) = summary(tracked), summary(bare)
    print(
        f"gunicorn {WORKERS} workers x {THREADS} threads; wrk 1 thread, {CONNECTIONS} connections, "
        f"{ROUNDS} alternating rounds of {SECONDS} s (medians of the rounds)"
    )
    for url, label in ((tracked, "tracked"), (bare, "bare")):
        print(f"  {label:8} rounds: " + ", ".join(f"{run[0]:.0f}" for run in results[url]) + " req/s")
    print(f"/r/<code> (counted click)  {t_rps:9.0f} req/s  p99 {t_p99:7.2f} ms")
    print(f"bare Django redirect       {b_rps:9.0f} req/s  p99 {b_p99:7.2f} ms")
    print(f"ratio tracked / bare       {t_rps / b_rps:9.2f} (req/s)  p99 {t_p99 / b_p99:5.2f}x")
    # Each round's pair ran back to back: their ratio is steadier than the ratio of the
    # medians when the machine's speed drifts (a shared virtual machine).
    pairs = [t[0] / b[0] for t, b in zip(results[tracked], results[bare], strict=True)]
    low, high = min(pairs), max(pairs)
    print(f"ratio per round pair       {statistics.median(pairs):9.2f} (median; min {low:.2f}, max {high:.2f})")
    # What a request costs the server, whatever the machine's speed did meanwhile: the workers'
    # CPU time over the requests answered. bare / tracked is the throughput ratio a CPU-bound
    # server reaches (and is steady where requests per second are not).
    t_cpu, b_cpu = statistics.median(cpu[tracked]), statistics.median(cpu[bare])
    print(f"server CPU per request     tracked {t_cpu * 1e6:6.0f} us  bare {b_cpu * 1e6:6.0f} us")
    print(f"ratio bare / tracked CPU   {b_cpu / t_cpu:9.2f}")
    met = statistics.median(pairs) >= GOAL and b_cpu / t_cpu >= GOAL
    print(f"goal     per-pair median and CPU ratio >= {GOAL:.1f}: {'met' if met else 'MISSED'}")

    waiting = clicks.buffered_count()
    start = time.perf_counter()
    written = discarded = 0
    while clicks.buffered_count():
        outcome = clicks.flush_clicks()
        # Every wrk request comes from one address: beyond CLICK_RATE_PER_IP_MINUTE a minute
        # they are written as discarded (issue 15, point 4), still written once each.
        written += outcome.clicks + outcome.discarded
        discarded += outcome.discarded
    elapsed = time.perf_counter() - start
    print(f"flush: {written} buffered clicks into PostgreSQL + rollups in {elapsed:.1f} s ({written / elapsed:.0f}/s)")
    print(f"       of which {discarded} discarded (over the per-address rate)")
    # wrk counts the answers it read; when a run's time is up it drops the requests still in
    # flight (at most one per connection), which the server answered and counted anyway.
    sent = warm_up_clicks + sum(run[2] for run in results[tracked])
    in_flight = CONNECTIONS * (1 + ROUNDS)
    print(f"clicks: {sent} answers read by wrk (+ at most {in_flight} in flight), {written} written")
    if not (written == waiting and sent <= written <= sent + in_flight):
        print("error: clicks were lost or counted twice", file=sys.stderr)
        return 1
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

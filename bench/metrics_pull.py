"""API calls of metrics pull rounds for 1,000 published deliveries, per network against
its limit (issue 21), in the same run.

    .venv/bin/python bench/metrics_pull.py

Starts the network emulator in its own process, connects 120 accounts over OAuth (60
LinkedIn members, 40 X users, 20 Facebook Pages), publishes 1,000 posts on them (450
LinkedIn, 350 X, 200 Facebook, spread unevenly over the accounts as real employees post),
records them as published deliveries in the benchmark database, moves the emulator clock
90 minutes on, and runs three rounds of `analytics.services.metrics` (enrol, claim, the
batches) in this process with a budget large enough for all: LinkedIn reads each post's
metrics in turn over three pulls (socialMetadata batch, IMPRESSION, RESHARE), so three
rounds are one whole cycle. The calls are counted by the emulator itself (`requests` per
network: every HTTP request, token calls included). Prints, per network, the calls per
post of each round, their mean and worst against the limit; Facebook also with the reads
Graph counts against its rate limits (each read inside a batch counts). Twice: LinkedIn
on a partner app (its metrics readable) and on a standard app (not available, not
asked). Exits 1 when a network's worst round is over its limit.
"""

from __future__ import annotations

import queue
import random
import subprocess
import sys
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from _setup import ROOT, setup_django

MIX = {"linkedin": (60, 450), "x": (40, 350), "facebook": (20, 200)}  # accounts, posts
LIMITS = {"linkedin": 1.0, "x": 0.02, "facebook": 0.03}  # calls per post per round (issue 21)
ROUNDS = 3  # one whole cycle of LinkedIn's turns
SECRET = "bench-secret"


def start_emulator() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "networks.emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    line = lines.get(timeout=15)
    if not line.startswith("EMULATOR LISTENING "):
        process.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return process, line.split()[-1]


def control(session, url: str, method: str, name: str, body: dict | None = None) -> dict:
    response = session.request(method, f"{url}/_emulator/{name}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def seed(session, url: str, *, partner: bool):
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Membership, NetworkApp, Organization, SocialConnection, User
    from accounts.services import connections
    from content.models import ContentItem, Delivery, Share
    from networks.base import client_for

    rng = random.Random(7)
    run = f"{int(time.time())}-{rng.randrange(10**6)}"
    for network in MIX:
        setattr(settings, f"{network.upper()}_ORIGIN", f"{url}/{network}")
        control(
            session,
            url,
            "POST",
            "apps",
            {
                "network": network,
                "client_id": f"bench-{network}",
                "client_secret": SECRET,
                "redirect_uris": [connections.callback_url(network)],
                "partner": partner or network != "linkedin",
                **({"consumer_key": "bench-x-key", "consumer_secret": SECRET} if network == "x" else {}),
            },
        )
    control(session, url, "POST", "settings", {"rate_limits": False})  # setup posts more than members may
    org = Organization.objects.create(name="Bench metrics", slug=f"bench-metrics-{run}", timezone="Europe/Paris")
    for network in MIX:
        NetworkApp.objects.create(
            organization=org,
            network=network,
            client_id=f"bench-{network}",
            client_secret=SECRET,
            **({"api_key": "bench-x-key", "api_secret": SECRET} if network == "x" else {}),
        )
    item = ContentItem.objects.create(
        organization=org, title="Launch", slug="launch", url="https://example.com/launch", status="published"
    )
    published_at = timezone.now() - timedelta(minutes=90)
    for network, (accounts, posts) in MIX.items():
        client = client_for(network, connections.network_config(org, network))
        weights = [rng.paretovariate(1.2) for _ in range(accounts)]  # a few prolific sharers, many occasional
        per_account = [1] * accounts
        for index in rng.choices(range(accounts), weights=weights, k=posts - accounts):
            per_account[index] += 1
        for n, count in enumerate(per_account):
            pages = [{"name": f"Page {n}", "tasks": ["CREATE_CONTENT", "ANALYZE"]}] if network == "facebook" else None
            body = {"network": network, "name": f"Member {n}", **({"pages": pages} if pages else {})}
            account = control(session, url, "POST", "accounts", body)
            control(session, url, "POST", "auto_approve", {"network": network, "account_id": account["id"]})
            request = client.authorization_url(state=f"s{n}")
            answer = session.get(request.url, allow_redirects=False, timeout=10)
            code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
            tokens = client.exchange_code(code=code, code_verifier=request.code_verifier)
            token, remote_id, author = tokens.access_token, account["id"], account["id"]
            if network == "facebook":
                [page] = client.managed_pages(access_token=tokens.access_token)
                token, remote_id, author = page.access_token, page.remote_id, page.remote_id
            with transaction.atomic():
                user = User.objects.create(email=f"{network}{n}-{run}@bench-metrics.example", password="!")
                Membership.objects.create(organization=org, user=user)
                connection = SocialConnection.objects.create(
                    organization=org,
                    user=user,
                    network=network,
                    kind="page" if network == "facebook" else "member",
                    remote_id=remote_id,
                    access_token=token,
                    refresh_token=tokens.refresh_token or "",
                    expires_at=None if network == "facebook" else tokens.expires_at,
                    scopes=" ".join(tokens.scopes),
                )
                for p in range(count):
                    text = f"Our launch, in my words ({n}.{p})"
                    post = client.publish(access_token=token, author_id=author, text=text)
                    share = Share.objects.create(
                        organization=org, item=item, author=user, commentary=text, status="published"
                    )
                    Delivery.objects.create(
                        organization=org,
                        share=share,
                        connection=connection,
                        network=network,
                        mode="api",
                        text=text,
                        status="published",
                        remote_id=post.remote_id,
                        remote_url=post.url,
                        published_at=published_at,
                    )
    return org


def rounds(session, url: str, *, partner: bool) -> dict:
    """Seed a fresh organization on a fresh emulator and run ROUNDS rounds; the calls per
    network of each."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from analytics.models import DeliveryMetrics
    from analytics.services import metrics

    control(session, url, "POST", "reset")
    org = seed(session, url, partner=partner)
    control(session, url, "POST", "clock", {"advance": 90 * 60})  # the posts are 90 minutes old there
    now = timezone.now()
    metrics.enrol_published(now=now, organization_id=org.pk)
    with transaction.atomic():  # what one round takes with the default budgets (then released)
        default_round = metrics.claim_due(now=now, organization_id=org.pk)
        transaction.set_rollback(True)
    result = {"calls": [], "reads": [], "batches": [], "elapsed": [], "pulled": 0}
    for _ in range(ROUNDS):
        DeliveryMetrics.objects.for_org(org).update(next_pull_at=now)  # every post due again
        before = control(session, url, "GET", "state")["counters"]
        started = time.perf_counter()
        with transaction.atomic():
            batches = metrics.claim_due(now=now, budget=dict.fromkeys(MIX, 10**9), organization_id=org.pk)
        for b in batches:
            metrics.pull_batch(
                organization_id=b.organization_id,
                connection_id=b.connection_id,
                network=b.network,
                metrics_ids=b.metrics_ids,
                lease=b.lease,
            )
        result["elapsed"].append(time.perf_counter() - started)
        after = control(session, url, "GET", "state")["counters"]

        def grew(network: str, name: str, before=before, after=after) -> int:
            return after.get(network, {}).get(name, 0) - before.get(network, {}).get(name, 0)

        result["calls"].append({n: grew(n, "requests") for n in MIX})
        result["reads"].append({n: grew(n, "metrics_reads") for n in MIX})
        result["batches"].append(len(batches))
    result["pulled"] = DeliveryMetrics.objects.for_org(org).filter(pulls=ROUNDS).count()
    result["default_round"] = sum(len(b.metrics_ids) for b in default_round)
    result["budgets"] = dict(sorted(settings.METRICS_CALLS_PER_ROUND.items()))
    return result


def report(title: str, result: dict) -> bool:
    """Print the figures; False when a network's worst round is over its limit."""
    deliveries = sum(posts for _, posts in MIX.values())
    print(f"{title}: {result['pulled']} of {deliveries} deliveries pulled {ROUNDS} times")
    print(f"  batches (tasks) per round: {result['batches']}")
    head = " ".join(f"{'round ' + str(r + 1):>9}" for r in range(ROUNDS))
    print(f"  {'network':<9} {'posts':>5} {'accts':>5} {head} {'mean':>6} {'worst':>6} {'limit':>6}  verdict")
    within = True
    for network, (accounts, posts) in MIX.items():
        ratios = [calls[network] / posts for calls in result["calls"]]
        worst, mean = max(ratios), sum(ratios) / len(ratios)
        ok = worst <= LIMITS[network]
        within &= ok
        cells = " ".join(f"{c[network]:>3}={r:.3f}".rjust(9) for c, r in zip(result["calls"], ratios, strict=True))
        print(
            f"  {network:<9} {posts:>5} {accounts:>5} {cells} {mean:>6.3f} {worst:>6.3f} {LIMITS[network]:>6.3f}"
            f"  {'within' if ok else 'OVER'}"
        )
    reads = [r["facebook"] / MIX["facebook"][1] for r in result["reads"]]
    print(
        f"  facebook reads Graph counts against its rate limits (each read inside a batch): "
        f"{', '.join(f'{r:.3f}' for r in reads)} per post per round"
    )
    print(f"  x lookups answered per round: {[r['x'] for r in result['reads']]} (the rest of its calls: the token)")
    total = [sum(calls.values()) for calls in result["calls"]]
    print(f"  HTTP calls per round, all networks: {total} for {deliveries} posts (naive: one call per post)")
    print(
        f"  default budgets {result['budgets']}: one round takes {result['default_round']} of {deliveries} due "
        f"posts; the rounds took {', '.join(f'{e:.1f}' for e in result['elapsed'])} s here"
    )
    return within


def main() -> None:
    setup_django()
    import requests

    process, url = start_emulator()
    session = requests.Session()
    try:
        partner = rounds(session, url, partner=True)
        basic = rounds(session, url, partner=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
    with open("/proc/loadavg") as load:
        print(f"load average: {load.read().split()[:3]}")
    ok = report("LinkedIn partner app (may read metrics)", partner)
    ok &= report("LinkedIn standard app (no metric scopes: not available, not asked)", basic)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

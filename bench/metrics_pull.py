"""HTTP calls one metrics pull round makes for 1,000 published deliveries, against one
call per post (the naive count), in the same run.

    .venv/bin/python bench/metrics_pull.py

Starts the network emulator in its own process, connects 120 accounts over OAuth (60
LinkedIn members, 40 X users, 20 Facebook Pages), publishes 1,000 posts on them (450
LinkedIn, 350 X, 200 Facebook, spread unevenly over the accounts as real employees post),
records them as published deliveries in the benchmark database, moves the emulator clock
90 minutes on, and runs one round of `analytics.services.metrics` (enrol, claim, one batch
per account) in this process with a budget large enough for all. The calls are counted by
the emulator itself (`requests` per network, from its state). Twice: with LinkedIn on a
partner app (its metrics readable) and on a standard app (LinkedIn metrics not available).
Also prints how many posts one round takes with the default per-network budgets.
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
            },
        )
    control(session, url, "POST", "settings", {"rate_limits": False})  # setup posts more than members may
    org = Organization.objects.create(name="Bench metrics", slug=f"bench-metrics-{run}", timezone="Europe/Paris")
    for network in MIX:
        NetworkApp.objects.create(organization=org, network=network, client_id=f"bench-{network}", client_secret=SECRET)
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


def one_round(session, url: str, *, partner: bool) -> dict:
    """Seed a fresh organization on a fresh emulator and run one round; the calls per network."""
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
    elapsed = time.perf_counter() - started
    after = control(session, url, "GET", "state")["counters"]
    return {
        "calls": {n: after.get(n, {}).get("requests", 0) - before.get(n, {}).get("requests", 0) for n in MIX},
        "pulled": DeliveryMetrics.objects.for_org(org).filter(pulls=1).count(),
        "batches": len(batches),
        "default_round": sum(len(b.metrics_ids) for b in default_round),
        "budgets": dict(sorted(settings.METRICS_CALLS_PER_ROUND.items())),
        "elapsed": elapsed,
    }


def report(title: str, result: dict) -> None:
    deliveries = sum(posts for _, posts in MIX.values())
    print(f"{title}: {result['pulled']} of {deliveries} deliveries pulled in {result['batches']} batches")
    print(f"  {'network':<10} {'posts':>6} {'accounts':>9} {'calls':>6} {'naive':>6} {'ratio':>6}")
    for network, (accounts, posts) in MIX.items():
        calls = result["calls"][network]
        print(f"  {network:<10} {posts:>6} {accounts:>9} {calls:>6} {posts:>6} {calls / posts:>6.3f}")
    per_thousand = sum(result["calls"].values()) * 1000 / deliveries
    print(
        f"  API calls per 1,000 deliveries per round: {per_thousand:.0f} vs naive 1,000 "
        f"(one call per post): ratio {per_thousand / 1000:.3f}"
    )
    print(
        f"  default budgets {result['budgets']}: one round takes {result['default_round']} of {deliveries} due "
        f"posts (the rest stay due for the next rounds); the full round took {result['elapsed']:.1f} s here"
    )


def main() -> None:
    setup_django()
    import requests

    process, url = start_emulator()
    session = requests.Session()
    try:
        partner = one_round(session, url, partner=True)
        basic = one_round(session, url, partner=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
    report("LinkedIn partner app (may read metrics)", partner)
    report("LinkedIn standard app (no metric scopes: not available, not asked)", basic)


if __name__ == "__main__":
    main()

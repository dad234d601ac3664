"""The archive export at size: time, and memory against the process's own baseline.

    .venv/bin/python bench/archive.py

Seeds (once, then reused) an organization with 100,000 shares, each with two versions, a
screening, a decision and two deliveries (700,000 rows), and 100,000 chained audit
entries, in the benchmark database (bench/_setup.py). Then, in this process:

* baseline: the resident memory (VmRSS) after Django is set up and the seed is checked,
  and the time to stream the same rows raw (COPY ... TO STDOUT of the five tables, the
  floor any export pays);
* the export: `compliance.services.archive.build_export` for the range, while a thread
  samples VmRSS every 10 ms; prints its time, the peak RSS, the ratio peak / baseline,
  and the time ratio export / raw stream;
* `verify_chain` over the 100,000 audit entries: time and peak RSS.
"""

from __future__ import annotations

import datetime
import os
import resource
import shutil
import sys
import tempfile
import threading
import time

from _setup import setup_django

SHARES = 100_000
BATCH = 5_000
SLUG = "bench-archive"


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """The highest VmRSS seen while the block runs (sampled every 10 ms)."""

    def __enter__(self):
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def seed():
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Organization, User
    from compliance.models import AuditEntry, Decision, Screening
    from compliance.services.audit import GENESIS_HASH, compute_hash, signing_keys
    from content.models import ContentItem, Delivery, Share, ShareVersion

    org, _ = Organization.objects.get_or_create(slug=SLUG, defaults={"name": "Bench archive", "timezone": "UTC"})
    if Share.objects.for_org(org).count() == SHARES:
        return org
    if Share.objects.for_org(org).exists():
        sys.exit(f"The benchmark database holds a partial seed of {SLUG}; drop advocacy_bench and run again.")
    print(f"seeding {SHARES:,} shares (once; reused by later runs)...", flush=True)
    started = time.perf_counter()
    with transaction.atomic():
        authors = User.objects.bulk_create(User(email=f"a{i}@bench-archive.example", password="!") for i in range(200))
        reviewer = User.objects.create(email="officer@bench-archive.example", password="!")
        items = ContentItem.objects.bulk_create(
            ContentItem(organization=org, title=f"News {i}", slug=f"news-{i}", url=f"https://example.com/{i}")
            for i in range(100)
        )
        now = timezone.now()
        for start in range(0, SHARES, BATCH):
            shares = Share.objects.bulk_create(
                Share(
                    organization=org,
                    item=items[n % len(items)],
                    author=authors[n % len(authors)],
                    commentary=f"Second thoughts on news {n}, with a comma and a ✓",
                    version=2,
                    status="published",
                    submitted_at=now,
                )
                for n in range(start, min(start + BATCH, SHARES))
            )
            versions = ShareVersion.objects.bulk_create(
                ShareVersion(organization=org, share=s, number=v, commentary=f"Version {v} of share {s.pk}")
                for s in shares
                for v in (1, 2)
            )
            Screening.objects.bulk_create(
                Screening(
                    organization=org,
                    share_id=v.share_id,
                    version=v,
                    findings={
                        "x": [{"rule": "guarantee", "action": "review", "message": "Promise", "start": 3, "end": 12}]
                    },
                    texts={"x": v.commentary},
                    worst_action="review",
                    outcome="in_review",
                )
                for v in versions[::2]
            )
            Decision.objects.bulk_create(
                Decision(organization=org, share=s, version=2, outcome="approved", reviewer=reviewer, decided_at=now)
                for s in shares
            )
            Delivery.objects.bulk_create(
                Delivery(
                    organization=org,
                    share=s,
                    network=network,
                    mode="api",
                    text=f"{s.commentary}\n\nhttps://go.example/r/{s.pk}{network}",
                    status="published",
                    remote_id=f"{network}-{s.pk}",
                    remote_url=f"https://{network}.example/p/{s.pk}",
                    published_at=now,
                    approved_text_hash="ab" * 32,
                )
                for s in shares
                for network in ("x", "linkedin")
            )
        previous = GENESIS_HASH
        key_id = signing_keys()[0][0]  # signed as the product signs (an unset key_id is the column's default)
        for start in range(0, SHARES, BATCH):
            batch = []
            for n in range(start, start + BATCH):
                entry = AuditEntry(
                    organization=org,
                    sequence=n + 1,
                    at=now,
                    actor_label="bench",
                    action="share.submitted",
                    target_type="content.share",
                    target_id=str(n),
                    after={"version": 1, "commentary": f"words {n}"},
                    previous_hash=previous,
                    key_id=key_id,
                )
                entry.hash = previous = compute_hash(entry)
                batch.append(entry)
            AuditEntry.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a load; fresh statistics for the planner
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return org


def raw_stream_seconds(org) -> float:
    """COPY the rows the export reads to nowhere: the floor of any export."""
    from django.db import connection

    tables = ["content_share", "content_shareversion", "content_delivery", "compliance_screening"]
    tables += ["compliance_decision", "compliance_auditentry"]
    started = time.perf_counter()
    with connection.cursor() as cursor, open(os.devnull, "wb") as sink:
        for table in tables:  # psycopg 3's COPY: the rows come in blocks, written to nowhere
            with cursor.cursor.copy(
                f"COPY (SELECT * FROM {table} WHERE organization_id = {int(org.pk)}) TO STDOUT"
            ) as copy:
                for block in copy:
                    sink.write(block)
    return time.perf_counter() - started


def main() -> int:
    setup_django()
    from django.conf import settings
    from django.utils import timezone

    from compliance.models import ArchiveExport
    from compliance.services import archive
    from compliance.services.audit import verify_chain

    org = seed()
    media = tempfile.mkdtemp(prefix="bench-archive-media-")
    settings.MEDIA_ROOT = media
    try:
        raw = min(raw_stream_seconds(org) for _ in range(2))
        today = timezone.now().date()
        export = ArchiveExport.objects.create(
            organization=org, date_from=today - datetime.timedelta(days=3650), date_to=today
        )
        baseline = rss_mb()
        with PeakSampler() as sampler:
            started = time.perf_counter()
            export = archive.build_export(export_id=export.pk, organization_id=org.pk)
            elapsed = time.perf_counter() - started
        size_mb = os.path.getsize(export.file.path) / 1024 / 1024
        print(f"export: {export.total_shares:,} shares, zip {size_mb:.1f} MB, status {export.status}")
        print(f"export time: {elapsed:.1f} s  raw stream of the same rows: {raw:.1f} s  ratio {elapsed / raw:.1f}")
        print(
            f"export memory: baseline RSS {baseline:.0f} MB  peak RSS {sampler.peak:.0f} MB  "
            f"ratio peak/baseline {sampler.peak / baseline:.2f}  (growth {sampler.peak - baseline:.0f} MB)"
        )
        before_verify = rss_mb()
        with PeakSampler() as sampler:
            started = time.perf_counter()
            broken = verify_chain(org)
            elapsed = time.perf_counter() - started
        print(
            f"verify_chain: {SHARES:,} entries in {elapsed:.1f} s, {'intact' if broken is None else broken}; "
            f"RSS {before_verify:.0f} -> peak {sampler.peak:.0f} MB"
        )
        print(f"process peak (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if broken is not None:
            print(
                f"the seeded chain does not verify: seeded under other keys than var/bench-secrets.json's? "
                f"Delete the organization {SLUG} from the benchmark database (or drop it) and run again."
            )
            return 1
        return 0
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

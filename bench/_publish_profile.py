"""Where a delivery's worker CPU goes: the engine and the batch in one process, without Celery.

    BENCH_DATABASE_URL=... REDIS_URL=... CELERY_BROKER_URL=... .venv/bin/python bench/_publish_profile.py

Sets up what bench/publish.py sets up (its emulator, OAuth connections, due deliveries) with
no network latency, then publishes `PROFILE_N` (default 150) deliveries one after the other,
one `engine.publish` each, then in batches of `PROFILE_BATCH` (default PUBLISH_BATCH_SIZE,
`batch.publish_many`): CPU per delivery (`time.process_time`, without the profiler) and SQL
statements per delivery of both, then the batches again under cProfile and its summary
(`PROFILE_SORT`, default tottime; `PROFILE_BATCH=1` profiles the engine).
A helper (leading underscore): `make bench` does not run it.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

N = int(os.environ.get("PROFILE_N", "150"))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import publish as bench  # noqa: E402  (bench/publish.py: its emulator, seed and make_due)


def main() -> int:
    emulator = bench.Emulator()
    env = bench.configure(emulator)
    os.environ["DB_CONN_MAX_AGE"] = env["DB_CONN_MAX_AGE"]
    from _setup import setup_django

    setup_django()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from advocacy import audit
    from content.models import Delivery
    from content.services.publishing.batch import publish_many
    from content.services.publishing.engine import publish

    size = int(os.environ.get("PROFILE_BATCH") or settings.PUBLISH_BATCH_SIZE)

    try:
        emulator.control("POST", "settings", {"rate_limits": False})
        bench.register_apps(emulator)
        world = bench.seed(emulator, "profile", bench.ACCOUNTS_PER_NETWORK)
        statements: Counter[str] = Counter()
        trace: list[str] | None = None  # one delivery's statements, when PROFILE_SQL is set

        def count(execute, sql, params, many, context):
            statements[sql.split(None, 1)[0].upper()] += 1
            if trace is not None:
                trace.append(sql[:160])
            return execute(sql, params, many, context)

        def rounds(tag: str, profiler: cProfile.Profile | None, size: int) -> tuple[float, int]:
            cache.clear()  # the rate limiter's windows start empty
            ids = bench.make_due([world], N, tag=tag)
            statements.clear()
            words: Counter[str] = Counter()
            with (
                connection.execute_wrapper(count),
                audit.acting_as(label="publish_delivery"),
                contextlib.redirect_stdout(io.StringIO()),  # the console mail backend's e-mails
            ):
                start = time.process_time()
                if profiler is not None:
                    profiler.enable()
                for i in range(0, len(ids), size):
                    if tag == "plain" and i == 3 * size and os.environ.get("PROFILE_SQL"):
                        nonlocal trace
                        trace = []
                    if size == 1:
                        words[publish(ids[i])] += 1
                    else:
                        words.update(publish_many(ids[i : i + size]).values())
                    if trace is not None:
                        sys.stderr.write("\n".join(trace) + f"\n({len(trace)} statements, {size} deliveries)\n")
                        trace = None
                if profiler is not None:
                    profiler.disable()
                cpu = time.process_time() - start
            published = Delivery.objects.all_organizations().filter(pk__in=ids, status="published").count()
            assert published == len(ids), (published, len(ids), words)
            return cpu / len(ids) * 1000, sum(statements.values()) / len(ids)

        rounds("warm", None, 1)  # imports, caches, the first connection
        rounds("warm-batch", None, size)
        for label, each_size in (("one engine.publish each", 1), (f"batches of {size}", size)):
            # The CPU figure moves with the machine's load: the median of a few rounds.
            runs = [
                rounds("plain" if r == 0 else f"plain{r}", None, each_size)
                for r in range(int(os.environ.get("PROFILE_RUNS", "3")))
            ]
            cpu, sql = sorted(runs)[len(runs) // 2]
            kinds = ", ".join(f"{k} {v / N:.1f}" for k, v in statements.most_common())
            each = ", ".join(f"{c:.1f}" for c, _ in runs)
            print(
                f"{N} deliveries, no latency, {label}: {cpu:.1f} ms CPU per delivery (median of {each}); "
                f"{sql:.1f} SQL statements ({kinds})"
            )
        profiler = cProfile.Profile(time.process_time)  # CPU, not the waits on PostgreSQL
        cpu_profiled, _ = rounds("profiled", profiler, size)
        print(f"under cProfile: {cpu_profiled:.1f} ms CPU per delivery")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        top = int(os.environ.get("PROFILE_TOP", "35"))
        stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(top)
        stats.sort_stats("cumulative").print_stats(top + 25)
        print(out.getvalue())
        if os.environ.get("PROFILE_DUMP"):
            stats.dump_stats(os.environ["PROFILE_DUMP"])
        from compliance.services.audit import verify_chain

        broken = verify_chain(world[0])
        print("audit chain:", "verifies" if broken is None else f"broken at {broken}")
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
